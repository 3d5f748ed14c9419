// This module is browser compatible.

import { applyLayer, type SymbolicTensor } from "./graph_node.ts";
import type { Layer } from "./layer.ts";

/**
 * What every built-in layer shares: `apply`, which adds the layer to a graph
 * being built (the functional API). A custom layer extends it and implements
 * {@linkcode Layer}: `class Scale extends LayerBase implements Layer { … }`.
 *
 * @example Usage
 * ```ts
 * import { Dense, Input, Model } from "@convnet/wasm";
 * const x = Input([4]);
 * const y = new Dense({ units: 2 }).apply(x);
 * new Model({ inputs: x, outputs: y }).outputShape; // [2]
 * ```
 */
export abstract class LayerBase {
  /**
   * Applies the layer to a symbolic tensor: checks the shape now (a wrong
   * graph fails here, naming the layer and the shape) and returns the
   * symbolic output. Applying one layer object twice shares its weights.
   *
   * @param x The input, from `Input` or another layer's `apply`.
   * @returns The output.
   * @throws {RangeError} If the layer cannot take `x`'s shape, or already belongs to a model.
   */
  apply(x: SymbolicTensor): SymbolicTensor {
    return applyLayer(this as unknown as Layer, x);
  }
}

// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";
import { checkDims, fail } from "../core/_validate.ts";
import { applyLayer, Input } from "../layers/graph_node.ts";
import type { Layer, LayerConfig, SampleShape } from "../layers/layer.ts";
import { checkUnowned, nameLayers } from "../layers/_util.ts";
import { Model, type ModelOptions } from "./model.ts";

export type { LayerSummary } from "./model.ts";

/** Options of {@linkcode Sequential}. */
export type SequentialOptions = ModelOptions;

/** A `Sequential`'s architecture: what model files store in their metadata. */
export interface ModelConfig {
  /** One sample's input shape, e.g. `[28, 28, 1]`. */
  readonly inputShape: SampleShape;
  /** The layers in order. */
  readonly layers: readonly LayerConfig[];
}

/**
 * A stack of layers applied in order: the simple case of a {@linkcode Model}
 * (the same machinery runs it). The constructor names unnamed layers,
 * checks that each layer accepts the previous one's output (a wrong stack
 * fails here, naming the layer) and initialises the weights from a seed.
 *
 * @example Usage
 * ```ts
 * import { Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, tensor } from "@convnet/wasm";
 * const model = new Sequential([
 *   new Conv2D({ filters: 8, kernelSize: 5, padding: "same" }),
 *   new ReLU(),
 *   new MaxPool2D(),
 *   new Flatten(),
 *   new Dense({ units: 10 }),
 * ], [28, 28, 1], { seed: 7 });
 * const logits = model.predict(tensor(new Float32Array(2 * 784), [2, 28, 28, 1]));
 * logits.shape; // [2, 10]
 * ```
 */
export class Sequential extends Model {
  /** The layers, in order. */
  declare readonly layers: readonly Layer[];

  /**
   * Creates a Sequential.
   *
   * @param layers The layers, fresh: a layer object belongs to one model only.
   * @param inputShape One sample's shape, e.g. `[28, 28, 1]`.
   * @param options The weight seed (an integer in [0, 2^32)) and the parameter cap.
   * @throws {TypeError} If an argument is of the wrong kind.
   * @throws {RangeError} If the shapes do not fit together (naming the layer), names repeat,
   * the seed is not an integer in [0, 2^32), or a layer already belongs to another model.
   */
  constructor(layers: readonly Layer[], inputShape: SampleShape, options: SequentialOptions = {}) {
    super(Sequential.#chain(layers, inputShape), options);
  }

  static #chain(layers: readonly Layer[], inputShape: SampleShape) {
    const fn = "Sequential";
    if (!Array.isArray(layers)) {
      fail(TypeError, fn, "layers", "a non-empty array of layers", layers);
    }
    if (layers.length === 0) fail(RangeError, fn, "layers", "a non-empty array of layers", layers);
    layers.forEach((l, i) => {
      if (l === null || typeof l !== "object" || typeof l.build !== "function") {
        fail(TypeError, fn, `layers[${i}]`, "a layer", l);
      }
    });
    checkDims(fn, "inputShape", inputShape);
    checkUnowned(fn, layers);
    nameLayers(fn, layers);
    const x = Input(inputShape);
    let y = x;
    layers.forEach((l, i) => {
      try {
        y = applyLayer(l, y);
      } catch (e) {
        throw new RangeError(
          `Sequential: layer ${i} (${l.kind} "${l.name}") cannot take input [${
            y.shape.join(", ")
          }]: ${e instanceof Error ? e.message.replace(/^[^:]*\.apply: [^:]*: /, "") : e}`,
        );
      }
    });
    return { inputs: x, outputs: y };
  }

  /** The architecture, as model files store it: the input shape and the layers in order. */
  override config(): ModelConfig {
    return { inputShape: [...this.inputShape], layers: this.layers.map((l) => l.config()) };
  }

  /**
   * Back-propagates the gradient of the loss with respect to the output,
   * adding every parameter's gradient into `Param.grad`. The first layer's
   * input gradient is not computed unless asked for.
   *
   * @param dOut The gradient, shaped like the last forward output.
   * @param options `inputGradient`: also return the gradient with respect to the input.
   * @returns The input gradient when asked for, else `null`.
   * @throws {Error} If called before `forward`.
   */
  override backward(dOut: Tensor, options: { inputGradient?: boolean } = {}): Tensor | null {
    return super.backward(dOut, options);
  }
}

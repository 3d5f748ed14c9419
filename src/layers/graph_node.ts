// This module is browser compatible.

/**
 * The functional API's building blocks: symbolic tensors that stand for a
 * model's activations while a graph is being built, and the nodes (a layer
 * applied to inputs) that connect them. `Input` starts a graph; every
 * layer's `apply` adds a node; `Model` runs the result.
 *
 * @module
 */

import { checkDims, fail } from "../core/_validate.ts";
import type { Layer, MergeLayer, SampleShape } from "./layer.ts";
import { isOwned } from "./_util.ts";

let nextId = 0;

/**
 * A placeholder for one sample's activation in a graph being built: its
 * shape (batch dimension left out) and the node that makes it. Made by
 * {@linkcode Input} and by applying a layer.
 *
 * @example Usage
 * ```ts
 * import { Conv2D, Input } from "@convnet/wasm";
 * const x = Input([28, 28, 1]);
 * const y = new Conv2D({ filters: 8, kernelSize: 3, padding: "same" }).apply(x);
 * y.shape; // [28, 28, 8]
 * ```
 */
export class SymbolicTensor {
  /** Creation order; a node's output is always newer than its inputs. */
  readonly id: number = nextId++;
  /**
   * Makes a symbolic tensor (use {@linkcode Input} or a layer's `apply`).
   *
   * @param shape One sample's shape.
   * @param node The node that makes it; `null` for a model input.
   * @param name A name, for inputs.
   */
  constructor(
    readonly shape: SampleShape,
    readonly node: GraphNode | null,
    readonly name = "",
  ) {}
}

/** A layer applied to symbolic inputs: one step of a graph. */
export interface GraphNode {
  /** The layer (one layer may be applied at several nodes: it shares its weights). */
  readonly layer: Layer | MergeLayer;
  /** Its inputs, in order. */
  readonly inputs: readonly SymbolicTensor[];
  /** Its output. */
  readonly output: SymbolicTensor;
}

/**
 * The input of a graph: a symbolic tensor of one sample's shape (the batch
 * dimension is left out).
 *
 * @example Usage
 * ```ts
 * import { Input } from "@convnet/wasm";
 * Input([32, 32, 3]).shape; // [32, 32, 3]
 * ```
 *
 * @param shape One sample's shape, positive integers.
 * @param options `name`: the input's name.
 * @returns The symbolic input.
 * @throws {TypeError | RangeError} If the shape is not an array of positive integers.
 */
export function Input(shape: SampleShape, options: { name?: string } = {}): SymbolicTensor {
  const s = checkDims("Input", "shape", shape);
  return new SymbolicTensor(s, null, options?.name ?? "");
}

/** Whether `layer` takes several inputs. */
export function isMerge(layer: Layer | MergeLayer): layer is MergeLayer {
  return (layer as MergeLayer).merge === true;
}

/** Who a layer is, for messages. */
export function who(layer: Layer | MergeLayer): string {
  return layer.name ? `${layer.kind} "${layer.name}"` : layer.kind;
}

/**
 * Applies `layer` to symbolic inputs: checks that it accepts their shapes
 * (computing its output shape, without allocating weights) and returns the
 * symbolic output. A wrong graph fails here, naming the layer and the shapes.
 */
export function applyLayer(
  layer: Layer | MergeLayer,
  inputs: SymbolicTensor | readonly SymbolicTensor[],
): SymbolicTensor {
  const fn = `${layer?.kind ?? "layer"}.apply`;
  if (isOwned(layer)) {
    throw new RangeError(
      `${fn}: ${
        who(layer)
      } already belongs to a model; a layer holds one model's weights, so create a new layer object`,
    );
  }
  const list = Array.isArray(inputs) ? inputs : [inputs];
  list.forEach((t, i) => {
    if (!(t instanceof SymbolicTensor)) {
      fail(TypeError, fn, `inputs[${i}]`, "a symbolic tensor (from Input or a layer's apply)", t);
    }
  });
  const merge = isMerge(layer);
  if (!merge && list.length !== 1) {
    throw new RangeError(`${fn}: ${who(layer)} takes one input, got ${list.length}`);
  }
  if (merge && list.length < 2) {
    throw new RangeError(`${fn}: ${who(layer)} merges two or more inputs, got ${list.length}`);
  }
  let shape: SampleShape;
  try {
    shape = merge ? layer.build(list.map((t) => t.shape)) : (layer as Layer).build(list[0]!.shape);
  } catch (e) {
    throw new RangeError(
      `${fn}: ${who(layer)} cannot take ${
        list.map((t) => `[${t.shape.join(", ")}]`).join(" and ")
      }: ${e instanceof Error ? e.message : e}`,
    );
  }
  const node: { layer: Layer | MergeLayer; inputs: SymbolicTensor[]; output: SymbolicTensor } = {
    layer,
    inputs: [...list],
    output: null as unknown as SymbolicTensor,
  };
  node.output = new SymbolicTensor(Object.freeze([...shape]), node);
  return node.output;
}

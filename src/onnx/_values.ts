// This module is browser compatible.

/**
 * The values of an ONNX graph as the importer sees them (private): a
 * tensor computed from the input (a symbolic tensor of ours, with its ONNX
 * rank and layout), a folded constant, the output of a refused node, or a
 * channel shuffle under way.
 *
 * @module
 */

import type { Layer, LayerConfig, Param, SampleShape } from "../layers/layer.ts";
import { LayerBase } from "../layers/layer_base.ts";
import type { SymbolicTensor } from "../layers/graph_node.ts";
import type { Const } from "./_const.ts";

/** A value computed at run time: our symbolic tensor and its ONNX rank (batch included). */
export interface Sym {
  kind: "sym";
  t: SymbolicTensor;
  rank: 2 | 3 | 4;
  /** Set when a flatten kept NHWC order: the `[C, H, W]` it came from (the next Gemm permutes its weights). */
  hwcFrom?: [number, number, number];
  /** Set after `Transpose(perm = [0, 2, 3, 1])`: the map in NHWC order, only a flatten may follow. */
  nhwc?: true;
}
export interface Folded {
  kind: "const";
  c: Const;
}
/** A unsupported node's output: later nodes that use it are skipped quietly. */
export interface Poison {
  kind: "poison";
}
/** A channel shuffle under way: `x` reshaped to `[N, groups, C/groups, ...]` (then transposed). */
export interface Grouped {
  kind: "grouped";
  x: Sym;
  groups: number;
  transposed: boolean;
}
export type Val = Sym | Folded | Poison | Grouped;

/** ONNX sample shape (batch excluded) of a symbolic value. */
export function onnxShape(v: Sym): number[] {
  const s = v.t.shape;
  if (v.rank === 4) return [s[2]!, s[0]!, s[1]!];
  if (v.rank === 3) return [s[2]!, s[1]!];
  return [...s];
}

/** Why a node cannot be imported; the driver collects these into one {@linkcode OnnxUnsupportedError}. */
export class Unsupported extends Error {}

/** A stand-in for an unsupported node's output (never run: the import then fails). */
export class Placeholder extends LayerBase implements Layer {
  readonly kind = "Placeholder";
  name = "";
  constructor(readonly shape: SampleShape) {
    super();
  }
  build(): SampleShape {
    return this.shape;
  }
  forward(): never {
    throw new Error("a placeholder never runs");
  }
  backward(): never {
    throw new Error("a placeholder never runs");
  }
  params(): Param[] {
    return [];
  }
  config(): LayerConfig {
    return { kind: this.kind, name: this.name };
  }
}

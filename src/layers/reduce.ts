// This module is browser compatible.

import { outputArray } from "../core/_outputs.ts";
import type { Tensor } from "../core/tensor.ts";
import { checkOneOf } from "../core/_validate.ts";
import { type OptionDecls, optionsConfig, readOptions } from "./_declare.ts";
import { checkBatch, noForward } from "./_util.ts";
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

/** The reductions of {@linkcode ReduceChannels}. */
export type ChannelReduction = "mean" | "max" | "sum";

const REDUCE_OPTIONS = {
  op: {
    type: '"mean" | "max" | "sum"',
    default: '"mean"',
    doc: "The reduction over the channels (`max` passes the gradient to the first maximum).",
    read: (k: string, a: string, v: unknown) =>
      checkOneOf<ChannelReduction>(k, a, v ?? "mean", ["mean", "max", "sum"]),
  },
} as const;

/**
 * Reduces the channels (the last axis) of each position to one value, the
 * shape keeping a channel axis of 1: `x.mean(1, keepdim=True)` on an NCHW
 * map (CBAM's spatial attention, the decomposed LayerNorm of an ONNX export
 * before opset 17), ONNX `ReduceMean`/`ReduceMax`/`ReduceSum` over axis 1.
 * A NaN among the channels gives NaN for `max` too.
 *
 * @example Usage
 * ```ts
 * import { ReduceChannels, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new ReduceChannels({ op: "max" })], [1, 1, 3]).predict(tensor([1, 5, 2], [1, 1, 1, 3])).data; // Float32Array [5]
 * ```
 */
export class ReduceChannels extends LayerBase implements Layer {
  /** `"ReduceChannels"`. */
  readonly kind = "ReduceChannels" as const;
  /** `"ReduceChannels"`. */
  static readonly kind = "ReduceChannels" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = REDUCE_OPTIONS;
  /** The layer's name. */
  name: string;
  /** The reduction. */
  readonly op: ChannelReduction;
  #in: SampleShape | null = null;
  #arg: Int32Array | null = null;

  /**
   * Creates a ReduceChannels.
   *
   * @param options `op` (`"mean"`, `"max"` or `"sum"`), name.
   */
  constructor(options: { op?: ChannelReduction; name?: string } = {}) {
    super();
    const c = readOptions("ReduceChannels", REDUCE_OPTIONS, options);
    this.name = c.name;
    this.op = c.op;
  }

  /** Returns the shape with one channel (called by the model). */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    if (inputShape.length === 0) {
      throw new RangeError(`ReduceChannels "${this.name}": the input has no axis`);
    }
    if (rand) this.#in = inputShape;
    return [...inputShape.slice(0, -1), 1];
  }

  /** Reduces each position's channels. */
  forward(x: Tensor): Tensor {
    const s = this.#in ?? [];
    const m = checkBatch(this, "the input", x, s);
    const c = s[s.length - 1]!, rows = x.data.length / c, src = x.data;
    const y = outputArray(rows), arg = this.op === "max" ? new Int32Array(rows) : null;
    for (let r = 0; r < rows; r++) {
      const o = r * c;
      if (arg) {
        let best = src[o]!, at = 0;
        for (let k = 1; k < c; k++) {
          const v = src[o + k]!;
          if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) [best, at] = [v, k];
        }
        y[r] = best;
        arg[r] = at;
      } else {
        let sum = 0;
        for (let k = 0; k < c; k++) sum += src[o + k]!;
        y[r] = this.op === "mean" ? sum / c : sum;
      }
    }
    this.#arg = arg;
    return { shape: [m, ...s.slice(0, -1), 1], data: y };
  }

  /**
   * Back-propagates `dOut`: spread evenly (mean), copied (sum), or to the maximum (max).
   *
   * @param dOut The gradient of the loss with respect to the output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    const s = this.#in;
    if (!s || (this.op === "max" && !this.#arg)) noForward(this);
    const m = checkBatch(this, "dOut", dOut, [...s.slice(0, -1), 1]);
    if (!needInputGrad) return null;
    const c = s[s.length - 1]!, g = dOut.data, dx = new Float32Array(g.length * c);
    const arg = this.#arg;
    for (let r = 0; r < g.length; r++) {
      if (arg) dx[r * c + arg[r]!] = g[r]!;
      else {
        const v = this.op === "mean" ? g[r]! / c : g[r]!;
        for (let k = 0; k < c; k++) dx[r * c + k] = v;
      }
    }
    return { shape: [m, ...s], data: dx };
  }

  /** The trainable parameters: none. */
  params(): Param[] {
    return [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, REDUCE_OPTIONS);
  }
}

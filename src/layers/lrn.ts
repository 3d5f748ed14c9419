// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";
import { checkNumberIn, checkPositiveInt } from "../core/_validate.ts";
import { type OptionDecls, optionsConfig, readOptions } from "./_declare.ts";
import { checkBatch, noForward } from "./_util.ts";
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

const LRN_OPTIONS = {
  size: {
    type: "number",
    default: "required",
    doc: "Channels in the window (PyTorch's `size`; AlexNet and GoogLeNet's papers use 5).",
    read: (k: string, a: string, v: unknown) => checkPositiveInt(k, a, v),
  },
  alpha: {
    type: "number",
    default: "1e-4",
    doc: "The scale of the squares' sum (divided by `size`, as PyTorch and ONNX do).",
    read: (k: string, a: string, v: unknown) => checkNumberIn(k, a, v ?? 1e-4, 0, Infinity, true),
  },
  beta: {
    type: "number",
    default: "0.75",
    doc: "The exponent.",
    read: (k: string, a: string, v: unknown) => checkNumberIn(k, a, v ?? 0.75, 0, Infinity, true),
  },
  bias: {
    type: "number",
    default: "1",
    doc: "Added before the exponent; positive (PyTorch's `k`).",
    read: (k: string, a: string, v: unknown) => checkNumberIn(k, a, v ?? 1, 0, Infinity, false),
  },
} as const;

/**
 * Local response normalisation across channels (AlexNet's and GoogLeNet's
 * papers): `y_c = x_c / (bias + alpha/size · Σ x_j²)^beta`, the sum over the
 * `size` channels around `c` (`⌊(size−1)/2⌋` before, `⌈(size−1)/2⌉`
 * after, clipped at the ends), as PyTorch's `LocalResponseNorm` and ONNX
 * `LRN`. No parameters.
 *
 * @example Usage
 * ```ts
 * import { LocalResponseNorm, Sequential, tensor } from "@convnet/wasm";
 * const lrn = new LocalResponseNorm({ size: 1, alpha: 1, beta: 1, bias: 1 });
 * new Sequential([lrn], [1, 1, 1]).predict(tensor([2], [1, 1, 1, 1])).data; // Float32Array [0.4]
 * ```
 */
export class LocalResponseNorm extends LayerBase implements Layer {
  /** `"LocalResponseNorm"`. */
  readonly kind = "LocalResponseNorm" as const;
  /** `"LocalResponseNorm"`. */
  static readonly kind = "LocalResponseNorm" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = LRN_OPTIONS;
  /** The layer's name. */
  name: string;
  /** Channels in the window. */
  readonly size: number;
  /** The scale. */
  readonly alpha: number;
  /** The exponent. */
  readonly beta: number;
  /** Added before the exponent. */
  readonly bias: number;
  #shape: SampleShape | null = null;
  #x: Float32Array | null = null;
  /** `bias + alpha/size · Σ x²` per value, from the last forward. */
  #s: Float64Array | null = null;

  /**
   * Creates a LocalResponseNorm.
   *
   * @param options `size` (required), `alpha` (1e-4), `beta` (0.75), `bias` (1), name.
   */
  constructor(
    options: { size: number; alpha?: number; beta?: number; bias?: number; name?: string },
  ) {
    super();
    const c = readOptions("LocalResponseNorm", LRN_OPTIONS, options);
    this.name = c.name;
    this.size = c.size;
    this.alpha = c.alpha;
    this.beta = c.beta;
    this.bias = c.bias;
  }

  /** Returns the shape (called by the model). */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    if (rand) this.#shape = inputShape;
    return inputShape;
  }

  /** Normalises each value by its neighbouring channels. */
  forward(x: Tensor): Tensor {
    const shape = this.#shape ?? [];
    checkBatch(this, "the input", x, shape);
    const c = shape[shape.length - 1] ?? 1, src = x.data, rows = src.length / c;
    const lo = Math.floor((this.size - 1) / 2), hi = Math.ceil((this.size - 1) / 2);
    const a = this.alpha / this.size, y = new Float32Array(src.length);
    const s = new Float64Array(src.length);
    for (let r = 0; r < rows; r++) {
      const o = r * c;
      for (let k = 0; k < c; k++) {
        let sum = 0;
        for (let j = Math.max(0, k - lo); j <= Math.min(c - 1, k + hi); j++) {
          sum += src[o + j]! ** 2;
        }
        const v = this.bias + a * sum;
        s[o + k] = v;
        y[o + k] = src[o + k]! * Math.pow(v, -this.beta);
      }
    }
    this.#x = src.slice();
    this.#s = s;
    return { shape: x.shape, data: y };
  }

  /**
   * Back-propagates `dOut`:
   * `dx_i = g_i·s_i^−β − 2·β·alpha/size · x_i · Σ_c g_c·x_c·s_c^(−β−1)` over the windows holding `i`.
   *
   * @param dOut The gradient of the loss with respect to the output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    const x = this.#x, s = this.#s;
    if (!x || !s) noForward(this);
    checkBatch(this, "dOut", dOut, this.#shape!);
    if (!needInputGrad) return null;
    const shape = this.#shape!, c = shape[shape.length - 1] ?? 1, g = dOut.data;
    const rows = g.length / c, b = this.beta, a = this.alpha / this.size;
    const lo = Math.floor((this.size - 1) / 2), hi = Math.ceil((this.size - 1) / 2);
    const dx = new Float32Array(g.length), t = new Float64Array(c);
    for (let r = 0; r < rows; r++) {
      const o = r * c;
      for (let k = 0; k < c; k++) t[k] = g[o + k]! * x[o + k]! * Math.pow(s[o + k]!, -b - 1);
      for (let i = 0; i < c; i++) {
        // Windows of channel k hold i when k − lo ≤ i ≤ k + hi.
        let sum = 0;
        for (let k = Math.max(0, i - hi); k <= Math.min(c - 1, i + lo); k++) sum += t[k]!;
        dx[o + i] = g[o + i]! * Math.pow(s[o + i]!, -b) - 2 * b * a * x[o + i]! * sum;
      }
    }
    return { shape: dOut.shape, data: dx };
  }

  /** The trainable parameters: none. */
  params(): Param[] {
    return [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, LRN_OPTIONS);
  }
}

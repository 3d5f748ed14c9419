// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";
import { checkNumberIn } from "../core/_validate.ts";
import { type OptionDecls, optionsConfig, readOptions } from "./_declare.ts";
import { allocParam, checkBatch, makeParam, noForward, notBuilt } from "./_util.ts";
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

const LAYER_NORM_OPTIONS = {
  epsilon: {
    type: "number",
    default: "1e-5",
    doc: "Added to the variance; positive (PyTorch's `eps`; ConvNeXt uses 1e-6).",
    read: (k: string, a: string, v: unknown) => checkNumberIn(k, a, v ?? 1e-5, 0, Infinity, false),
  },
} as const;

/**
 * Layer normalisation over the last axis (the channels of each pixel, as
 * ConvNeXt's `LayerNorm2d`; the features of `[c]`): `y = gamma · (x − mean)
 * / sqrt(var + epsilon) + beta` with each position's own mean and (biased)
 * variance, the same in training and inference (PyTorch's `LayerNorm(c)`,
 * ONNX `LayerNormalization` with `axis = −1`). Parameters `gamma` (1) and
 * `beta` (0), `[c]`.
 *
 * @example Usage
 * ```ts
 * import { LayerNorm, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new LayerNorm()], [2]).predict(tensor([1, 3], [1, 2])).data; // about [-1, 1]
 * ```
 */
export class LayerNorm extends LayerBase implements Layer {
  /** `"LayerNorm"`. */
  readonly kind = "LayerNorm" as const;
  /** `"LayerNorm"`. */
  static readonly kind = "LayerNorm" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = LAYER_NORM_OPTIONS;
  /** The layer's name. */
  name: string;
  /** Added to the variance. */
  readonly epsilon: number;
  #shape: SampleShape | null = null;
  #gamma: Param | null = null;
  #beta: Param | null = null;
  #xhat: Float64Array | null = null;
  #invStd: Float64Array | null = null;

  /**
   * Creates a LayerNorm.
   *
   * @param options `epsilon` (> 0, default 1e-5), name.
   */
  constructor(options: { epsilon?: number; name?: string } = {}) {
    super();
    const c = readOptions("LayerNorm", LAYER_NORM_OPTIONS, options);
    this.name = c.name;
    this.epsilon = c.epsilon;
  }

  /** Creates `gamma` and `beta` for the last axis; returns the shape (called by the model). */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    if (inputShape.length === 0) {
      throw new RangeError(`LayerNorm "${this.name}": the input has no axis`);
    }
    if (!rand) return inputShape;
    const c = inputShape[inputShape.length - 1]!, who = `LayerNorm "${this.name}"`;
    this.#shape = inputShape;
    this.#gamma = makeParam(`${this.name}.gamma`, [c], allocParam(who, c).fill(1));
    this.#beta = makeParam(`${this.name}.beta`, [c], allocParam(who, c));
    return inputShape;
  }

  /** Normalises each position over the last axis. */
  forward(x: Tensor): Tensor {
    const gamma = this.#gamma, beta = this.#beta;
    if (!gamma || !beta) notBuilt(this);
    checkBatch(this, "the input", x, this.#shape!);
    const c = gamma.value.length, rows = x.data.length / c, src = x.data;
    const y = new Float32Array(src.length), xhat = new Float64Array(src.length);
    const inv = new Float64Array(rows), g = gamma.value, b = beta.value;
    for (let r = 0; r < rows; r++) {
      const o = r * c;
      let mean = 0;
      for (let k = 0; k < c; k++) mean += src[o + k]!;
      mean /= c;
      let v = 0;
      for (let k = 0; k < c; k++) v += (src[o + k]! - mean) ** 2;
      const is = 1 / Math.sqrt(v / c + this.epsilon);
      inv[r] = is;
      for (let k = 0; k < c; k++) {
        const h = (src[o + k]! - mean) * is;
        xhat[o + k] = h;
        y[o + k] = g[k]! * h + b[k]!;
      }
    }
    this.#xhat = xhat;
    this.#invStd = inv;
    return { shape: x.shape, data: y };
  }

  /**
   * Back-propagates `dOut`, adding into `gamma.grad` and `beta.grad`.
   *
   * @param dOut The gradient of the loss with respect to the output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    const xhat = this.#xhat, inv = this.#invStd, gamma = this.#gamma, beta = this.#beta;
    if (!xhat || !inv || !gamma || !beta) noForward(this);
    checkBatch(this, "dOut", dOut, this.#shape!);
    const c = gamma.value.length, rows = inv.length, g = dOut.data;
    const dg = new Float64Array(c), db = new Float64Array(c);
    const dx = needInputGrad ? new Float32Array(g.length) : null;
    for (let r = 0; r < rows; r++) {
      const o = r * c;
      let s1 = 0, s2 = 0;
      for (let k = 0; k < c; k++) {
        const gk = g[o + k]!, h = xhat[o + k]!;
        dg[k]! += gk * h;
        db[k]! += gk;
        const d = gk * gamma.value[k]!;
        s1 += d;
        s2 += d * h;
      }
      if (dx) {
        for (let k = 0; k < c; k++) {
          const d = g[o + k]! * gamma.value[k]!;
          dx[o + k] = inv[r]! * (d - s1 / c - xhat[o + k]! * s2 / c);
        }
      }
    }
    for (let k = 0; k < c; k++) {
      gamma.grad[k]! += dg[k]!;
      beta.grad[k]! += db[k]!;
    }
    return dx && { shape: dOut.shape, data: dx };
  }

  /** The trainable parameters: `gamma` and `beta` (none before `build`). */
  params(): Param[] {
    return this.#gamma && this.#beta ? [this.#gamma, this.#beta] : [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, LAYER_NORM_OPTIONS);
  }
}

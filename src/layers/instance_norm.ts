// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";
import { checkNumberIn, fail } from "../core/_validate.ts";
import { type OptionDecls, optionsConfig, readOptions } from "./_declare.ts";
import { allocParam, checkBatch, makeParam, noForward, notBuilt } from "./_util.ts";
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

const INSTANCE_NORM_OPTIONS = {
  epsilon: {
    type: "number",
    default: "1e-5",
    doc: "Added to the variance; positive (PyTorch's `eps`).",
    read: (k: string, a: string, v: unknown) => checkNumberIn(k, a, v ?? 1e-5, 0, Infinity, false),
  },
} as const;

/**
 * Instance normalisation: each sample's each channel is normalised over its
 * own pixels, `y = gamma · (x − mean) / sqrt(var + epsilon) + beta` (biased
 * variance), the same in training and inference (PyTorch's
 * `InstanceNorm2d(c, affine=True)`, ONNX `InstanceNormalization`; style
 * transfer networks use it). Input `[h, w, c]`; parameters `gamma` (1) and
 * `beta` (0), `[c]`.
 *
 * @example Usage
 * ```ts
 * import { InstanceNorm, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new InstanceNorm()], [1, 2, 1]).predict(tensor([1, 3], [1, 1, 2, 1])).data; // about [-1, 1]
 * ```
 */
export class InstanceNorm extends LayerBase implements Layer {
  /** `"InstanceNorm"`. */
  readonly kind = "InstanceNorm" as const;
  /** `"InstanceNorm"`. */
  static readonly kind = "InstanceNorm" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = INSTANCE_NORM_OPTIONS;
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
   * Creates an InstanceNorm.
   *
   * @param options `epsilon` (> 0, default 1e-5), name.
   */
  constructor(options: { epsilon?: number; name?: string } = {}) {
    super();
    const c = readOptions("InstanceNorm", INSTANCE_NORM_OPTIONS, options);
    this.name = c.name;
    this.epsilon = c.epsilon;
  }

  /** Creates `gamma` and `beta` for the channels; returns the shape (called by the model). */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    if (inputShape.length !== 3) {
      fail(RangeError, `InstanceNorm "${this.name}"`, "the input shape", "[h, w, c]", inputShape);
    }
    if (!rand) return inputShape;
    const c = inputShape[2]!, who = `InstanceNorm "${this.name}"`;
    this.#shape = inputShape;
    this.#gamma = makeParam(`${this.name}.gamma`, [c], allocParam(who, c).fill(1));
    this.#beta = makeParam(`${this.name}.beta`, [c], allocParam(who, c));
    return inputShape;
  }

  /** Normalises each sample's channels over their pixels. */
  forward(x: Tensor): Tensor {
    const gamma = this.#gamma, beta = this.#beta;
    if (!gamma || !beta) notBuilt(this);
    const m = checkBatch(this, "the input", x, this.#shape!);
    const c = gamma.value.length, p = x.data.length / (m * c), src = x.data;
    const y = new Float32Array(src.length), xhat = new Float64Array(src.length);
    const inv = new Float64Array(m * c), g = gamma.value, b = beta.value;
    for (let n = 0; n < m; n++) {
      const o = n * p * c;
      for (let k = 0; k < c; k++) {
        let mean = 0;
        for (let i = 0; i < p; i++) mean += src[o + i * c + k]!;
        mean /= p;
        let v = 0;
        for (let i = 0; i < p; i++) v += (src[o + i * c + k]! - mean) ** 2;
        const is = 1 / Math.sqrt(v / p + this.epsilon);
        inv[n * c + k] = is;
        for (let i = 0; i < p; i++) {
          const j = o + i * c + k, h = (src[j]! - mean) * is;
          xhat[j] = h;
          y[j] = g[k]! * h + b[k]!;
        }
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
    const m = checkBatch(this, "dOut", dOut, this.#shape!);
    const c = gamma.value.length, p = dOut.data.length / (m * c), g = dOut.data;
    const dx = needInputGrad ? new Float32Array(g.length) : null;
    for (let n = 0; n < m; n++) {
      const o = n * p * c;
      for (let k = 0; k < c; k++) {
        let s1 = 0, s2 = 0;
        for (let i = 0; i < p; i++) {
          const j = o + i * c + k;
          s1 += g[j]!;
          s2 += g[j]! * xhat[j]!;
        }
        gamma.grad[k]! += s2;
        beta.grad[k]! += s1;
        if (!dx) continue;
        const sc = gamma.value[k]! * inv[n * c + k]!;
        for (let i = 0; i < p; i++) {
          const j = o + i * c + k;
          dx[j] = sc * (g[j]! - s1 / p - xhat[j]! * s2 / p);
        }
      }
    }
    return dx && { shape: dOut.shape, data: dx };
  }

  /** The trainable parameters: `gamma` and `beta` (none before `build`). */
  params(): Param[] {
    return this.#gamma && this.#beta ? [this.#gamma, this.#beta] : [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, INSTANCE_NORM_OPTIONS);
  }
}

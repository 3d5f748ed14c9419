// This module is browser compatible.

import { markChanged } from "../core/_versions.ts";
import type { Tensor } from "../core/tensor.ts";
import { checkNumberIn, checkOneOf } from "../core/_validate.ts";
import { activationCode, allocParam, checkBatch, makeParam, noForward, notBuilt } from "./_util.ts";
import { activeKernels } from "../backend/select.ts";
import { type OptionDecls, optionsConfig, readOptions } from "./_declare.ts";
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

/** Options of {@linkcode BatchNorm}. */
export interface BatchNormOptions {
  /** How fast the running statistics follow the batches (PyTorch's momentum); default 0.1. */
  momentum?: number;
  /** Added to the variance; default 1e-5. */
  epsilon?: number;
  /** `"relu"` or `"relu6"` fuses that activation after the normalisation; default `"linear"`. */
  activation?: "relu" | "relu6" | "linear";
  /** The layer's name; the model assigns one if absent. */
  name?: string;
}

const BATCH_NORM_OPTIONS = {
  momentum: {
    type: "number",
    default: "0.1",
    doc: "How fast the running statistics follow the batches (PyTorch's momentum), in [0, 1].",
    read: (k: string, a: string, v: unknown) => checkNumberIn(k, a, v ?? 0.1, 0, 1, true, true),
  },
  epsilon: {
    type: "number",
    default: "1e-5",
    doc: "Added to the variance; positive.",
    read: (k: string, a: string, v: unknown) => checkNumberIn(k, a, v ?? 1e-5, 0, Infinity, false),
  },
  activation: {
    type: '"relu" | "relu6" | "linear"',
    default: '"linear"',
    doc:
      '`"relu"` fuses `max(0, ·)` after the normalisation, `"relu6"` `min(max(0, ·), 6)` (DenseNet\'s BN → ReLU in one pass; `fuse()` sets it); NaN stays NaN.',
    read: (k: string, a: string, v: unknown) =>
      checkOneOf(k, a, v ?? "linear", ["relu", "relu6", "linear"] as const),
    save: (v: string) => (v === "linear" ? undefined : v),
  },
} as const;

/**
 * Batch normalisation over the last axis (the channels of a `[h, w, c]` map,
 * or the features of `[c]`), as PyTorch's `BatchNorm2d` / `BatchNorm1d`:
 * `y = gamma · (x − mean) / sqrt(var + epsilon) + beta`.
 *
 * - Training mode (`fit`, `trainStep`): mean and (biased) variance of the
 *   batch, over every position; the running statistics move towards them,
 *   `running = (1 − momentum)·running + momentum·batch` (the variance
 *   unbiased, as PyTorch does).
 * - Inference mode (`predict`, `evaluate`): the running statistics.
 *
 * Parameters `gamma` (1) and `beta` (0); state `runningMean` (0) and
 * `runningVar` (1), saved in model files. `model.fuse()` folds it into the
 * convolution or dense layer before it.
 *
 * @example Usage
 * ```ts
 * import { BatchNorm, Conv2D, Sequential } from "@convnet/wasm";
 * const model = new Sequential([new Conv2D({ filters: 8, kernelSize: 3 }), new BatchNorm()], [8, 8, 1]);
 * model.state().map((p) => p.name); // ["batchnorm_1.runningMean", "batchnorm_1.runningVar"]
 * ```
 */
export class BatchNorm extends LayerBase implements Layer {
  /** `"BatchNorm"`. */
  readonly kind = "BatchNorm" as const;
  /** `"BatchNorm"`. */
  static readonly kind = "BatchNorm" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = BATCH_NORM_OPTIONS;
  /** The layer's name. */
  name: string;
  /** How fast the running statistics follow the batches. */
  readonly momentum: number;
  /** Added to the variance. */
  readonly epsilon: number;
  /** The activation fused after the normalisation. */
  readonly activation: "relu" | "relu6" | "linear";
  #shape: SampleShape | null = null;
  #gamma: Param | null = null;
  #beta: Param | null = null;
  #mean: Param | null = null;
  #var: Param | null = null;
  #training = false;
  #x: Float32Array | null = null;
  #xMean: Float64Array | null = null;
  #invStd: Float64Array | null = null;
  #usedBatch = false;
  /** The last output, when an activation is fused (its gradient masks where it clipped). */
  #y: Float32Array | null = null;

  /**
   * Creates a BatchNorm.
   *
   * @param options `momentum` in [0, 1] (default 0.1), `epsilon` > 0 (default 1e-5), name.
   */
  constructor(options: BatchNormOptions = {}) {
    super();
    const c = readOptions("BatchNorm", BATCH_NORM_OPTIONS, options);
    this.name = c.name;
    this.momentum = c.momentum;
    this.epsilon = c.epsilon;
    this.activation = c.activation;
  }

  /** Switches training mode (batch statistics) or inference (running statistics); the model calls it. */
  setTraining(training: boolean): void {
    this.#training = training;
  }

  /** Checks the input shape, creates the parameters and state, and returns the shape (called by the model). */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    if (inputShape.length !== 1 && inputShape.length !== 3) {
      throw new RangeError(
        `BatchNorm "${this.name}": input must be [height, width, channels] or [features], got [${
          inputShape.join(", ")
        }]`,
      );
    }
    if (!rand) return inputShape;
    const c = inputShape[inputShape.length - 1]!, who = `BatchNorm "${this.name}"`;
    this.#shape = inputShape;
    this.#gamma = makeParam(`${this.name}.gamma`, [c], allocParam(who, c).fill(1));
    this.#beta = makeParam(`${this.name}.beta`, [c], allocParam(who, c));
    this.#mean = makeParam(`${this.name}.runningMean`, [c], allocParam(who, c));
    this.#var = makeParam(`${this.name}.runningVar`, [c], allocParam(who, c).fill(1));
    return inputShape;
  }

  #built(): [Param, Param, Param, Param] {
    if (!this.#gamma || !this.#beta || !this.#mean || !this.#var) {
      notBuilt(this);
    }
    return [this.#gamma, this.#beta, this.#mean, this.#var];
  }

  /** Normalises the batch (batch statistics in training mode, running ones otherwise). */
  forward(x: Tensor): Tensor {
    const [gamma, beta, rm, rv] = this.#built();
    checkBatch(this, "the input", x, this.#shape!);
    const c = gamma.value.length, n = x.data.length / c, src = x.data;
    const mean = new Float64Array(c), variance = new Float64Array(c);
    // Pixel by pixel, channel by channel: each channel's sums run in the order of the data.
    if (this.#training) {
      for (let i = 0; i < src.length; i += c) {
        for (let k = 0; k < c; k++) mean[k]! += src[i + k]!;
      }
      for (let k = 0; k < c; k++) mean[k]! /= n;
      for (let i = 0; i < src.length; i += c) {
        for (let k = 0; k < c; k++) {
          const d = src[i + k]! - mean[k]!;
          variance[k]! += d * d;
        }
      }
      for (let k = 0; k < c; k++) variance[k]! /= n;
      const mo = this.momentum, unbias = n > 1 ? n / (n - 1) : 1;
      for (let k = 0; k < c; k++) {
        rm.value[k] = (1 - mo) * rm.value[k]! + mo * mean[k]!;
        rv.value[k] = (1 - mo) * rv.value[k]! + mo * variance[k]! * unbias;
      }
      markChanged(rm.value);
      markChanged(rv.value);
    } else {
      for (let k = 0; k < c; k++) {
        mean[k] = rm.value[k]!;
        variance[k] = rv.value[k]!;
      }
    }
    const invStd = new Float64Array(c);
    for (let k = 0; k < c; k++) invStd[k] = 1 / Math.sqrt(variance[k]! + this.epsilon);
    const g = gamma.value, act = this.activation;
    // gamma / sqrt(var + eps) per channel, in float64: one multiply per value, in the kernels.
    const scale = new Float64Array(c);
    for (let k = 0; k < c; k++) scale[k] = g[k]! * invStd[k]!;
    const y = activeKernels().channelAffine(
      src,
      c,
      mean,
      scale,
      Float64Array.from(beta.value),
      activationCode(act),
    );
    this.#y = act === "linear" ? null : y;
    // x̂ is recomputed by backward (same formula, same bits): inference keeps no float64 copy.
    this.#x = src;
    this.#xMean = mean;
    this.#invStd = invStd;
    this.#usedBatch = this.#training;
    return { shape: x.shape, data: y };
  }

  /**
   * Back-propagates `dOut`, adding the gradients of `gamma` and `beta`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    const x = this.#x, mean = this.#xMean, invStd = this.#invStd;
    if (!x || !mean || !invStd) noForward(this);
    const [gamma, beta] = this.#built();
    checkBatch(this, "dOut", dOut, this.#shape!);
    const c = gamma.value.length, n = dOut.data.length / c;
    if (dOut.data.length !== x.length) {
      throw new RangeError(
        `BatchNorm "${this.name}": dOut has ${dOut.data.length} values, the forward output ${x.length}`,
      );
    }
    const y = this.#y, hi = this.activation === "relu6" ? 6 : Infinity;
    // Through the fused activation first: the gradient passes where the output was not clipped.
    const g = y ? dOut.data.map((d, i) => (y[i]! > 0 && y[i]! < hi ? d : 0)) : dOut.data;
    const xhat = new Float64Array(g.length);
    const sumG = new Float64Array(c), sumGX = new Float64Array(c);
    for (let i = 0; i < g.length; i += c) {
      for (let k = 0; k < c; k++) {
        const xh = (xhat[i + k] = (x[i + k]! - mean[k]!) * invStd[k]!);
        sumG[k]! += g[i + k]!;
        sumGX[k]! += g[i + k]! * xh;
      }
    }
    for (let k = 0; k < c; k++) {
      gamma.grad[k]! += sumGX[k]!;
      beta.grad[k]! += sumG[k]!;
    }
    if (!needInputGrad) return null;
    const dx = new Float32Array(g.length), batch = this.#usedBatch;
    for (let i = 0; i < g.length; i += c) {
      for (let k = 0; k < c; k++) {
        const s = gamma.value[k]! * invStd[k]!, j = i + k;
        // With batch statistics the mean and variance depend on x too.
        dx[j] = batch ? (s / n) * (n * g[j]! - sumG[k]! - xhat[j]! * sumGX[k]!) : s * g[j]!;
      }
    }
    return { shape: dOut.shape, data: dx };
  }

  /** The trainable parameters: `gamma` and `beta`. */
  params(): Param[] {
    return this.#gamma && this.#beta ? [this.#gamma, this.#beta] : [];
  }

  /** The running statistics: `runningMean` and `runningVar`. */
  state(): Param[] {
    return this.#mean && this.#var ? [this.#mean, this.#var] : [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, BATCH_NORM_OPTIONS);
  }
}

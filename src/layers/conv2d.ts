// This module is browser compatible.

import { activeKernels } from "../backend.ts";
import type { ConvGeometry } from "../kernels/types.ts";
import type { Tensor } from "../tensor.ts";
import {
  addInto,
  allocParam,
  checkActivation,
  checkBatch,
  glorotUniform,
  heNormal,
  makeParam,
  noForward,
  reluGrad,
} from "./_util.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

/** Options of {@linkcode Conv2D}. */
export interface Conv2DOptions {
  /** Number of filters (output channels). */
  filters: number;
  /** Filter size f (square). */
  kernelSize: number;
  /** Step between windows; default 1. */
  stride?: number;
  /**
   * Zeros added on each side: a number, `"valid"` (0) or `"same"`
   * (`(f - 1) / 2`, for odd f: the output is `ceil(n / stride)` pixels). Default `"valid"`.
   */
  padding?: number | "same" | "valid";
  /** Initial weights: `"he"` (normal, the default; suits ReLU) or `"glorot"` (uniform). */
  init?: "he" | "glorot";
  /** `"relu"` fuses max(0, ·) into the layer (faster than a separate {@linkcode ReLU}); default `"linear"`. */
  activation?: "relu" | "linear";
  /** The layer's name; the model assigns `conv2d_N` if absent. */
  name?: string;
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new RangeError(`Conv2D: ${what} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/**
 * A 2-D convolution layer over NHWC batches, with a bias per filter.
 * Parameters: `kernel` `[f, f, cIn, filters]` and `bias` `[filters]`.
 *
 * @example Usage
 * ```ts
 * import { Conv2D, Sequential } from "@convnet/wasm";
 * const model = new Sequential([new Conv2D({ filters: 8, kernelSize: 5, padding: "same" })], [28, 28, 1]);
 * model.outputShape; // [28, 28, 8]
 * ```
 */
export class Conv2D implements Layer {
  /** `"Conv2D"`. */
  readonly kind = "Conv2D" as const;
  /** The layer's name. */
  name: string;
  /** Output channels. */
  readonly filters: number;
  /** Filter size. */
  readonly kernelSize: number;
  /** Step between windows. */
  readonly stride: number;
  /** Padding as given. */
  readonly padding: number | "same" | "valid";
  /** `"relu"` or `"linear"`. */
  readonly activation: "relu" | "linear";
  readonly #init: "he" | "glorot";
  #g: ConvGeometry | null = null;
  #kernel: Param | null = null;
  #bias: Param | null = null;
  #x: Float32Array | null = null;
  #y: Float32Array | null = null;
  #m = 0;

  /**
   * Creates a Conv2D.
   *
   * @param options Filters, kernel size, stride, padding, initialisation, name.
   * @throws {RangeError} On a non-positive or fractional size, or an unknown padding.
   */
  constructor(options: Conv2DOptions) {
    this.filters = positiveInt(options?.filters, "filters");
    this.kernelSize = positiveInt(options.kernelSize, "kernelSize");
    this.stride = positiveInt(options.stride ?? 1, "stride");
    const p = options.padding ?? "valid";
    if (p === "same" && this.kernelSize % 2 === 0) {
      throw new RangeError(
        `Conv2D: padding "same" needs an odd kernelSize, got ${this.kernelSize}`,
      );
    }
    if (
      p !== "same" && p !== "valid" && !(typeof p === "number" && Number.isInteger(p) && p >= 0)
    ) {
      throw new RangeError(
        `Conv2D: padding must be a non-negative integer, "same" or "valid", got ${String(p)}`,
      );
    }
    this.padding = p;
    this.#init = options.init ?? "he";
    if (this.#init !== "he" && this.#init !== "glorot") {
      throw new RangeError(`Conv2D: init must be "he" or "glorot", got ${String(this.#init)}`);
    }
    this.activation = checkActivation("Conv2D", options.activation ?? "linear");
    this.name = options.name ?? "";
  }

  /** Zeros added on each side. */
  get pad(): number {
    return this.padding === "same"
      ? (this.kernelSize - 1) / 2
      : this.padding === "valid"
      ? 0
      : this.padding;
  }

  /** Checks the input shape, creates the parameters and returns the output shape (called by {@linkcode Sequential}). */
  build(inputShape: SampleShape, rand: () => number): SampleShape {
    if (inputShape.length !== 3) {
      throw new RangeError(
        `Conv2D "${this.name}": input must be [height, width, channels], got [${
          inputShape.join(", ")
        }]`,
      );
    }
    const [inH, inW, cIn] = inputShape;
    const f = this.kernelSize, pad = this.pad, s = this.stride;
    if (f > inH + 2 * pad || f > inW + 2 * pad) {
      throw new RangeError(
        `Conv2D "${this.name}": kernelSize ${f} exceeds the padded input ${inH + 2 * pad}×${
          inW + 2 * pad
        }`,
      );
    }
    const outH = Math.floor((inH - f + 2 * pad) / s) + 1;
    const outW = Math.floor((inW - f + 2 * pad) / s) + 1;
    this.#g = { m: 0, inH, inW, cIn, f, cOut: this.filters, stride: s, pad, outH, outW };
    const fanIn = f * f * cIn, n = fanIn * this.filters;
    const w = this.#init === "he"
      ? heNormal(n, fanIn, rand, `Conv2D "${this.name}"`)
      : glorotUniform(n, fanIn, f * f * this.filters, rand, `Conv2D "${this.name}"`);
    this.#kernel = makeParam(`${this.name}.kernel`, [f, f, cIn, this.filters], w);
    this.#bias = makeParam(
      `${this.name}.bias`,
      [this.filters],
      allocParam(`Conv2D "${this.name}"`, this.filters),
    );
    return [outH, outW, this.filters];
  }

  #geometry(): ConvGeometry {
    if (!this.#g) {
      throw new Error(`Conv2D "${this.name}": used before build (add it to a Sequential)`);
    }
    return this.#g;
  }

  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    const g0 = this.#geometry();
    const m = checkBatch(this, "the input", x, [g0.inH, g0.inW, g0.cIn]);
    const g = { ...g0, m };
    const relu = this.activation === "relu";
    const z = activeKernels().convForward(g, x.data, this.#kernel!.value, this.#bias!.value, relu);
    this.#x = x.data;
    this.#y = relu ? z : null;
    this.#m = m;
    return { shape: [m, g.outH, g.outW, g.cOut], data: z };
  }

  /** Back-propagates `dOut`; adds parameter gradients and returns the input gradient (or `null`). */
  backward(dOut: Tensor, needInputGrad: boolean): Tensor | null {
    if (!this.#x) noForward(this);
    const g = { ...this.#geometry(), m: this.#m };
    checkBatch(this, "dOut", dOut, [g.outH, g.outW, g.cOut]);
    if (dOut.shape[0] !== this.#m) {
      throw new RangeError(
        `Conv2D "${this.name}": dOut has batch ${dOut.shape[0]}, the forward pass had ${this.#m}`,
      );
    }
    const k = activeKernels();
    const dz = this.#y ? reluGrad(dOut.data, this.#y) : dOut.data;
    const { dW, db } = k.convBackwardFilter(g, this.#x, dz);
    addInto(this.#kernel!.grad, dW);
    addInto(this.#bias!.grad, db);
    if (!needInputGrad) return null;
    return {
      shape: [g.m, g.inH, g.inW, g.cIn],
      data: k.convBackwardData(g, dz, this.#kernel!.value),
    };
  }

  /** The trainable parameters (none before `build`). */
  params(): Param[] {
    return this.#kernel ? [this.#kernel, this.#bias!] : [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return {
      kind: this.kind,
      name: this.name,
      filters: this.filters,
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      activation: this.activation,
      init: this.#init,
    };
  }
}

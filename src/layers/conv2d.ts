// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";
import { ConvCore } from "./_conv_core.ts";
import { checkActivation, checkBatch, noForward } from "./_util.ts";
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
  #core: ConvCore | null = null;

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
    const [inH, inW, cIn] = inputShape as readonly [number, number, number];
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
    const g = { m: 0, inH, inW, cIn, f, cOut: this.filters, stride: s, pad, outH, outW };
    const relu = this.activation === "relu";
    this.#core = new ConvCore(this, g, [f, f, cIn, this.filters], this.#init, relu, rand);
    return [outH, outW, this.filters];
  }

  #built(): ConvCore {
    if (!this.#core) {
      throw new Error(`Conv2D "${this.name}": used before build (add it to a Sequential)`);
    }
    return this.#core;
  }

  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    const core = this.#built(), g = core.g;
    const m = checkBatch(this, "the input", x, [g.inH, g.inW, g.cIn]);
    return { shape: [m, g.outH, g.outW, g.cOut], data: core.forward(x.data, m) };
  }

  /** Back-propagates `dOut`; adds parameter gradients and returns the input gradient (or `null`). */
  backward(dOut: Tensor, needInputGrad: boolean): Tensor | null {
    const core = this.#core;
    if (!core) noForward(this);
    const g = core.g;
    const m = checkBatch(this, "dOut", dOut, [g.outH, g.outW, g.cOut]);
    const dx = core.backward(dOut, needInputGrad);
    return dx && { shape: [m, g.inH, g.inW, g.cIn], data: dx };
  }

  /** The trainable parameters (none before `build`). */
  params(): Param[] {
    return this.#core ? [this.#core.kernel, this.#core.bias] : [];
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

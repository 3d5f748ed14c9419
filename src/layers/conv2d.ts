// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";
import { ConvCore } from "./_conv_core.ts";
import { checkNonNegativeInt, checkOneOf, checkPositiveInt, fail } from "../core/_validate.ts";
import { planConv } from "../core/_geometry.ts";
import { checkActivation, checkBatch, checkInit, layerOptions, noForward } from "./_util.ts";
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
   * @throws {TypeError} If an option is of the wrong type.
   * @throws {RangeError} On a non-positive or fractional size, or an unknown padding, init or activation.
   */
  constructor(options: Conv2DOptions) {
    const fn = "Conv2D";
    const { o, name } = layerOptions(fn, options);
    this.filters = checkPositiveInt(fn, "options.filters", o["filters"]);
    this.kernelSize = checkPositiveInt(fn, "options.kernelSize", o["kernelSize"]);
    this.stride = checkPositiveInt(fn, "options.stride", o["stride"] ?? 1);
    const p = o["padding"] ?? "valid";
    if (typeof p === "number") checkNonNegativeInt(fn, "options.padding", p);
    else if (typeof p === "string") checkOneOf(fn, "options.padding", p, ["same", "valid"]);
    else fail(TypeError, fn, "options.padding", 'a non-negative integer, "same" or "valid"', p);
    if (p === "same" && this.kernelSize % 2 === 0) {
      throw new RangeError(
        `Conv2D: options.padding "same" needs an odd options.kernelSize, got ${this.kernelSize}`,
      );
    }
    this.padding = p as number | "same" | "valid";
    this.#init = checkInit(fn, o["init"], "he");
    this.activation = checkActivation(fn, o["activation"]);
    this.name = name;
  }

  /** Zeros added on each side. */
  get pad(): number {
    return this.padding === "same"
      ? (this.kernelSize - 1) / 2
      : this.padding === "valid"
      ? 0
      : this.padding;
  }

  /** Checks the input shape and returns the output shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape, rand: () => number): SampleShape {
    if (inputShape.length !== 3) {
      throw new RangeError(
        `Conv2D "${this.name}": input must be [height, width, channels], got [${
          inputShape.join(", ")
        }]`,
      );
    }
    const [inH, inW, cIn] = inputShape as readonly [number, number, number];
    const f = this.kernelSize;
    const g = planConv(
      `Conv2D "${this.name}"`,
      "options.kernelSize",
      0,
      inH,
      inW,
      cIn,
      f,
      this.filters,
      this.stride,
      this.pad,
    );
    const relu = this.activation === "relu";
    this.#core = new ConvCore(this, g, [f, f, cIn, this.filters], this.#init, relu, rand);
    return [g.outH, g.outW, this.filters];
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

  /**
   * Back-propagates `dOut`, adding any parameter gradients into `Param.grad`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null` when `needInputGrad` is false.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    const core = this.#core;
    if (!core) noForward(this);
    const g = core.g;
    const m = checkBatch(this, "dOut", dOut, [g.outH, g.outW, g.cOut]);
    const dx = core.backward(dOut, needInputGrad);
    return dx && { shape: [m, g.inH, g.inW, g.cIn], data: dx };
  }

  /** The trainable parameters: none, for this layer. */
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

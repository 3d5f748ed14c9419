// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";
import type { ConvGeometry } from "../core/types.ts";
import { checkPair, planConv, planConvTranspose, resolvePadding } from "../core/_geometry.ts";
import type { PadSpec } from "../core/_geometry.ts";
import { ConvCore } from "./_conv_core.ts";
import {
  CONV_OPTIONS,
  countOption,
  GROUPS,
  type Padding,
  padSpec,
  type Pair,
  pairConfig,
} from "./_conv_options.ts";
import { checkPositiveInt } from "../core/_validate.ts";
import { type OptionDecls, optionsConfig, readOptions } from "./_declare.ts";
import { activationCode, checkBatch, noForward, notBuilt } from "./_util.ts";
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

const CONV2D_OPTIONS = {
  filters: countOption("Number of filters (output channels)."),
  ...CONV_OPTIONS,
  groups: GROUPS,
} as const;

const DEPTHWISE_OPTIONS = {
  ...CONV_OPTIONS,
  depthMultiplier: {
    type: "number",
    default: "1",
    doc: "Filters per input channel (the output has `channels · depthMultiplier` channels).",
    read: (k: string, a: string, v: unknown) => checkPositiveInt(k, a, v ?? 1),
  },
} as const;

const TRANSPOSE_OPTIONS = {
  ...CONV2D_OPTIONS,
  outputPadding: {
    type: "number | [h, w]",
    default: "0",
    doc: "Extra rows and columns at the bottom and right of the output, less than the stride.",
    read: (k: string, a: string, v: unknown) => checkPair(k, a, v ?? 0, 0),
    save: pairConfig,
  },
} as const;

/** The convolution options a layer keeps (read through {@linkcode CONV_OPTIONS}). */
interface ConvOptions {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: Padding;
  readonly dilation: [number, number];
  readonly activation: "relu" | "relu6" | "linear";
  readonly init: "he" | "glorot";
}

/** Options of {@linkcode Conv2D}. */
export interface Conv2DOptions {
  /** Number of filters (output channels). */
  filters: number;
  /** Filter size: a number (square) or `[h, w]`. */
  kernelSize: Pair;
  /** Step between windows: a number or `[h, w]`; default 1. (`strides` is accepted too.) */
  stride?: Pair;
  /** Keras's name for `stride`. */
  strides?: Pair;
  /**
   * Zeros around the input: a number, `[h, w]`, `[top, bottom, left, right]`,
   * `"valid"` (none, the default) or `"same"` (the output is `ceil(n / stride)`
   * pixels; an odd extra zero goes to the bottom and right).
   */
  padding?: Padding;
  /** Step between filter taps: a number or `[h, w]`; default 1. */
  dilation?: Pair;
  /** Channel groups: the input channels and `filters` must be multiples of it; default 1. */
  groups?: number;
  /** Initial weights: `"he"` (normal, the default; suits ReLU) or `"glorot"` (uniform). */
  init?: "he" | "glorot";
  /**
   * `"relu"` fuses max(0, ·) into the layer (faster than a separate {@linkcode ReLU}), `"relu6"`
   * fuses min(max(0, ·), 6) (MobileNets); default `"linear"`.
   */
  activation?: "relu" | "relu6" | "linear";
  /** The layer's name; the model assigns `conv2d_N` if absent. */
  name?: string;
}

/** What a convolution layer plans for an input shape: the geometry, the kernel and the output. */
interface ConvPlanned {
  readonly g: ConvGeometry;
  readonly kernelShape: readonly number[];
  readonly fanIn: number;
  readonly fanOut: number;
  readonly transposed: boolean;
  readonly out: readonly [number, number, number];
}

/** The options, build, forward and backward the convolution layers share (private; composed, not inherited). */
class ConvImpl {
  readonly spec: PadSpec;
  #core: ConvCore | null = null;
  #in: readonly [number, number, number] = [0, 0, 0];
  #out: readonly [number, number, number] = [0, 0, 0];

  constructor(
    readonly layer: Layer,
    readonly opts: ConvOptions,
    readonly plan: (s: readonly [number, number, number]) => ConvPlanned,
  ) {
    this.spec = padSpec(opts.padding);
  }

  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    const l = this.layer;
    if (inputShape.length !== 3) {
      throw new RangeError(
        `${l.kind} "${l.name}": input must be [height, width, channels], got [${
          inputShape.join(", ")
        }]`,
      );
    }
    const s = inputShape as readonly [number, number, number];
    const p = this.plan(s);
    if (rand) {
      this.#core = new ConvCore({
        layer: l,
        g: p.g,
        kernelShape: p.kernelShape,
        init: this.opts.init,
        fanIn: p.fanIn,
        fanOut: p.fanOut,
        relu: activationCode(this.opts.activation),
        transposed: p.transposed,
        rand,
      });
      this.#in = s;
      this.#out = p.out;
    }
    return p.out;
  }

  forward(x: Tensor): Tensor {
    const core = this.#core;
    if (!core) notBuilt(this.layer);
    const m = checkBatch(this.layer, "the input", x, this.#in);
    return { shape: [m, ...this.#out], data: core.forward(x.data, m) };
  }

  backward(dOut: Tensor, needInputGrad: boolean): Tensor | null {
    const core = this.#core;
    if (!core) noForward(this.layer);
    const m = checkBatch(this.layer, "dOut", dOut, this.#out);
    const dx = core.backward(dOut, needInputGrad);
    return dx && { shape: [m, ...this.#in], data: dx };
  }

  params(): Param[] {
    return this.#core ? [this.#core.kernel, this.#core.bias] : [];
  }
}

/**
 * A 2-D convolution layer over NHWC batches, with a bias per filter.
 * Parameters: `kernel` `[fH, fW, cIn / groups, filters]` and `bias` `[filters]`.
 *
 * @example Usage
 * ```ts
 * import { Conv2D, Sequential } from "@convnet/wasm";
 * const model = new Sequential([
 *   new Conv2D({ filters: 8, kernelSize: 5, padding: "same" }),
 *   new Conv2D({ filters: 8, kernelSize: [3, 1], stride: [2, 1], dilation: [1, 2], groups: 4 }),
 * ], [28, 28, 1]);
 * model.outputShape; // [13, 28, 8]
 * ```
 */
export class Conv2D extends LayerBase implements Layer {
  /** `"Conv2D"`. */
  readonly kind = "Conv2D" as const;
  /** `"Conv2D"`. */
  static readonly kind = "Conv2D" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = CONV2D_OPTIONS;
  /** `"he"` or `"glorot"`. */
  readonly init: "he" | "glorot";
  /** The layer's name. */
  name: string;
  /** Filter size `[h, w]`. */
  readonly kernelSize: readonly [number, number];
  /** Step between windows `[h, w]`. */
  readonly stride: readonly [number, number];
  /** Padding as given. */
  readonly padding: Padding;
  /** Step between filter taps `[h, w]`. */
  readonly dilation: readonly [number, number];
  /** `"relu"`, `"relu6"` or `"linear"`. */
  readonly activation: "relu" | "relu6" | "linear";
  readonly #impl: ConvImpl;
  /** Output channels. */
  readonly filters: number;
  /** Channel groups. */
  readonly groups: number;

  /**
   * Creates a Conv2D.
   *
   * @param options Filters, kernel size, stride, padding, dilation, groups, initialisation, name.
   * @throws {TypeError} If an option is of the wrong type.
   * @throws {RangeError} On a non-positive or fractional size, or an unknown padding, init or activation.
   */
  constructor(options: Conv2DOptions) {
    super();
    const c = readOptions("Conv2D", CONV2D_OPTIONS, options);
    this.#impl = new ConvImpl(this, c, (s) => this.#plan(s));
    this.kernelSize = c.kernelSize;
    this.stride = c.stride;
    this.padding = c.padding;
    this.dilation = c.dilation;
    this.activation = c.activation;
    this.init = c.init;
    this.name = c.name;
    this.filters = c.filters;
    this.groups = c.groups;
  }

  #plan(s: readonly [number, number, number]): ConvPlanned {
    const [inH, inW, cIn] = s, [fH, fW] = this.kernelSize, gr = this.groups;
    const who = `Conv2D "${this.name}"`;
    if (cIn % gr !== 0 || this.filters % gr !== 0) {
      throw new RangeError(
        `${who}: options.groups = ${gr} must divide the ${cIn} input channels and the ${this.filters} filters`,
      );
    }
    const pads = resolvePadding(this.#impl.spec, inH, inW, fH, fW, this.stride, this.dilation);
    const g = planConv(who, "options.kernelSize", 0, inH, inW, cIn, fH, fW, this.filters, {
      stride: this.stride,
      pads,
      dilation: this.dilation,
      groups: gr,
    });
    return {
      g,
      kernelShape: [fH, fW, cIn / gr, this.filters],
      fanIn: fH * fW * (cIn / gr),
      fanOut: fH * fW * (this.filters / gr),
      transposed: false,
      out: [g.outH, g.outW, this.filters],
    };
  }

  /** Checks the input shape, creates the parameters (from `rand`) and returns the output shape (called by the model). */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    return this.#impl.build(inputShape, rand);
  }

  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    return this.#impl.forward(x);
  }

  /**
   * Back-propagates `dOut`, adding the parameter gradients into `Param.grad`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null` when `needInputGrad` is false.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    return this.#impl.backward(dOut, needInputGrad);
  }

  /** The trainable parameters: `kernel` and `bias` (none before `build`). */
  params(): Param[] {
    return this.#impl.params();
  }

  /** The description stored in model files (every declared option). */
  config(): LayerConfig {
    return optionsConfig(this, CONV2D_OPTIONS);
  }
}

/** Options of {@linkcode DepthwiseConv2D}. */
export interface DepthwiseConv2DOptions extends Omit<Conv2DOptions, "filters" | "groups"> {
  /** Filters per input channel; default 1 (the output has `channels · depthMultiplier` channels). */
  depthMultiplier?: number;
}

/**
 * A depthwise convolution (MobileNet): each input channel is convolved with
 * its own `depthMultiplier` filters, so the output has `cIn · depthMultiplier`
 * channels, channel `c · depthMultiplier + j` from input channel `c` (the
 * order of Keras's and PyTorch's depthwise layers). It is a {@linkcode Conv2D}
 * with `groups = cIn`. Parameters: `kernel` `[fH, fW, 1, cIn · depthMultiplier]`
 * (the memory layout of Keras's `[fH, fW, cIn, depthMultiplier]`) and `bias`.
 *
 * @example Usage
 * ```ts
 * import { DepthwiseConv2D, Sequential } from "@convnet/wasm";
 * const model = new Sequential([new DepthwiseConv2D({ kernelSize: 3, padding: "same", stride: 2 })], [56, 56, 64]);
 * model.outputShape; // [28, 28, 64]
 * ```
 */
export class DepthwiseConv2D extends LayerBase implements Layer {
  /** `"DepthwiseConv2D"`. */
  readonly kind = "DepthwiseConv2D" as const;
  /** `"DepthwiseConv2D"`. */
  static readonly kind = "DepthwiseConv2D" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = DEPTHWISE_OPTIONS;
  /** `"he"` or `"glorot"`. */
  readonly init: "he" | "glorot";
  /** The layer's name. */
  name: string;
  /** Filter size `[h, w]`. */
  readonly kernelSize: readonly [number, number];
  /** Step between windows `[h, w]`. */
  readonly stride: readonly [number, number];
  /** Padding as given. */
  readonly padding: Padding;
  /** Step between filter taps `[h, w]`. */
  readonly dilation: readonly [number, number];
  /** `"relu"`, `"relu6"` or `"linear"`. */
  readonly activation: "relu" | "relu6" | "linear";
  readonly #impl: ConvImpl;
  /** Filters per input channel. */
  readonly depthMultiplier: number;

  /**
   * Creates a DepthwiseConv2D.
   *
   * @param options Kernel size, depth multiplier, stride, padding, dilation, initialisation, name.
   * @throws {TypeError} If an option is of the wrong type.
   * @throws {RangeError} On a non-positive or fractional size, or an unknown padding, init or activation.
   */
  constructor(options: DepthwiseConv2DOptions) {
    super();
    const c = readOptions("DepthwiseConv2D", DEPTHWISE_OPTIONS, options);
    this.#impl = new ConvImpl(this, c, (s) => this.#plan(s));
    this.kernelSize = c.kernelSize;
    this.stride = c.stride;
    this.padding = c.padding;
    this.dilation = c.dilation;
    this.activation = c.activation;
    this.init = c.init;
    this.name = c.name;
    this.depthMultiplier = c.depthMultiplier;
  }

  #plan(s: readonly [number, number, number]): ConvPlanned {
    const [inH, inW, cIn] = s, [fH, fW] = this.kernelSize, cOut = cIn * this.depthMultiplier;
    const who = `DepthwiseConv2D "${this.name}"`;
    const pads = resolvePadding(this.#impl.spec, inH, inW, fH, fW, this.stride, this.dilation);
    const g = planConv(who, "options.kernelSize", 0, inH, inW, cIn, fH, fW, cOut, {
      stride: this.stride,
      pads,
      dilation: this.dilation,
      groups: cIn,
    });
    return {
      g,
      kernelShape: [fH, fW, 1, cOut],
      fanIn: fH * fW,
      fanOut: fH * fW * this.depthMultiplier,
      transposed: false,
      out: [g.outH, g.outW, cOut],
    };
  }

  /** Checks the input shape, creates the parameters (from `rand`) and returns the output shape (called by the model). */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    return this.#impl.build(inputShape, rand);
  }

  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    return this.#impl.forward(x);
  }

  /**
   * Back-propagates `dOut`, adding the parameter gradients into `Param.grad`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null` when `needInputGrad` is false.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    return this.#impl.backward(dOut, needInputGrad);
  }

  /** The trainable parameters: `kernel` and `bias` (none before `build`). */
  params(): Param[] {
    return this.#impl.params();
  }

  /** The description stored in model files (every declared option). */
  config(): LayerConfig {
    return optionsConfig(this, DEPTHWISE_OPTIONS);
  }
}

/** Options of {@linkcode Conv2DTranspose}. */
export interface Conv2DTransposeOptions extends Conv2DOptions {
  /** Extra rows and columns at the bottom and right of the output, less than the stride; default 0. */
  outputPadding?: Pair;
}

/**
 * A transposed convolution layer (decoders, U-Nets): each input pixel
 * spreads over an `fH × fW` window of the output, windows `stride` pixels
 * apart, so `stride: 2` doubles the size (see `convTransposeForward`).
 * `padding: "same"` gives exactly `input · stride` pixels. Parameters:
 * `kernel` `[fH, fW, filters / groups, cIn]` and `bias` `[filters]`.
 *
 * @example Usage
 * ```ts
 * import { Conv2DTranspose, Sequential } from "@convnet/wasm";
 * const up = new Sequential([new Conv2DTranspose({ filters: 64, kernelSize: 2, stride: 2 })], [28, 28, 32]);
 * up.outputShape; // [56, 56, 64]
 * ```
 */
export class Conv2DTranspose extends LayerBase implements Layer {
  /** `"Conv2DTranspose"`. */
  readonly kind = "Conv2DTranspose" as const;
  /** `"Conv2DTranspose"`. */
  static readonly kind = "Conv2DTranspose" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = TRANSPOSE_OPTIONS;
  /** `"he"` or `"glorot"`. */
  readonly init: "he" | "glorot";
  /** The layer's name. */
  name: string;
  /** Filter size `[h, w]`. */
  readonly kernelSize: readonly [number, number];
  /** Step between windows `[h, w]`. */
  readonly stride: readonly [number, number];
  /** Padding as given. */
  readonly padding: Padding;
  /** Step between filter taps `[h, w]`. */
  readonly dilation: readonly [number, number];
  /** `"relu"`, `"relu6"` or `"linear"`. */
  readonly activation: "relu" | "relu6" | "linear";
  readonly #impl: ConvImpl;
  /** Output channels. */
  readonly filters: number;
  /** Channel groups. */
  readonly groups: number;
  /** Extra output rows and columns `[h, w]`. */
  readonly outputPadding: readonly [number, number];

  /**
   * Creates a Conv2DTranspose.
   *
   * @param options Filters, kernel size, stride, padding, output padding, dilation, groups, initialisation, name.
   * @throws {TypeError} If an option is of the wrong type.
   * @throws {RangeError} On a non-positive or fractional size, or an unknown padding, init or activation.
   */
  constructor(options: Conv2DTransposeOptions) {
    super();
    const c = readOptions("Conv2DTranspose", TRANSPOSE_OPTIONS, options);
    this.#impl = new ConvImpl(this, c, (s) => this.#plan(s));
    this.kernelSize = c.kernelSize;
    this.stride = c.stride;
    this.padding = c.padding;
    this.dilation = c.dilation;
    this.activation = c.activation;
    this.init = c.init;
    this.name = c.name;
    this.filters = c.filters;
    this.groups = c.groups;
    this.outputPadding = c.outputPadding;
  }

  #plan(s: readonly [number, number, number]): ConvPlanned {
    const [inH, inW, cIn] = s, [fH, fW] = this.kernelSize, gr = this.groups;
    const who = `Conv2DTranspose "${this.name}"`;
    const g = planConvTranspose(who, "options", 0, inH, inW, cIn, fH, fW, this.filters, {
      stride: this.stride,
      spec: this.#impl.spec,
      dilation: this.dilation,
      groups: gr,
      outputPadding: this.outputPadding,
    });
    return {
      g,
      kernelShape: [fH, fW, this.filters / gr, cIn],
      fanIn: fH * fW * (cIn / gr),
      fanOut: fH * fW * (this.filters / gr),
      transposed: true,
      out: [g.inH, g.inW, this.filters],
    };
  }

  /** Checks the input shape, creates the parameters (from `rand`) and returns the output shape (called by the model). */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    return this.#impl.build(inputShape, rand);
  }

  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    return this.#impl.forward(x);
  }

  /**
   * Back-propagates `dOut`, adding the parameter gradients into `Param.grad`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null` when `needInputGrad` is false.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    return this.#impl.backward(dOut, needInputGrad);
  }

  /** The trainable parameters: `kernel` and `bias` (none before `build`). */
  params(): Param[] {
    return this.#impl.params();
  }

  /** The description stored in model files (every declared option). */
  config(): LayerConfig {
    return optionsConfig(this, TRANSPOSE_OPTIONS);
  }
}

// This module is browser compatible.

import { activeKernels } from "../backend/select.ts";
import type { PoolGeometry, PoolMode } from "../backend/types.ts";
import type { Tensor } from "../core/tensor.ts";
import {
  checkPair,
  type Padding,
  type PadSpec,
  type Pair,
  planPool,
  resolvePadding,
} from "../core/_geometry.ts";
import {
  booleanOption,
  dilationOption,
  paddingOption,
  padSpec,
  pairConfig,
  strideOption,
  STRIDES,
} from "./_conv_options.ts";
import { type OptionDecls, optionsConfig, readOptions } from "./_declare.ts";
import { checkBatch, noForward, notBuilt } from "./_util.ts";

const MAX_POOL_OPTIONS = {
  poolSize: {
    type: "number | [h, w]",
    default: "2",
    doc: "Window size: a number (square) or `[h, w]`.",
    read: (k: string, a: string, v: unknown) => checkPair(k, a, v ?? 2),
    save: pairConfig,
  },
  stride: strideOption(
    "Step between windows: a number or `[h, w]`.",
    (all) => all["poolSize"] ?? 2,
    "`poolSize`",
  ),
  strides: STRIDES,
  padding: paddingOption("Padding around the input; padding never wins a maximum."),
  dilation: dilationOption("Step between window taps: a number or `[h, w]`."),
  ceilMode: booleanOption("Round the output size up, as PyTorch's `ceil_mode`.", false),
} as const;

const AVG_POOL_OPTIONS = {
  ...MAX_POOL_OPTIONS,
  countIncludePad: booleanOption(
    "Divide by every tap inside the padded input, not only the input's (PyTorch's default is true).",
    false,
  ),
} as const;

const GLOBAL_POOL_OPTIONS = {
  keepDims: booleanOption("Keep the `[1, 1, c]` shape instead of `[c]`.", false),
} as const;
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

/** Options of {@linkcode MaxPool2D} and {@linkcode AvgPool2D}. */
export interface Pool2DOptions {
  /** Window size: a number (square) or `[h, w]`; default 2. */
  poolSize?: Pair;
  /** Step between windows: a number or `[h, w]`; default `poolSize`. (`strides` is accepted too.) */
  stride?: Pair;
  /** Keras's name for `stride`. */
  strides?: Pair;
  /**
   * Padding: a number, `[h, w]`, `[top, bottom, left, right]`, `"valid"` (none,
   * the default) or `"same"`. Padding never wins a maximum.
   */
  padding?: Padding;
  /** Step between window taps: a number or `[h, w]`; default 1. */
  dilation?: Pair;
  /** Round the output size up, as PyTorch's `ceil_mode`; default false. */
  ceilMode?: boolean;
  /** The layer's name; the model assigns one if absent. */
  name?: string;
}

/** Options of {@linkcode AvgPool2D}. */
export interface AvgPool2DOptions extends Pool2DOptions {
  /** Divide by every tap inside the padded input, not only the input's (PyTorch's default is true); default false. */
  countIncludePad?: boolean;
}

/** The geometry, cache, forward and backward every pooling layer shares (private; composed, not inherited). */
class PoolImpl {
  #g: PoolGeometry | null = null;
  #x: Float32Array | null = null;
  #m = 0;
  #in: readonly [number, number, number] = [0, 0, 0];

  constructor(
    readonly layer: Layer,
    readonly mode: () => PoolMode,
    readonly plan: (s: readonly [number, number, number]) => PoolGeometry,
    readonly outShape: (g: PoolGeometry) => SampleShape,
  ) {}

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
    const g = this.plan(s);
    if (rand) {
      this.#in = s;
      this.#g = g;
    }
    return this.outShape(g);
  }

  #geometry(): PoolGeometry {
    if (!this.#g) notBuilt(this.layer);
    return this.#g;
  }

  /** The geometry for a batch of `m`, made once per batch size and frozen (the kernels keep its block). */
  #at(m: number): PoolGeometry {
    const g0 = this.#geometry(), hit = this.#gm;
    if (hit?.from === g0 && hit.g.m === m) return hit.g;
    return (this.#gm = { from: g0, g: Object.freeze({ ...g0, m }) }).g;
  }
  #gm: { from: PoolGeometry; g: PoolGeometry } | null = null;

  forward(x: Tensor): Tensor {
    const m = checkBatch(this.layer, "the input", x, this.#in);
    const g = this.#at(m);
    this.#x = x.data;
    this.#m = m;
    return {
      shape: [m, ...this.outShape(g)],
      data: activeKernels().poolForward(g, x.data, this.mode()),
    };
  }

  backward(dOut: Tensor, needInputGrad: boolean): Tensor | null {
    const l = this.layer;
    if (!this.#x) noForward(l);
    const g = this.#at(this.#m);
    checkBatch(l, "dOut", dOut, this.outShape(g));
    if (dOut.shape[0] !== this.#m) {
      throw new RangeError(
        `${l.kind} "${l.name}": dOut has batch ${dOut.shape[0]}, the forward pass had ${this.#m}`,
      );
    }
    if (!needInputGrad) return null;
    return {
      shape: [g.m, ...this.#in],
      data: activeKernels().poolBackward(g, this.#x, dOut.data, this.mode()),
    };
  }
}

/**
 * The shared implementation of {@linkcode MaxPool2D} and {@linkcode AvgPool2D}.
 *
 * @example Usage
 * ```ts
 * import { MaxPool2D, Pool2D } from "@convnet/wasm";
 * new MaxPool2D() instanceof Pool2D; // true
 * ```
 */
export abstract class Pool2D extends LayerBase implements Layer {
  /** `"MaxPool2D"` or `"AvgPool2D"`. */
  abstract readonly kind: "MaxPool2D" | "AvgPool2D";
  /** The pooling the subclass does. */
  protected abstract readonly mode: PoolMode;
  /** The layer's name. */
  name: string;
  readonly #impl: PoolImpl;
  /** Window size `[h, w]`. */
  readonly poolSize: readonly [number, number];
  /** Step between windows `[h, w]`. */
  readonly stride: readonly [number, number];
  /** Padding as given. */
  readonly padding: Padding;
  /** Step between window taps `[h, w]`. */
  readonly dilation: readonly [number, number];
  /** Whether the output size rounds up. */
  readonly ceilMode: boolean;
  /** Whether an average counts the padding. */
  readonly countIncludePad: boolean;
  readonly #spec: PadSpec;

  /**
   * Creates a Pool2D.
   *
   * @param kind The subclass's name, for error messages.
   * @param decls The subclass's declared options.
   * @param options Window size (default 2), stride (default the window size), padding, dilation, ceil mode, name.
   */
  constructor(kind: "MaxPool2D" | "AvgPool2D", decls: OptionDecls, options: AvgPool2DOptions) {
    super();
    const c = readOptions(kind, decls as typeof AVG_POOL_OPTIONS, options);
    this.name = c.name;
    this.#impl = new PoolImpl(
      this,
      () => this.mode,
      (sh) => this.#plan(sh),
      (g) => [g.outH, g.outW, g.c],
    );
    this.poolSize = c.poolSize;
    this.stride = c.stride;
    this.padding = c.padding;
    this.#spec = padSpec(this.padding);
    this.dilation = c.dilation;
    this.ceilMode = c.ceilMode;
    this.countIncludePad = c.countIncludePad ?? false;
  }

  #plan(s: readonly [number, number, number]): PoolGeometry {
    const [inH, inW, c] = s, [fH, fW] = this.poolSize;
    const pads = resolvePadding(this.#spec, inH, inW, fH, fW, this.stride, this.dilation);
    return planPool(
      `${this.kind} "${this.name}"`,
      "options.poolSize",
      0,
      inH,
      inW,
      c,
      fH,
      fW,
      this.stride,
      pads,
      this.dilation,
      this.ceilMode,
      this.countIncludePad,
    );
  }

  /** Checks the input shape and returns the output shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    return this.#impl.build(inputShape, rand);
  }

  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    return this.#impl.forward(x);
  }

  /**
   * Back-propagates `dOut`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null` when `needInputGrad` is false.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    return this.#impl.backward(dOut, needInputGrad);
  }

  /** The trainable parameters: none, for this layer. */
  params(): Param[] {
    return [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, (this.constructor as unknown as { options: OptionDecls }).options);
  }
}

/**
 * Max pooling over NHWC batches. Backward routes each window's gradient to
 * its first maximum; padding never wins.
 *
 * @example Usage
 * ```ts
 * import { MaxPool2D, Sequential } from "@convnet/wasm";
 * new Sequential([new MaxPool2D({ poolSize: 2 })], [28, 28, 8]).outputShape; // [14, 14, 8]
 * // PyTorch's MaxPool2d(3, 2, padding=1, ceil_mode=True):
 * new Sequential([new MaxPool2D({ poolSize: 3, stride: 2, padding: 1, ceilMode: true })], [28, 28, 8])
 *   .outputShape; // [15, 15, 8]
 * ```
 */
export class MaxPool2D extends Pool2D {
  /** `"MaxPool2D"`. */
  readonly kind = "MaxPool2D" as const;
  /** `"MaxPool2D"`. */
  static readonly kind = "MaxPool2D" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = MAX_POOL_OPTIONS;
  /** Max pooling. */
  protected readonly mode = "max" as const;
  /**
   * Creates a MaxPool2D.
   *
   * @param options Window size (default 2), stride (default the window size), padding, dilation, ceil mode, name.
   */
  constructor(options: Pool2DOptions = {}) {
    super("MaxPool2D", MAX_POOL_OPTIONS, options);
  }
}

/**
 * Average pooling over NHWC batches. With padding, a window's average is
 * over its in-bounds taps unless `countIncludePad`.
 *
 * @example Usage
 * ```ts
 * import { AvgPool2D, Sequential } from "@convnet/wasm";
 * new Sequential([new AvgPool2D({ poolSize: 2 })], [28, 28, 8]).outputShape; // [14, 14, 8]
 * ```
 */
export class AvgPool2D extends Pool2D {
  /** `"AvgPool2D"`. */
  readonly kind = "AvgPool2D" as const;
  /** `"AvgPool2D"`. */
  static readonly kind = "AvgPool2D" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = AVG_POOL_OPTIONS;
  /** Average pooling. */
  protected readonly mode = "average" as const;
  /**
   * Creates an AvgPool2D.
   *
   * @param options Window size (default 2), stride (default the window size), padding, dilation, ceil mode, countIncludePad, name.
   */
  constructor(options: AvgPool2DOptions = {}) {
    super("AvgPool2D", AVG_POOL_OPTIONS, options);
  }
}

/** Options of {@linkcode GlobalAvgPool2D} and {@linkcode GlobalMaxPool2D}. */
export interface GlobalPool2DOptions {
  /** Keep the `[1, 1, c]` shape instead of `[c]`; default false. */
  keepDims?: boolean;
  /** The layer's name; the model assigns one if absent. */
  name?: string;
}

/** The geometry of a global pool: one window over the whole map. */
function globalPlan(layer: Layer, s: readonly [number, number, number]): PoolGeometry {
  const [h, w, c] = s;
  return planPool(`${layer.kind} "${layer.name}"`, "the map", 0, h, w, c, h, w, [h, w], [
    0,
    0,
    0,
    0,
  ]);
}

/**
 * The mean of each channel over the whole feature map: `[h, w, c]` → `[c]`
 * (or `[1, 1, c]` with `keepDims`), as at the end of a ResNet.
 *
 * @example Usage
 * ```ts
 * import { GlobalAvgPool2D, Sequential } from "@convnet/wasm";
 * new Sequential([new GlobalAvgPool2D()], [7, 7, 512]).outputShape; // [512]
 * ```
 */
export class GlobalAvgPool2D extends LayerBase implements Layer {
  /** `"GlobalAvgPool2D"`. */
  readonly kind = "GlobalAvgPool2D" as const;
  /** `"GlobalAvgPool2D"`. */
  static readonly kind = "GlobalAvgPool2D" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = GLOBAL_POOL_OPTIONS;
  /** The layer's name. */
  name: string;
  /** Whether the output is `[1, 1, c]` (else `[c]`). */
  readonly keepDims: boolean;
  readonly #impl: PoolImpl;

  /**
   * Creates a GlobalAvgPool2D.
   *
   * @param options `keepDims`, name.
   */
  constructor(options: GlobalPool2DOptions = {}) {
    super();
    const c = readOptions("GlobalAvgPool2D", GLOBAL_POOL_OPTIONS, options);
    this.name = c.name;
    this.keepDims = c.keepDims;
    this.#impl = new PoolImpl(
      this,
      () => "average",
      (s) => globalPlan(this, s),
      (g) => (this.keepDims ? [1, 1, g.c] : [g.c]),
    );
  }

  /** Checks the input shape and returns the output shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    return this.#impl.build(inputShape, rand);
  }

  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    return this.#impl.forward(x);
  }

  /**
   * Back-propagates `dOut`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null` when `needInputGrad` is false.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    return this.#impl.backward(dOut, needInputGrad);
  }

  /** The trainable parameters: none, for this layer. */
  params(): Param[] {
    return [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, GLOBAL_POOL_OPTIONS);
  }
}

/**
 * The maximum of each channel over the whole feature map: `[h, w, c]` → `[c]`
 * (or `[1, 1, c]` with `keepDims`).
 *
 * @example Usage
 * ```ts
 * import { GlobalMaxPool2D, Sequential } from "@convnet/wasm";
 * new Sequential([new GlobalMaxPool2D({ keepDims: true })], [7, 7, 512]).outputShape; // [1, 1, 512]
 * ```
 */
export class GlobalMaxPool2D extends LayerBase implements Layer {
  /** `"GlobalMaxPool2D"`. */
  readonly kind = "GlobalMaxPool2D" as const;
  /** `"GlobalMaxPool2D"`. */
  static readonly kind = "GlobalMaxPool2D" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = GLOBAL_POOL_OPTIONS;
  /** The layer's name. */
  name: string;
  /** Whether the output is `[1, 1, c]` (else `[c]`). */
  readonly keepDims: boolean;
  readonly #impl: PoolImpl;

  /**
   * Creates a GlobalMaxPool2D.
   *
   * @param options `keepDims`, name.
   */
  constructor(options: GlobalPool2DOptions = {}) {
    super();
    const c = readOptions("GlobalMaxPool2D", GLOBAL_POOL_OPTIONS, options);
    this.name = c.name;
    this.keepDims = c.keepDims;
    this.#impl = new PoolImpl(
      this,
      () => "max",
      (s) => globalPlan(this, s),
      (g) => (this.keepDims ? [1, 1, g.c] : [g.c]),
    );
  }

  /** Checks the input shape and returns the output shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    return this.#impl.build(inputShape, rand);
  }

  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    return this.#impl.forward(x);
  }

  /**
   * Back-propagates `dOut`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null` when `needInputGrad` is false.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    return this.#impl.backward(dOut, needInputGrad);
  }

  /** The trainable parameters: none, for this layer. */
  params(): Param[] {
    return [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, GLOBAL_POOL_OPTIONS);
  }
}

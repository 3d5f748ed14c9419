// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";
import { checkNonNegativeInt, checkPositiveInt, fail } from "../core/_validate.ts";
import { type OptionDecls, optionsConfig, readOptions } from "./_declare.ts";
import { checkBatch, noForward } from "./_util.ts";
import { activeKernels } from "../backend/select.ts";
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

const SHUFFLE_OPTIONS = {
  groups: {
    type: "number",
    default: "required",
    doc: "Channel groups: the channels, viewed as `[groups, c / groups]`, are transposed.",
    read: (k: string, a: string, v: unknown) => checkPositiveInt(k, a, v),
  },
} as const;

/**
 * ShuffleNet's channel shuffle: the channels (last axis), viewed as
 * `[groups, c / groups]`, are transposed, so output channel `j·groups + i`
 * is input channel `i·(c / groups) + j` (PyTorch's `x.view(n, g, c/g, h, w)
 * .transpose(1, 2).reshape(n, c, h, w)`, which `loadOnnx` recognises).
 *
 * @example Usage
 * ```ts
 * import { ChannelShuffle, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new ChannelShuffle({ groups: 2 })], [1, 1, 4]).predict(tensor([0, 1, 2, 3], [1, 1, 1, 4])).data; // Float32Array [0, 2, 1, 3]
 * ```
 */
export class ChannelShuffle extends LayerBase implements Layer {
  /** `"ChannelShuffle"`. */
  readonly kind = "ChannelShuffle" as const;
  /** `"ChannelShuffle"`. */
  static readonly kind = "ChannelShuffle" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = SHUFFLE_OPTIONS;
  /** The layer's name. */
  name: string;
  /** The channel groups. */
  readonly groups: number;
  #shape: SampleShape | null = null;
  #perm: Int32Array | null = null;

  /**
   * Creates a ChannelShuffle.
   *
   * @param options `groups` (required; it must divide the channels), name.
   */
  constructor(options: { groups: number; name?: string }) {
    super();
    const c = readOptions("ChannelShuffle", SHUFFLE_OPTIONS, options);
    this.name = c.name;
    this.groups = c.groups;
  }

  /** Checks that `groups` divides the channels; returns the shape (called by the model). */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    const c = inputShape[inputShape.length - 1]!, g = this.groups;
    if (inputShape.length === 0 || c % g !== 0) {
      fail(
        RangeError,
        `ChannelShuffle "${this.name}"`,
        "options.groups",
        `a divisor of the ${c} channels`,
        g,
      );
    }
    if (rand) {
      this.#shape = inputShape;
      const perm = new Int32Array(c), per = c / g;
      for (let i = 0; i < g; i++) for (let j = 0; j < per; j++) perm[j * g + i] = i * per + j;
      this.#perm = perm;
    }
    return inputShape;
  }

  /** The shuffled channels. */
  forward(x: Tensor): Tensor {
    checkBatch(this, "the input", x, this.#shape ?? []);
    return { shape: x.shape, data: activeKernels().permuteLast(x.data, this.#perm!) };
  }

  /**
   * Back-propagates `dOut` through the inverse permutation.
   *
   * @param dOut The gradient of the loss with respect to the output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    if (!this.#perm) noForward(this);
    checkBatch(this, "dOut", dOut, this.#shape ?? []);
    if (!needInputGrad) return null;
    const perm = this.#perm!, c = perm.length, g = dOut.data, dx = new Float32Array(g.length);
    for (let r = 0; r < g.length; r += c) for (let k = 0; k < c; k++) dx[r + perm[k]!] = g[r + k]!;
    return { shape: dOut.shape, data: dx };
  }

  /** The trainable parameters: none. */
  params(): Param[] {
    return [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, SHUFFLE_OPTIONS);
  }
}

const SLICE_OPTIONS = {
  begin: {
    type: "number",
    default: "required",
    doc: "The first channel kept.",
    read: (k: string, a: string, v: unknown) => checkNonNegativeInt(k, a, v),
  },
  end: {
    type: "number",
    default: "required",
    doc: "One past the last channel kept (more than `begin`).",
    read: (k: string, a: string, v: unknown) => checkPositiveInt(k, a, v),
  },
} as const;

/**
 * Channels `begin` to `end − 1` of the last axis (ONNX `Slice` and `Split` on
 * the channels, as ShuffleNet's `x.chunk(2, dim=1)`). The gradient of the
 * channels left out is zero.
 *
 * @example Usage
 * ```ts
 * import { ChannelSlice, Sequential } from "@convnet/wasm";
 * new Sequential([new ChannelSlice({ begin: 2, end: 5 })], [4, 4, 8]).outputShape; // [4, 4, 3]
 * ```
 */
export class ChannelSlice extends LayerBase implements Layer {
  /** `"ChannelSlice"`. */
  readonly kind = "ChannelSlice" as const;
  /** `"ChannelSlice"`. */
  static readonly kind = "ChannelSlice" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = SLICE_OPTIONS;
  /** The layer's name. */
  name: string;
  /** The first channel kept. */
  readonly begin: number;
  /** One past the last channel kept. */
  readonly end: number;
  #in: SampleShape | null = null;

  /**
   * Creates a ChannelSlice.
   *
   * @param options `begin`, `end` (both required, `begin < end`), name.
   */
  constructor(options: { begin: number; end: number; name?: string }) {
    super();
    const c = readOptions("ChannelSlice", SLICE_OPTIONS, options);
    if (c.end <= c.begin) {
      fail(
        RangeError,
        "ChannelSlice",
        "options.end",
        `more than options.begin (${c.begin})`,
        c.end,
      );
    }
    this.name = c.name;
    this.begin = c.begin;
    this.end = c.end;
  }

  /** Checks that the channels reach `end`; returns the sliced shape (called by the model). */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    const c = inputShape[inputShape.length - 1];
    if (c === undefined || this.end > c) {
      fail(
        RangeError,
        `ChannelSlice "${this.name}"`,
        "options.end",
        `at most the ${c} channels`,
        this.end,
      );
    }
    if (rand) this.#in = inputShape;
    return [...inputShape.slice(0, -1), this.end - this.begin];
  }

  /** The kept channels. */
  forward(x: Tensor): Tensor {
    const s = this.#in ?? [];
    const m = checkBatch(this, "the input", x, s);
    const c = s[s.length - 1]!, w = this.end - this.begin;
    const y = activeKernels().sliceLast(x.data, c, this.begin, w);
    return { shape: [m, ...s.slice(0, -1), w], data: y };
  }

  /**
   * Back-propagates `dOut` into the kept channels (zero elsewhere).
   *
   * @param dOut The gradient of the loss with respect to the output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    const s = this.#in;
    if (!s) noForward(this);
    const m = checkBatch(this, "dOut", dOut, [...s.slice(0, -1), this.end - this.begin]);
    if (!needInputGrad) return null;
    const c = s[s.length - 1]!, w = this.end - this.begin, rows = dOut.data.length / w;
    const dx = new Float32Array(rows * c), g = dOut.data;
    for (let r = 0; r < rows; r++) {
      const i0 = r * c + this.begin, o0 = r * w;
      for (let k = 0; k < w; k++) dx[i0 + k] = g[o0 + k]!;
    }
    return { shape: [m, ...s], data: dx };
  }

  /** The trainable parameters: none. */
  params(): Param[] {
    return [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, SLICE_OPTIONS);
  }
}

// This module is browser compatible.

import { outputArray } from "../core/_outputs.ts";
import { erf as erfApprox } from "../core/_math.ts";
import type { Tensor } from "../core/tensor.ts";
import { activeKernels } from "../backend/select.ts";
import { checkFinite, checkNumberIn, checkOneOf, fail } from "../core/_validate.ts";
import { checkSeed, mulberry32 } from "../core/random.ts";
import { checkBatch, noForward } from "./_util.ts";
import { type OptionDecls, optionsConfig, readOptions } from "./_declare.ts";
import { ElementwiseLayer } from "./elementwise.ts";
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

/** Options of the activation layers. */
export interface ActivationOptions {
  /** The layer's name; the model assigns one if absent. */
  name?: string;
}

const NO_OPTIONS = {} as const;

const LEAKY_OPTIONS = {
  alpha: {
    type: "number",
    default: "0.01",
    doc: "The slope for negative inputs, in [0, 1).",
    read: (k: string, a: string, v: unknown) => checkNumberIn(k, a, v ?? 0.01, 0, 1, true),
  },
} as const;

/**
 * The leaky rectifier: `x` where positive, `alpha · x` elsewhere
 * (PyTorch's `LeakyReLU`, default slope 0.01; ONNX's `LeakyRelu`). NaN stays NaN.
 *
 * @example Usage
 * ```ts
 * import { LeakyReLU, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new LeakyReLU({ alpha: 0.1 })], [2]).predict(tensor([-1, 2], [1, 2])).data; // [-0.1, 2]
 * ```
 */
export class LeakyReLU extends ElementwiseLayer {
  /** `"LeakyReLU"`. */
  readonly kind = "LeakyReLU" as const;
  /** `"LeakyReLU"`. */
  static readonly kind = "LeakyReLU" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = LEAKY_OPTIONS;
  /** The slope for negative inputs. */
  readonly alpha: number;

  /**
   * Creates a LeakyReLU.
   *
   * @param options `alpha` (a number in [0, 1), default 0.01), name.
   */
  constructor(options: ActivationOptions & { alpha?: number } = {}) {
    const c = readOptions("LeakyReLU", LEAKY_OPTIONS, options);
    super(c.name);
    this.alpha = c.alpha;
  }
  /** `y = x > 0 ? x : alpha · x`. */
  protected f(x: Float32Array, y: Float32Array): void {
    const a = this.alpha;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      y[i] = v > 0 ? v : a * v;
    }
  }
  /** `dx = x > 0 ? g : alpha · g`. */
  protected df(g: Float32Array, x: Float32Array, _y: Float32Array, d: Float32Array): void {
    const a = this.alpha;
    for (let i = 0; i < g.length; i++) d[i] = x[i]! > 0 ? g[i]! : a * g[i]!;
  }
}

/**
 * `min(max(0, x), 6)` element-wise (MobileNets; ONNX `Clip(0, 6)`). Its
 * gradient passes where `0 < x < 6`. NaN stays NaN, as in PyTorch.
 *
 * @example Usage
 * ```ts
 * import { ReLU6, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new ReLU6()], [3]).predict(tensor([-4, 0, 8], [1, 3])).data; // Float32Array [0, 0, 6]
 * ```
 */
export class ReLU6 extends ElementwiseLayer {
  /** `"ReLU6"`. */
  readonly kind = "ReLU6" as const;
  /** `"ReLU6"`. */
  static readonly kind = "ReLU6" as const;
  /** Its options (only `name`). */
  static readonly options: OptionDecls = NO_OPTIONS;

  /**
   * Creates a ReLU6.
   *
   * @param options The layer's name.
   */
  constructor(options: ActivationOptions = {}) {
    super(readOptions("ReLU6", NO_OPTIONS, options).name);
  }
  /** `y = x < 0 ? 0 : x > 6 ? 6 : x` (NaN passes). */
  protected f(x: Float32Array, y: Float32Array): void {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      y[i] = v < 0 ? 0 : v > 6 ? 6 : v;
    }
  }
  /** `dx = 0 < x < 6 ? g : 0`. */
  protected df(g: Float32Array, x: Float32Array, _y: Float32Array, d: Float32Array): void {
    for (let i = 0; i < g.length; i++) {
      const v = x[i]!;
      d[i] = v > 0 && v < 6 ? g[i]! : 0;
    }
  }
}

/**
 * The logistic function `1 / (1 + e^−x)` element-wise.
 *
 * @example Usage
 * ```ts
 * import { Sigmoid, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new Sigmoid()], [3]).predict(tensor([-4, 0, 4], [1, 3])).data; // about [0.018, 0.5, 0.982]
 * ```
 */
export class Sigmoid extends ElementwiseLayer {
  /** `"Sigmoid"`. */
  readonly kind = "Sigmoid" as const;
  /** `"Sigmoid"`. */
  static readonly kind = "Sigmoid" as const;
  /** Its options (only `name`). */
  static readonly options: OptionDecls = NO_OPTIONS;

  /**
   * Creates a Sigmoid.
   *
   * @param options The layer's name.
   */
  constructor(options: ActivationOptions = {}) {
    super(readOptions("Sigmoid", NO_OPTIONS, options).name);
  }
  /** `y = 1 / (1 + e^−x)` (the JS twin of the kernel). */
  protected f(x: Float32Array, y: Float32Array): void {
    for (let i = 0; i < x.length; i++) y[i] = 1 / (1 + Math.exp(-x[i]!));
  }
  /** The kernel, at every size: the same input gives the same bits whatever the batch. */
  protected override whole(x: Float32Array): Float32Array {
    return activeKernels().activation("sigmoid", x);
  }
  /** `dx = g · y · (1 − y)`. */
  protected df(g: Float32Array, _x: Float32Array, y: Float32Array, d: Float32Array): void {
    for (let i = 0; i < g.length; i++) d[i] = g[i]! * y[i]! * (1 - y[i]!);
  }
}

/**
 * The hyperbolic tangent element-wise.
 *
 * @example Usage
 * ```ts
 * import { Tanh, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new Tanh()], [3]).predict(tensor([-4, 0, 4], [1, 3])).data; // about [-0.9993, 0, 0.9993]
 * ```
 */
export class Tanh extends ElementwiseLayer {
  /** `"Tanh"`. */
  readonly kind = "Tanh" as const;
  /** `"Tanh"`. */
  static readonly kind = "Tanh" as const;
  /** Its options (only `name`). */
  static readonly options: OptionDecls = NO_OPTIONS;

  /**
   * Creates a Tanh.
   *
   * @param options The layer's name.
   */
  constructor(options: ActivationOptions = {}) {
    super(readOptions("Tanh", NO_OPTIONS, options).name);
  }
  /** `y = tanh(x)` (the JS twin of the kernel). */
  protected f(x: Float32Array, y: Float32Array): void {
    for (let i = 0; i < x.length; i++) y[i] = Math.tanh(x[i]!);
  }
  /** The kernel, at every size. */
  protected override whole(x: Float32Array): Float32Array {
    return activeKernels().activation("tanh", x);
  }
  /** `dx = g · (1 − y²)`. */
  protected df(g: Float32Array, _x: Float32Array, y: Float32Array, d: Float32Array): void {
    for (let i = 0; i < g.length; i++) d[i] = g[i]! * (1 - y[i]! * y[i]!);
  }
}

/**
 * `x · ReLU6(x + 3) / 6` element-wise (MobileNetV3; PyTorch `Hardswish`, ONNX `HardSwish`).
 *
 * @example Usage
 * ```ts
 * import { HardSwish, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new HardSwish()], [3]).predict(tensor([-4, 0, 4], [1, 3])).data; // Float32Array [-0, 0, 4]
 * ```
 */
export class HardSwish extends ElementwiseLayer {
  /** `"HardSwish"`. */
  readonly kind = "HardSwish" as const;
  /** `"HardSwish"`. */
  static readonly kind = "HardSwish" as const;
  /** Its options (only `name`). */
  static readonly options: OptionDecls = NO_OPTIONS;

  /**
   * Creates a HardSwish.
   *
   * @param options The layer's name.
   */
  constructor(options: ActivationOptions = {}) {
    super(readOptions("HardSwish", NO_OPTIONS, options).name);
  }
  /** `y = x ≤ −3 ? 0 : x ≥ 3 ? x : x(x + 3)/6` (NaN passes). */
  protected f(x: Float32Array, y: Float32Array): void {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      y[i] = v <= -3 ? 0 : v >= 3 ? v : (v * (v + 3)) / 6;
    }
  }
  /** `dx = g · (x < −3 ? 0 : x > 3 ? 1 : (2x + 3)/6)`. */
  protected df(g: Float32Array, x: Float32Array, _y: Float32Array, d: Float32Array): void {
    for (let i = 0; i < g.length; i++) {
      const v = x[i]!;
      d[i] = g[i]! * (v < -3 ? 0 : v > 3 ? 1 : (2 * v + 3) / 6);
    }
  }
}

/**
 * The softmax over the last axis (a classifier's probabilities, inside a
 * graph). For training a classifier, leave the model's output as logits:
 * `softmaxCrossEntropy` fuses the two stably.
 *
 * @example Usage
 * ```ts
 * import { Sequential, Softmax, tensor } from "@convnet/wasm";
 * new Sequential([new Softmax()], [2]).predict(tensor([0, 0], [1, 2])).data; // Float32Array [0.5, 0.5]
 * ```
 */
export class Softmax extends LayerBase implements Layer {
  /** `"Softmax"`. */
  readonly kind = "Softmax" as const;
  /** `"Softmax"`. */
  static readonly kind = "Softmax" as const;
  /** Its options (only `name`). */
  static readonly options: OptionDecls = NO_OPTIONS;
  /** The layer's name. */
  name: string;
  #shape: SampleShape | null = null;
  #y: Float32Array | null = null;

  /**
   * Creates a Softmax.
   *
   * @param options The layer's name.
   */
  constructor(options: ActivationOptions = {}) {
    super();
    this.name = readOptions("Softmax", NO_OPTIONS, options).name;
  }

  /** Returns the input shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    if (rand) this.#shape = inputShape;
    return inputShape;
  }

  /** The softmax of each row of the last axis, computed stably. */
  forward(x: Tensor): Tensor {
    checkBatch(this, "the input", x, this.#shape ?? []);
    const k = x.shape[x.shape.length - 1]!, z = x.data, y = outputArray(z.length);
    for (let r = 0; r < z.length; r += k) {
      let max = -Infinity;
      for (let j = 0; j < k; j++) max = Math.max(max, z[r + j]!);
      let sum = 0;
      for (let j = 0; j < k; j++) sum += Math.exp(z[r + j]! - max);
      for (let j = 0; j < k; j++) y[r + j] = Math.exp(z[r + j]! - max) / sum;
    }
    this.#y = y;
    return { shape: x.shape, data: y };
  }

  /**
   * Back-propagates `dOut`: `y · (dOut − Σ dOut·y)` per row.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    const y = this.#y;
    if (!y) noForward(this);
    checkBatch(this, "dOut", dOut, this.#shape ?? []);
    if (!needInputGrad) return null;
    const k = dOut.shape[dOut.shape.length - 1]!, g = dOut.data, dx = new Float32Array(g.length);
    for (let r = 0; r < g.length; r += k) {
      let dot = 0;
      for (let j = 0; j < k; j++) dot += g[r + j]! * y[r + j]!;
      for (let j = 0; j < k; j++) dx[r + j] = y[r + j]! * (g[r + j]! - dot);
    }
    return { shape: dOut.shape, data: dx };
  }

  /** The trainable parameters: none. */
  params(): Param[] {
    return [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, NO_OPTIONS);
  }
}

const DROPOUT_OPTIONS = {
  rate: {
    type: "number",
    default: "0.5",
    doc: "The probability of zeroing a value, in [0, 1).",
    read: (k: string, a: string, v: unknown) => checkNumberIn(k, a, v ?? 0.5, 0, 1, true),
  },
  seed: {
    type: "number",
    default: "1",
    doc: "The seed of the masks' PRNG, an integer in [0, 2^32).",
    read: (k: string, a: string, v: unknown) => checkSeed(k, a, v ?? 1),
  },
} as const;

/**
 * Dropout: in training mode, zeroes each value with probability `rate` and
 * scales the rest by `1 / (1 − rate)` (so the expected value is unchanged);
 * in inference mode (`predict`, `evaluate`), the identity. The masks come
 * from a seeded PRNG, so a training run repeats bit for bit.
 *
 * @example Usage
 * ```ts
 * import { Dense, Dropout, Sequential, tensor } from "@convnet/wasm";
 * const model = new Sequential([new Dense({ units: 8 }), new Dropout({ rate: 0.5, seed: 1 })], [4]);
 * model.predict(tensor(new Float32Array(4).fill(1), [1, 4])).shape; // [1, 8]: no dropout at inference
 * ```
 */
export class Dropout extends LayerBase implements Layer {
  /** `"Dropout"`. */
  readonly kind = "Dropout" as const;
  /** `"Dropout"`. */
  static readonly kind = "Dropout" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = DROPOUT_OPTIONS;
  /** The layer's name. */
  name: string;
  /** The probability of zeroing a value. */
  readonly rate: number;
  /** The PRNG seed. */
  readonly seed: number;
  #rand: () => number;
  #training = false;
  #shape: SampleShape | null = null;
  #mask: Float32Array | null = null;

  /**
   * Creates a Dropout.
   *
   * @param options `rate` in [0, 1) (default 0.5), `seed` (an integer in [0, 2^32), default 1), name.
   */
  constructor(options: ActivationOptions & { rate?: number; seed?: number } = {}) {
    super();
    const c = readOptions("Dropout", DROPOUT_OPTIONS, options);
    this.name = c.name;
    this.rate = c.rate;
    this.seed = c.seed;
    this.#rand = mulberry32(this.seed);
  }

  /** Switches training mode (masks on) or inference (identity); the model calls it. */
  setTraining(training: boolean): void {
    this.#training = training;
  }

  /** Returns the input shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    if (rand) this.#shape = inputShape;
    return inputShape;
  }

  /** The input, with dropout applied in training mode. */
  forward(x: Tensor): Tensor {
    checkBatch(this, "the input", x, this.#shape ?? []);
    if (!this.#training || this.rate === 0) {
      this.#mask = null;
      return { shape: x.shape, data: x.data.slice() };
    }
    const keep = 1 / (1 - this.rate), mask = new Float32Array(x.data.length);
    const y = new Float32Array(x.data.length);
    for (let i = 0; i < y.length; i++) {
      mask[i] = this.#rand() < this.rate ? 0 : keep;
      y[i] = x.data[i]! * mask[i]!;
    }
    this.#mask = mask;
    return { shape: x.shape, data: y };
  }

  /**
   * Back-propagates `dOut` through the last forward pass's mask.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    checkBatch(this, "dOut", dOut, this.#shape ?? []);
    if (!needInputGrad) return null;
    const mask = this.#mask;
    if (!mask) return { shape: dOut.shape, data: dOut.data.slice() };
    const dx = new Float32Array(dOut.data.length);
    for (let i = 0; i < dx.length; i++) dx[i] = dOut.data[i]! * mask[i]!;
    return { shape: dOut.shape, data: dx };
  }

  /** The trainable parameters: none. */
  params(): Param[] {
    return [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, DROPOUT_OPTIONS);
  }
}

const HARD_SIGMOID_OPTIONS = {
  alpha: {
    type: "number",
    default: "0.2",
    doc: "The slope (PyTorch's `Hardsigmoid` is 1/6).",
    read: (k: string, a: string, v: unknown) => checkFinite(k, a, v ?? 0.2),
  },
  beta: {
    type: "number",
    default: "0.5",
    doc: "The offset.",
    read: (k: string, a: string, v: unknown) => checkFinite(k, a, v ?? 0.5),
  },
} as const;

/**
 * `max(0, min(1, alpha · x + beta))` element-wise (ONNX `HardSigmoid`,
 * defaults alpha 0.2 and beta 0.5; PyTorch's `Hardsigmoid` is alpha 1/6).
 * NaN stays NaN.
 *
 * @example Usage
 * ```ts
 * import { HardSigmoid, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new HardSigmoid()], [3]).predict(tensor([-5, 0, 1], [1, 3])).data; // Float32Array [0, 0.5, 0.7]
 * ```
 */
export class HardSigmoid extends ElementwiseLayer {
  /** `"HardSigmoid"`. */
  readonly kind = "HardSigmoid" as const;
  /** `"HardSigmoid"`. */
  static readonly kind = "HardSigmoid" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = HARD_SIGMOID_OPTIONS;
  /** The slope. */
  readonly alpha: number;
  /** The offset. */
  readonly beta: number;

  /**
   * Creates a HardSigmoid.
   *
   * @param options `alpha` (finite, default 0.2), `beta` (finite, default 0.5), name.
   */
  constructor(options: ActivationOptions & { alpha?: number; beta?: number } = {}) {
    const c = readOptions("HardSigmoid", HARD_SIGMOID_OPTIONS, options);
    super(c.name);
    this.alpha = c.alpha;
    this.beta = c.beta;
  }
  /** `y = clamp(alpha · x + beta, 0, 1)` (NaN passes). */
  protected f(x: Float32Array, y: Float32Array): void {
    const a = this.alpha, b = this.beta;
    for (let i = 0; i < x.length; i++) {
      const v = a * x[i]! + b;
      y[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  /** `dx = 0 < alpha · x + beta < 1 ? alpha · g : 0`. */
  protected df(g: Float32Array, x: Float32Array, _y: Float32Array, d: Float32Array): void {
    const a = this.alpha, b = this.beta;
    for (let i = 0; i < g.length; i++) {
      const v = a * x[i]! + b;
      d[i] = v > 0 && v < 1 ? a * g[i]! : 0;
    }
  }
}

/** A Clip bound: a number, not NaN (an infinite bound is left out of model files: JSON has no Infinity). */
function boundOption(fallback: number, doc: string) {
  return {
    type: "number",
    default: String(fallback),
    doc,
    read: (k: string, a: string, v: unknown): number => {
      const x = v ?? fallback;
      if (typeof x !== "number") fail(TypeError, k, a, "a number", x);
      if (Number.isNaN(x)) fail(RangeError, k, a, "a number, not NaN", x);
      return x;
    },
    save: (v: number) => (Number.isFinite(v) ? v : undefined),
  };
}

const CLIP_OPTIONS = {
  min: boundOption(-Infinity, "The lower bound."),
  max: boundOption(Infinity, "The upper bound, not below `min`."),
} as const;

/**
 * `min(max(x, min), max)` element-wise (ONNX `Clip`; `ReLU6` is `Clip(0, 6)`).
 * Its gradient passes where `min < x < max`. Either bound may be infinite.
 * NaN stays NaN, as in PyTorch's `clamp`.
 *
 * @example Usage
 * ```ts
 * import { Clip, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new Clip({ min: -1, max: 1 })], [3]).predict(tensor([-5, 0.5, 3], [1, 3])).data; // Float32Array [-1, 0.5, 1]
 * ```
 */
export class Clip extends ElementwiseLayer {
  /** `"Clip"`. */
  readonly kind = "Clip" as const;
  /** `"Clip"`. */
  static readonly kind = "Clip" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = CLIP_OPTIONS;
  /** The lower bound. */
  readonly min: number;
  /** The upper bound. */
  readonly max: number;

  /**
   * Creates a Clip.
   *
   * @param options `min` (default −Infinity), `max` (default Infinity; not below `min`), name.
   */
  constructor(options: ActivationOptions & { min?: number; max?: number } = {}) {
    const c = readOptions("Clip", CLIP_OPTIONS, options);
    if (c.max < c.min) {
      fail(RangeError, "Clip", "options.max", `at least options.min (${c.min})`, c.max);
    }
    super(c.name);
    this.min = c.min;
    this.max = c.max;
  }
  /** `y = x < min ? min : x > max ? max : x` (NaN passes). */
  protected f(x: Float32Array, y: Float32Array): void {
    const a = this.min, b = this.max;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      y[i] = v < a ? a : v > b ? b : v;
    }
  }
  /** `dx = min < x < max ? g : 0`. */
  protected df(g: Float32Array, x: Float32Array, _y: Float32Array, d: Float32Array): void {
    const a = this.min, b = this.max;
    for (let i = 0; i < g.length; i++) {
      const v = x[i]!;
      d[i] = v > a && v < b ? g[i]! : 0;
    }
  }
}

const SCALE_SHIFT_OPTIONS = {
  scale: {
    type: "number",
    default: "1",
    doc: "The factor.",
    read: (k: string, a: string, v: unknown) => checkFinite(k, a, v ?? 1),
  },
  shift: {
    type: "number",
    default: "0",
    doc: "Added after scaling.",
    read: (k: string, a: string, v: unknown) => checkFinite(k, a, v ?? 0),
  },
} as const;

/**
 * `x · scale + shift` element-wise with constant numbers (ONNX `Mul`, `Div`,
 * `Add`, `Sub` by a scalar, `Neg`; a `ReduceSum` is a mean times the count).
 *
 * @example Usage
 * ```ts
 * import { ScaleShift, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new ScaleShift({ scale: 2, shift: 1 })], [2]).predict(tensor([1, -1], [1, 2])).data; // Float32Array [3, -1]
 * ```
 */
export class ScaleShift extends ElementwiseLayer {
  /** `"ScaleShift"`. */
  readonly kind = "ScaleShift" as const;
  /** `"ScaleShift"`. */
  static readonly kind = "ScaleShift" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = SCALE_SHIFT_OPTIONS;
  /** The factor. */
  readonly scale: number;
  /** The offset. */
  readonly shift: number;

  /**
   * Creates a ScaleShift.
   *
   * @param options `scale` (default 1), `shift` (default 0), name.
   */
  constructor(options: ActivationOptions & { scale?: number; shift?: number } = {}) {
    const c = readOptions("ScaleShift", SCALE_SHIFT_OPTIONS, options);
    super(c.name);
    this.scale = c.scale;
    this.shift = c.shift;
  }
  /** `y = x · scale + shift`. */
  protected f(x: Float32Array, y: Float32Array): void {
    const a = this.scale, b = this.shift;
    for (let i = 0; i < x.length; i++) y[i] = x[i]! * a + b;
  }
  /** `dx = g · scale`. */
  protected df(g: Float32Array, _x: Float32Array, _y: Float32Array, d: Float32Array): void {
    const a = this.scale;
    for (let i = 0; i < g.length; i++) d[i] = g[i]! * a;
  }
}

/**
 * The error function, to about 1.5e-7 (Abramowitz & Stegun 7.1.26, in
 * float64); odd, ±1 at ±Infinity, NaN stays NaN. The `Erf` and `Gelu`
 * layers use it.
 *
 * @example Usage
 * ```ts
 * import { erf } from "@convnet/wasm";
 * erf(1); // about 0.8427
 * ```
 *
 * @param x The argument.
 * @returns erf(x).
 */
export function erf(x: number): number {
  return erfApprox(x);
}

/**
 * The error function element-wise (ONNX `Erf`).
 *
 * @example Usage
 * ```ts
 * import { Erf, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new Erf()], [2]).predict(tensor([0, 3], [1, 2])).data; // about [0, 0.99998]
 * ```
 */
export class Erf extends ElementwiseLayer {
  /** `"Erf"`. */
  readonly kind = "Erf" as const;
  /** `"Erf"`. */
  static readonly kind = "Erf" as const;
  /** Its options (only `name`). */
  static readonly options: OptionDecls = NO_OPTIONS;

  /**
   * Creates an Erf.
   *
   * @param options The layer's name.
   */
  constructor(options: ActivationOptions = {}) {
    super(readOptions("Erf", NO_OPTIONS, options).name);
  }
  /** `y = erf(x)`. */
  protected f(x: Float32Array, y: Float32Array): void {
    for (let i = 0; i < x.length; i++) y[i] = erf(x[i]!);
  }
  /** The kernel, at every size: the same input gives the same bits whatever the batch. */
  protected override whole(x: Float32Array): Float32Array {
    return activeKernels().activation("erf", x);
  }
  /** `dx = g · 2/√π · e^(−x²)`. */
  protected df(g: Float32Array, x: Float32Array, _y: Float32Array, d: Float32Array): void {
    const k = 2 / Math.sqrt(Math.PI);
    for (let i = 0; i < g.length; i++) d[i] = g[i]! * k * Math.exp(-x[i]! * x[i]!);
  }
}

const GELU_OPTIONS = {
  approximate: {
    type: '"none" | "tanh"',
    default: '"none"',
    doc: '`"none"`: `x·Φ(x)` with erf (PyTorch\'s default); `"tanh"`: the tanh approximation.',
    read: (k: string, a: string, v: unknown) =>
      checkOneOf(k, a, v ?? "none", ["none", "tanh"] as const),
  },
} as const;

/**
 * The Gaussian error linear unit `x·Φ(x) = x·(1 + erf(x/√2))/2` element-wise
 * (PyTorch's `GELU`, ConvNeXt's activation; ONNX `Gelu`, and the Div → Erf →
 * Add → Mul → Mul pattern older exports write), or its tanh approximation.
 *
 * @example Usage
 * ```ts
 * import { Gelu, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new Gelu()], [3]).predict(tensor([-1, 0, 1], [1, 3])).data; // about [-0.1587, 0, 0.8413]
 * ```
 */
export class Gelu extends ElementwiseLayer {
  /** `"Gelu"`. */
  readonly kind = "Gelu" as const;
  /** `"Gelu"`. */
  static readonly kind = "Gelu" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = GELU_OPTIONS;
  /** `"none"` (exact) or `"tanh"`. */
  readonly approximate: "none" | "tanh";

  /**
   * Creates a Gelu.
   *
   * @param options `approximate` (`"none"`, the default, or `"tanh"`), name.
   */
  constructor(options: ActivationOptions & { approximate?: "none" | "tanh" } = {}) {
    const c = readOptions("Gelu", GELU_OPTIONS, options);
    super(c.name);
    this.approximate = c.approximate;
  }
  /** `y = x·Φ(x)`. */
  protected f(x: Float32Array, y: Float32Array): void {
    if (this.approximate === "tanh") {
      const k = Math.sqrt(2 / Math.PI);
      for (let i = 0; i < x.length; i++) {
        const v = x[i]!;
        y[i] = 0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v * v * v)));
      }
    } else for (let i = 0; i < x.length; i++) y[i] = 0.5 * x[i]! * (1 + erf(x[i]! * Math.SQRT1_2));
  }
  /** The kernel, at every size: the same input gives the same bits whatever the batch. */
  protected override whole(x: Float32Array): Float32Array {
    return activeKernels().activation(this.approximate === "tanh" ? "gelu_tanh" : "gelu", x);
  }
  /** `dx = g·(Φ(x) + x·φ(x))` (or the tanh form's derivative). */
  protected df(g: Float32Array, x: Float32Array, _y: Float32Array, d: Float32Array): void {
    if (this.approximate === "tanh") {
      const k = Math.sqrt(2 / Math.PI);
      for (let i = 0; i < g.length; i++) {
        const v = x[i]!, u = k * (v + 0.044715 * v * v * v), t = Math.tanh(u);
        const du = k * (1 + 3 * 0.044715 * v * v);
        d[i] = g[i]! * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du);
      }
    } else {
      const k = 1 / Math.sqrt(2 * Math.PI);
      for (let i = 0; i < g.length; i++) {
        const v = x[i]!;
        d[i] = g[i]! * (0.5 * (1 + erf(v * Math.SQRT1_2)) + v * k * Math.exp(-0.5 * v * v));
      }
    }
  }
}

/**
 * `x · sigmoid(x)` element-wise (SiLU or Swish: efficientnet's activation;
 * PyTorch's `SiLU`; `loadOnnx` fuses the exported Sigmoid → Mul).
 *
 * @example Usage
 * ```ts
 * import { Sequential, SiLU, tensor } from "@convnet/wasm";
 * new Sequential([new SiLU()], [2]).predict(tensor([0, 2], [1, 2])).data; // about [0, 1.7616]
 * ```
 */
export class SiLU extends ElementwiseLayer {
  /** `"SiLU"`. */
  readonly kind = "SiLU" as const;
  /** `"SiLU"`. */
  static readonly kind = "SiLU" as const;
  /** Its options (only `name`). */
  static readonly options: OptionDecls = NO_OPTIONS;

  /**
   * Creates a SiLU.
   *
   * @param options The layer's name.
   */
  constructor(options: ActivationOptions = {}) {
    super(readOptions("SiLU", NO_OPTIONS, options).name);
  }
  /** `y = x / (1 + e^−x)` (the JS twin). */
  protected f(x: Float32Array, y: Float32Array): void {
    for (let i = 0; i < x.length; i++) y[i] = x[i]! / (1 + Math.exp(-x[i]!));
  }
  /** The SiLU kernel (the sigmoid kernel's value times x, in one pass): the same bits whatever the batch. */
  protected override whole(x: Float32Array): Float32Array {
    return activeKernels().activation("silu", x);
  }
  /** `dx = g · s · (1 + x·(1 − s))`, `s = sigmoid(x)`. */
  protected df(g: Float32Array, x: Float32Array, _y: Float32Array, d: Float32Array): void {
    for (let i = 0; i < g.length; i++) {
      const s = 1 / (1 + Math.exp(-x[i]!));
      d[i] = g[i]! * s * (1 + x[i]! * (1 - s));
    }
  }
}

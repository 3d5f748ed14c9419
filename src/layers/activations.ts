// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";
import { activeKernels } from "../backend/select.ts";
import { checkFinite, checkNumberIn, fail } from "../core/_validate.ts";
import { checkSeed, mulberry32 } from "../core/random.ts";
import { checkBatch, layerOptions, noForward } from "./_util.ts";
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

/**
 * An element-wise function with its derivative: the forward pass keeps its
 * input and output, the backward pass multiplies `dOut` by `f'(x)` (private;
 * the activation classes compose it).
 */
class Elementwise {
  #shape: SampleShape | null = null;
  #x: Float32Array | null = null;
  #y: Float32Array | null = null;

  /**
   * @param layer The layer, for messages.
   * @param fwd Writes `y[i] = f(x[i])`; each layer passes its own loop, so V8 inlines `f`.
   * @param bwd Writes `dx[i] = g[i] · f'(x[i])` (given `x` and `y`).
   */
  constructor(
    readonly layer: Layer,
    readonly fwd: (x: Float32Array, y: Float32Array) => void,
    readonly bwd: (g: Float32Array, x: Float32Array, y: Float32Array, dx: Float32Array) => void,
    /** When given, computes the whole output instead of `fwd` (a kernel call). */
    readonly whole?: (x: Float32Array) => Float32Array,
  ) {}

  build(s: SampleShape, rand?: () => number): SampleShape {
    if (rand) this.#shape = s;
    return s;
  }

  forward(x: Tensor): Tensor {
    checkBatch(this.layer, "the input", x, this.#shape ?? []);
    let y: Float32Array;
    // The kernel for every size: the same input gives the same bits whatever the batch.
    if (this.whole) y = this.whole(x.data);
    else {
      y = new Float32Array(x.data.length);
      this.fwd(x.data, y);
    }
    this.#x = x.data;
    this.#y = y;
    return { shape: x.shape, data: y };
  }

  backward(dOut: Tensor, need: boolean): Tensor | null {
    const x = this.#x, y = this.#y;
    if (!x || !y) noForward(this.layer);
    checkBatch(this.layer, "dOut", dOut, this.#shape ?? []);
    if (dOut.data.length !== x.length) {
      throw new RangeError(
        `${this.layer.kind} "${this.layer.name}": dOut has ${dOut.data.length} values, the forward output ${x.length}`,
      );
    }
    if (!need) return null;
    const dx = new Float32Array(dOut.data.length);
    this.bwd(dOut.data, x, y, dx);
    return { shape: dOut.shape, data: dx };
  }
}

/** Options of the activation layers. */
export interface ActivationOptions {
  /** The layer's name; the model assigns one if absent. */
  name?: string;
}

/**
 * The leaky rectifier: `x` where positive, `alpha · x` elsewhere
 * (PyTorch's `LeakyReLU`, default slope 0.01; ONNX's `LeakyRelu`).
 *
 * @example Usage
 * ```ts
 * import { LeakyReLU, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new LeakyReLU({ alpha: 0.1 })], [2]).predict(tensor([-1, 2], [1, 2])).data; // [-0.1, 2]
 * ```
 */
export class LeakyReLU extends LayerBase implements Layer {
  /** `"LeakyReLU"`. */
  readonly kind = "LeakyReLU" as const;
  /** The layer's name. */
  name: string;
  /** The slope for negative inputs. */
  readonly alpha: number;
  readonly #e: Elementwise;

  /**
   * Creates a LeakyReLU.
   *
   * @param options `alpha` (a number in [0, 1), default 0.01), name.
   */
  constructor(options: ActivationOptions & { alpha?: number } = {}) {
    super();
    const { o, name } = layerOptions("LeakyReLU", options);
    this.name = name;
    const a = checkNumberIn("LeakyReLU", "options.alpha", o["alpha"] ?? 0.01, 0, 1, true);
    this.alpha = a;
    this.#e = new Elementwise(this, (s, y) => {
      for (let i = 0; i < s.length; i++) {
        const v = s[i]!;
        y[i] = v > 0 ? v : a * v;
      }
    }, (g, s, _y, d) => {
      for (let i = 0; i < g.length; i++) d[i] = s[i]! > 0 ? g[i]! : a * g[i]!;
    });
  }

  /** Returns the input shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    return this.#e.build(inputShape, rand);
  }
  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    return this.#e.forward(x);
  }
  /**
   * Back-propagates `dOut`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    return this.#e.backward(dOut, needInputGrad);
  }
  /** The trainable parameters: none. */
  params(): Param[] {
    return [];
  }
  /** The description stored in model files. */
  config(): LayerConfig {
    return { kind: this.kind, name: this.name, alpha: this.alpha };
  }
}

/**
 * `min(max(0, x), 6)` element-wise (MobileNets; ONNX `Clip(0, 6)`). Its gradient passes where `0 < x < 6`.
 *
 * @example Usage
 * ```ts
 * import { ReLU6, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new ReLU6()], [3]).predict(tensor([-4, 0, 4], [1, 3])).data; // Float32Array [0, 0, 4]
 * ```
 */
export class ReLU6 extends LayerBase implements Layer {
  /** `"ReLU6"`. */
  readonly kind = "ReLU6" as const;
  /** The layer's name. */
  name: string;
  readonly #e: Elementwise;

  /**
   * Creates a ReLU6.
   *
   * @param options The layer's name.
   */
  constructor(options: ActivationOptions = {}) {
    super();
    this.name = layerOptions("ReLU6", options).name;
    this.#e = new Elementwise(this, (s, y) => {
      for (let i = 0; i < s.length; i++) {
        const v = s[i]!;
        y[i] = v > 0 ? (v < 6 ? v : 6) : 0;
      }
    }, (g, s, _y, d) => {
      for (let i = 0; i < g.length; i++) {
        const v = s[i]!;
        d[i] = v > 0 && v < 6 ? g[i]! : 0;
      }
    });
  }

  /** Returns the input shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    return this.#e.build(inputShape, rand);
  }
  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    return this.#e.forward(x);
  }
  /**
   * Back-propagates `dOut`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    return this.#e.backward(dOut, needInputGrad);
  }
  /** The trainable parameters: none. */
  params(): Param[] {
    return [];
  }
  /** The description stored in model files. */
  config(): LayerConfig {
    return { kind: this.kind, name: this.name };
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
export class Sigmoid extends LayerBase implements Layer {
  /** `"Sigmoid"`. */
  readonly kind = "Sigmoid" as const;
  /** The layer's name. */
  name: string;
  readonly #e: Elementwise;

  /**
   * Creates a Sigmoid.
   *
   * @param options The layer's name.
   */
  constructor(options: ActivationOptions = {}) {
    super();
    this.name = layerOptions("Sigmoid", options).name;
    this.#e = new Elementwise(this, (s, y) => {
      for (let i = 0; i < s.length; i++) y[i] = 1 / (1 + Math.exp(-s[i]!));
    }, (g, _s, y, d) => {
      for (let i = 0; i < g.length; i++) d[i] = g[i]! * y[i]! * (1 - y[i]!);
    }, (s) => activeKernels().activation("sigmoid", s));
  }

  /** Returns the input shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    return this.#e.build(inputShape, rand);
  }
  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    return this.#e.forward(x);
  }
  /**
   * Back-propagates `dOut`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    return this.#e.backward(dOut, needInputGrad);
  }
  /** The trainable parameters: none. */
  params(): Param[] {
    return [];
  }
  /** The description stored in model files. */
  config(): LayerConfig {
    return { kind: this.kind, name: this.name };
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
export class Tanh extends LayerBase implements Layer {
  /** `"Tanh"`. */
  readonly kind = "Tanh" as const;
  /** The layer's name. */
  name: string;
  readonly #e: Elementwise;

  /**
   * Creates a Tanh.
   *
   * @param options The layer's name.
   */
  constructor(options: ActivationOptions = {}) {
    super();
    this.name = layerOptions("Tanh", options).name;
    this.#e = new Elementwise(this, (s, y) => {
      for (let i = 0; i < s.length; i++) y[i] = Math.tanh(s[i]!);
    }, (g, _s, y, d) => {
      for (let i = 0; i < g.length; i++) d[i] = g[i]! * (1 - y[i]! * y[i]!);
    }, (s) => activeKernels().activation("tanh", s));
  }

  /** Returns the input shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    return this.#e.build(inputShape, rand);
  }
  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    return this.#e.forward(x);
  }
  /**
   * Back-propagates `dOut`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    return this.#e.backward(dOut, needInputGrad);
  }
  /** The trainable parameters: none. */
  params(): Param[] {
    return [];
  }
  /** The description stored in model files. */
  config(): LayerConfig {
    return { kind: this.kind, name: this.name };
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
export class HardSwish extends LayerBase implements Layer {
  /** `"HardSwish"`. */
  readonly kind = "HardSwish" as const;
  /** The layer's name. */
  name: string;
  readonly #e: Elementwise;

  /**
   * Creates a HardSwish.
   *
   * @param options The layer's name.
   */
  constructor(options: ActivationOptions = {}) {
    super();
    this.name = layerOptions("HardSwish", options).name;
    this.#e = new Elementwise(this, (s, y) => {
      for (let i = 0; i < s.length; i++) {
        const v = s[i]!;
        y[i] = v <= -3 ? 0 : v >= 3 ? v : (v * (v + 3)) / 6;
      }
    }, (g, s, _y, d) => {
      for (let i = 0; i < g.length; i++) {
        const v = s[i]!;
        d[i] = g[i]! * (v < -3 ? 0 : v > 3 ? 1 : (2 * v + 3) / 6);
      }
    });
  }

  /** Returns the input shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    return this.#e.build(inputShape, rand);
  }
  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    return this.#e.forward(x);
  }
  /**
   * Back-propagates `dOut`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    return this.#e.backward(dOut, needInputGrad);
  }
  /** The trainable parameters: none. */
  params(): Param[] {
    return [];
  }
  /** The description stored in model files. */
  config(): LayerConfig {
    return { kind: this.kind, name: this.name };
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
    this.name = layerOptions("Softmax", options).name;
  }

  /** Returns the input shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    if (rand) this.#shape = inputShape;
    return inputShape;
  }

  /** The softmax of each row of the last axis, computed stably. */
  forward(x: Tensor): Tensor {
    checkBatch(this, "the input", x, this.#shape ?? []);
    const k = x.shape[x.shape.length - 1]!, z = x.data, y = new Float32Array(z.length);
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
    return { kind: this.kind, name: this.name };
  }
}

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
    const { o, name } = layerOptions("Dropout", options);
    this.name = name;
    this.rate = checkNumberIn("Dropout", "options.rate", o["rate"] ?? 0.5, 0, 1, true);
    this.seed = checkSeed("Dropout", "options.seed", o["seed"] ?? 1);
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
    return { kind: this.kind, name: this.name, rate: this.rate, seed: this.seed };
  }
}

/**
 * `max(0, min(1, alpha · x + beta))` element-wise (ONNX `HardSigmoid`,
 * defaults alpha 0.2 and beta 0.5; PyTorch's `Hardsigmoid` is alpha 1/6).
 *
 * @example Usage
 * ```ts
 * import { HardSigmoid, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new HardSigmoid()], [3]).predict(tensor([-5, 0, 1], [1, 3])).data; // Float32Array [0, 0.5, 0.7]
 * ```
 */
export class HardSigmoid extends LayerBase implements Layer {
  /** `"HardSigmoid"`. */
  readonly kind = "HardSigmoid" as const;
  /** The layer's name. */
  name: string;
  /** The slope. */
  readonly alpha: number;
  /** The offset. */
  readonly beta: number;
  readonly #e: Elementwise;

  /**
   * Creates a HardSigmoid.
   *
   * @param options `alpha` (finite, default 0.2), `beta` (finite, default 0.5), name.
   */
  constructor(options: ActivationOptions & { alpha?: number; beta?: number } = {}) {
    super();
    const { o, name } = layerOptions("HardSigmoid", options);
    this.name = name;
    const a = checkFinite("HardSigmoid", "options.alpha", o["alpha"] ?? 0.2);
    const b = checkFinite("HardSigmoid", "options.beta", o["beta"] ?? 0.5);
    this.alpha = a;
    this.beta = b;
    this.#e = new Elementwise(this, (s, y) => {
      for (let i = 0; i < s.length; i++) {
        const v = a * s[i]! + b;
        y[i] = v > 0 ? (v < 1 ? v : 1) : 0;
      }
    }, (g, s, _y, d) => {
      for (let i = 0; i < g.length; i++) {
        const v = a * s[i]! + b;
        d[i] = v > 0 && v < 1 ? a * g[i]! : 0;
      }
    });
  }

  /** Returns the input shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    return this.#e.build(inputShape, rand);
  }
  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    return this.#e.forward(x);
  }
  /**
   * Back-propagates `dOut`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    return this.#e.backward(dOut, needInputGrad);
  }
  /** The trainable parameters: none. */
  params(): Param[] {
    return [];
  }
  /** The description stored in model files. */
  config(): LayerConfig {
    return { kind: this.kind, name: this.name, alpha: this.alpha, beta: this.beta };
  }
}

/**
 * `min(max(x, min), max)` element-wise (ONNX `Clip`; `ReLU6` is `Clip(0, 6)`).
 * Its gradient passes where `min < x < max`. Either bound may be infinite.
 *
 * @example Usage
 * ```ts
 * import { Clip, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new Clip({ min: -1, max: 1 })], [3]).predict(tensor([-5, 0.5, 3], [1, 3])).data; // Float32Array [-1, 0.5, 1]
 * ```
 */
export class Clip extends LayerBase implements Layer {
  /** `"Clip"`. */
  readonly kind = "Clip" as const;
  /** The layer's name. */
  name: string;
  /** The lower bound. */
  readonly min: number;
  /** The upper bound. */
  readonly max: number;
  readonly #e: Elementwise;

  /**
   * Creates a Clip.
   *
   * @param options `min` (default −Infinity), `max` (default Infinity; not below `min`), name.
   */
  constructor(options: ActivationOptions & { min?: number; max?: number } = {}) {
    super();
    const { o, name } = layerOptions("Clip", options);
    this.name = name;
    const lo = o["min"] ?? -Infinity, hi = o["max"] ?? Infinity;
    for (const [k, v] of [["min", lo], ["max", hi]] as const) {
      if (typeof v !== "number") fail(TypeError, "Clip", `options.${k}`, "a number", v);
      if (Number.isNaN(v)) fail(RangeError, "Clip", `options.${k}`, "a number, not NaN", v);
    }
    if ((hi as number) < (lo as number)) {
      fail(RangeError, "Clip", "options.max", `at least options.min (${lo})`, hi);
    }
    const a = lo as number, b = hi as number;
    this.min = a;
    this.max = b;
    this.#e = new Elementwise(this, (s, y) => {
      for (let i = 0; i < s.length; i++) {
        const v = s[i]!;
        y[i] = v > a ? (v < b ? v : b) : a;
      }
    }, (g, s, _y, d) => {
      for (let i = 0; i < g.length; i++) {
        const v = s[i]!;
        d[i] = v > a && v < b ? g[i]! : 0;
      }
    });
  }

  /** Returns the input shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    return this.#e.build(inputShape, rand);
  }
  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    return this.#e.forward(x);
  }
  /**
   * Back-propagates `dOut`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    return this.#e.backward(dOut, needInputGrad);
  }
  /** The trainable parameters: none. */
  params(): Param[] {
    return [];
  }
  /** The description stored in model files (an infinite bound is left out: JSON has no Infinity). */
  config(): LayerConfig {
    return {
      kind: this.kind,
      name: this.name,
      ...(Number.isFinite(this.min) ? { min: this.min } : {}),
      ...(Number.isFinite(this.max) ? { max: this.max } : {}),
    };
  }
}

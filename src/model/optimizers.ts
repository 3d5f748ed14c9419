// This module is browser compatible.

import { markChanged } from "../core/_versions.ts";
import type { Param } from "../layers/layer.ts";
import { checkBoolean, checkNumberIn, checkOptions, fail } from "../core/_validate.ts";

/** Something that updates parameters from their gradients. */
export interface Optimizer {
  /** The learning rate; may be changed between steps (`fit`'s `schedule` sets it each step). */
  lr: number;
  /** Updates every parameter in place from its `grad`. Does not clear the gradients. */
  step(params: readonly Param[]): void;
}

const positive = (fn: string, arg: string, v: unknown) =>
  checkNumberIn(fn, arg, v, 0, Infinity, false);
const nonNegative = (fn: string, arg: string, v: unknown) =>
  checkNumberIn(fn, arg, v, 0, Infinity, true);
const unit = (fn: string, arg: string, v: unknown) => checkNumberIn(fn, arg, v, 0, 1, true);

/** Checks the optimiser's `step` argument. */
function checkParams(fn: string, params: unknown): readonly Param[] {
  if (!Array.isArray(params)) fail(TypeError, fn, "params", "an array of parameters", params);
  return params;
}

/** Options of {@linkcode SGD}. */
export interface SGDOptions {
  /** The learning rate, > 0. */
  lr: number;
  /** Momentum in [0, 1); default 0. */
  momentum?: number;
  /** Dampening of the momentum in [0, 1]; default 0. */
  dampening?: number;
  /** Nesterov momentum (needs `momentum` > 0 and no dampening); default false. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient (`g + weightDecay · w`), ≥ 0; default 0. */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent with PyTorch's momentum, Nesterov and weight
 * decay (`torch.optim.SGD`): `g += weightDecay·w`; with momentum,
 * `buf = momentum·buf + (1 − dampening)·g` (`buf = g` at the first step) and
 * `g = nesterov ? g + momentum·buf : buf`; then `w −= lr·g`.
 *
 * @example Usage
 * ```ts
 * import { SGD } from "@convnet/wasm";
 * const opt = new SGD({ lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
 * ```
 */
export class SGD implements Optimizer {
  /** The learning rate. */
  lr: number;
  /** The momentum coefficient. */
  readonly momentum: number;
  /** The momentum's dampening. */
  readonly dampening: number;
  /** Whether the momentum is Nesterov's. */
  readonly nesterov: boolean;
  /** The L2 penalty coefficient. */
  readonly weightDecay: number;
  readonly #buf = new Map<Param, Float32Array>();

  /**
   * Creates an SGD optimiser.
   *
   * @param options `lr` (> 0), `momentum` in [0, 1) (default 0), `dampening`, `nesterov`, `weightDecay`.
   * @throws {TypeError} If an option is of the wrong type, or unknown.
   * @throws {RangeError} On out-of-range values, or Nesterov without momentum or with dampening.
   */
  constructor(options: SGDOptions) {
    const fn = "SGD";
    if (options === undefined) fail(TypeError, fn, "options", "an object with lr", options);
    const o = checkOptions(fn, "options", options, [
      "lr",
      "momentum",
      "dampening",
      "nesterov",
      "weightDecay",
    ]);
    this.lr = positive(fn, "options.lr", o["lr"]);
    this.momentum = unit(fn, "options.momentum", o["momentum"] ?? 0);
    this.dampening = checkNumberIn(
      fn,
      "options.dampening",
      o["dampening"] ?? 0,
      0,
      1,
      true,
      true,
    );
    this.nesterov = checkBoolean(fn, "options.nesterov", o["nesterov"] ?? false);
    this.weightDecay = nonNegative(fn, "options.weightDecay", o["weightDecay"] ?? 0);
    if (this.nesterov && (this.momentum === 0 || this.dampening !== 0)) {
      fail(
        RangeError,
        fn,
        "options.nesterov",
        "false unless momentum > 0 and dampening is 0",
        this.nesterov,
      );
    }
  }

  /**
   * Updates every parameter in place from its gradient (the gradients are
   * left as they are). `lr` is checked first, since it may have been changed
   * since construction: a NaN or negative `lr` throws and leaves the weights
   * untouched.
   *
   * @param params The parameters to update.
   * @throws {TypeError | RangeError} If `lr` is no longer valid.
   */
  step(params: readonly Param[]): void {
    const lr = positive("SGD.step", "this.lr", this.lr);
    unit("SGD.step", "this.momentum", this.momentum);
    const mo = this.momentum, damp = 1 - this.dampening, wd = this.weightDecay;
    for (const p of checkParams("SGD.step", params)) {
      const w = p.value, g = p.grad;
      if (mo === 0) {
        for (let i = 0; i < w.length; i++) w[i]! -= lr * (g[i]! + wd * w[i]!);
        markChanged(w);
        continue;
      }
      let buf = this.#buf.get(p);
      const first = !buf;
      if (!buf) this.#buf.set(p, buf = new Float32Array(w.length));
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]! + wd * w[i]!;
        const b = first ? gi : mo * buf[i]! + damp * gi;
        buf[i] = b;
        w[i]! -= lr * (this.nesterov ? gi + mo * buf[i]! : buf[i]!);
      }
      markChanged(w);
    }
  }
}

/** Options of {@linkcode Adam}. */
export interface AdamOptions {
  /** The learning rate, > 0; default 1e-3. */
  lr?: number;
  /** Decay of the first moment in [0, 1); default 0.9. */
  beta1?: number;
  /** Decay of the second moment in [0, 1); default 0.999. */
  beta2?: number;
  /** Added to the denominator, > 0; default 1e-8 (PyTorch's name). */
  eps?: number;
  /** Another name for `eps` (give one or the other). */
  epsilon?: number;
  /** Weight decay: an L2 penalty for Adam (`g + weightDecay·w`), decoupled for AdamW; ≥ 0. */
  weightDecay?: number;
}

const ADAM_KEYS = ["lr", "beta1", "beta2", "eps", "epsilon", "weightDecay"];

/**
 * Adam's moments and update, shared by {@linkcode Adam} (L2 weight decay) and
 * {@linkcode AdamW} (decoupled).
 *
 * @example Usage
 * ```ts
 * import { AdamBase, AdamW } from "@convnet/wasm";
 * new AdamW() instanceof AdamBase; // true
 * ```
 */
export abstract class AdamBase implements Optimizer {
  /** The learning rate. */
  lr: number;
  /** Decay of the first moment. */
  readonly beta1: number;
  /** Decay of the second moment. */
  readonly beta2: number;
  /** Added to the denominator. */
  readonly epsilon: number;
  /** The weight-decay coefficient. */
  readonly weightDecay: number;
  /** Steps taken. */
  #t = 0;
  readonly #m = new Map<Param, Float32Array>();
  readonly #v = new Map<Param, Float32Array>();
  /** Whether the decay is decoupled (AdamW) rather than an L2 term in the gradient. */
  protected abstract readonly decoupled: boolean;

  /**
   * Reads the options.
   *
   * @param fn The subclass's name, for messages.
   * @param options The options bag.
   * @param defaultDecay The default `weightDecay`.
   */
  constructor(fn: string, options: unknown, defaultDecay: number) {
    const o = checkOptions(fn, "options", options, ADAM_KEYS);
    if (o["eps"] !== undefined && o["epsilon"] !== undefined) {
      fail(TypeError, fn, "options.epsilon", "absent when options.eps is given", o["epsilon"]);
    }
    this.lr = positive(fn, "options.lr", o["lr"] ?? 1e-3);
    this.beta1 = unit(fn, "options.beta1", o["beta1"] ?? 0.9);
    this.beta2 = unit(fn, "options.beta2", o["beta2"] ?? 0.999);
    this.epsilon = positive(
      fn,
      o["epsilon"] !== undefined ? "options.epsilon" : "options.eps",
      o["eps"] ?? o["epsilon"] ?? 1e-8,
    );
    this.weightDecay = nonNegative(fn, "options.weightDecay", o["weightDecay"] ?? defaultDecay);
  }

  /** PyTorch's name for {@linkcode epsilon}. */
  get eps(): number {
    return this.epsilon;
  }

  /**
   * Updates every parameter in place from its gradient.
   *
   * @param params The parameters to update.
   */
  step(params: readonly Param[]): void {
    const fn = `${this.constructor.name}.step`;
    const lr = positive(fn, "this.lr", this.lr);
    checkParams(fn, params);
    this.#t++;
    const b1 = this.beta1, b2 = this.beta2, eps = this.epsilon, wd = this.weightDecay;
    const c1 = 1 - b1 ** this.#t, sc2 = Math.sqrt(1 - b2 ** this.#t), a = lr / c1;
    const decay = this.decoupled ? 1 - lr * wd : 1, l2 = this.decoupled ? 0 : wd;
    for (const p of params) {
      let m = this.#m.get(p), v = this.#v.get(p);
      if (!m || !v) {
        this.#m.set(p, m = new Float32Array(p.value.length));
        this.#v.set(p, v = new Float32Array(p.value.length));
      }
      const w = p.value, g = p.grad;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]! + l2 * w[i]!;
        m[i] = b1 * m[i]! + (1 - b1) * gi;
        v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
        w[i] = w[i]! * decay - a * m[i]! / (Math.sqrt(v[i]!) / sc2 + eps);
      }
      markChanged(w);
    }
  }
}

/**
 * Adam (Kingma & Ba) with bias correction, as PyTorch computes it
 * (`torch.optim.Adam`): `w −= lr/(1 − β1^t) · m / (sqrt(v)/sqrt(1 − β2^t) + eps)`;
 * `weightDecay` adds `weightDecay·w` to the gradient (L2; see
 * {@linkcode AdamW} for decoupled decay).
 *
 * @example Usage
 * ```ts
 * import { Adam } from "@convnet/wasm";
 * const opt = new Adam({ lr: 1e-3 });
 * ```
 */
export class Adam extends AdamBase {
  /** L2 decay, in the gradient. */
  protected readonly decoupled = false;

  /**
   * Creates an Adam optimiser.
   *
   * @param options `lr` (default 1e-3), `beta1` (0.9), `beta2` (0.999), `eps` (1e-8), `weightDecay` (0).
   * @throws {TypeError} If an option is not a number, or unknown.
   * @throws {RangeError} On out-of-range values.
   */
  constructor(options: AdamOptions = {}) {
    super("Adam", options, 0);
  }

  /**
   * Updates every parameter in place from its gradient (the gradients are
   * left as they are). `lr` is checked first: a NaN or negative `lr` throws
   * and leaves the weights untouched.
   *
   * @param params The parameters to update.
   * @throws {TypeError | RangeError} If `lr` is no longer valid.
   */
  override step(params: readonly Param[]): void {
    super.step(params);
  }
}

/**
 * AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, as PyTorch
 * computes it (`torch.optim.AdamW`): `w ← w·(1 − lr·weightDecay)`, then the
 * Adam step. PyTorch's default `weightDecay` is 0.01, and so is ours.
 *
 * @example Usage
 * ```ts
 * import { AdamW } from "@convnet/wasm";
 * const opt = new AdamW({ lr: 1e-3, weightDecay: 0.05 });
 * ```
 */
export class AdamW extends AdamBase {
  /** Decoupled decay. */
  protected readonly decoupled = true;

  /**
   * Creates an AdamW optimiser.
   *
   * @param options `lr` (default 1e-3), `beta1` (0.9), `beta2` (0.999), `eps` (1e-8), `weightDecay` (0.01).
   * @throws {TypeError} If an option is not a number, or unknown.
   * @throws {RangeError} On out-of-range values.
   */
  constructor(options: AdamOptions = {}) {
    super("AdamW", options, 0.01);
  }

  /**
   * Updates every parameter in place from its gradient (the gradients are
   * left as they are). `lr` is checked first: a NaN or negative `lr` throws
   * and leaves the weights untouched.
   *
   * @param params The parameters to update.
   * @throws {TypeError | RangeError} If `lr` is no longer valid.
   */
  override step(params: readonly Param[]): void {
    super.step(params);
  }
}

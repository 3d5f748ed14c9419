// This module is browser compatible.

import type { Param } from "../layers/layer.ts";
import { checkNumberIn, checkObject, checkOptions, fail } from "../core/_validate.ts";

/** Something that updates parameters from their gradients. */
export interface Optimizer {
  /** The learning rate; may be changed between steps (a schedule). */
  lr: number;
  /** Updates every parameter in place from its `grad`. Does not clear the gradients. */
  step(params: readonly Param[]): void;
}

const positive = (fn: string, arg: string, v: unknown) =>
  checkNumberIn(fn, arg, v, 0, Infinity, false);
const unit = (fn: string, arg: string, v: unknown) => checkNumberIn(fn, arg, v, 0, 1, true);

/** Checks the optimiser's `step` argument. */
function checkParams(fn: string, params: unknown): readonly Param[] {
  if (!Array.isArray(params)) fail(TypeError, fn, "params", "an array of parameters", params);
  return params;
}

/**
 * Stochastic gradient descent with optional (heavy-ball) momentum:
 * `v = momentum·v - lr·g; w += v`.
 *
 * @example Usage
 * ```ts
 * import { SGD } from "@convnet/wasm";
 * const opt = new SGD({ lr: 0.01, momentum: 0.9 });
 * ```
 */
export class SGD implements Optimizer {
  /** The learning rate. */
  lr: number;
  /** The momentum coefficient. */
  readonly momentum: number;
  readonly #velocity = new Map<Param, Float32Array>();

  /**
   * Creates an SGD optimiser.
   *
   * @param options `lr` (> 0) and `momentum` in [0, 1), default 0.
   * @throws {TypeError} If an option is not a number.
   * @throws {RangeError} On out-of-range values.
   */
  constructor(options: { lr: number; momentum?: number }) {
    const o = checkObject("SGD", "options", options);
    this.lr = positive("SGD", "options.lr", o["lr"]);
    this.momentum = unit("SGD", "options.momentum", o["momentum"] ?? 0);
  }

  /**
   * Updates every parameter in place from its gradient (the gradients are
   * left as they are). The hyper-parameters are checked first, since they
   * may have been changed since construction: a NaN or negative `lr` throws
   * and leaves the weights untouched.
   *
   * @param params The parameters to update.
   * @throws {TypeError | RangeError} If `lr` or `momentum` is no longer valid.
   */
  step(params: readonly Param[]): void {
    positive("SGD.step", "this.lr", this.lr);
    unit("SGD.step", "this.momentum", this.momentum);
    for (const p of checkParams("SGD.step", params)) {
      const w = p.value, g = p.grad;
      if (this.momentum === 0) {
        for (let i = 0; i < w.length; i++) w[i]! -= this.lr * g[i]!;
        continue;
      }
      let v = this.#velocity.get(p);
      if (!v) this.#velocity.set(p, v = new Float32Array(w.length));
      for (let i = 0; i < w.length; i++) {
        v[i] = this.momentum * v[i]! - this.lr * g[i]!;
        w[i]! += v[i]!;
      }
    }
  }
}

/**
 * Adam (Kingma & Ba) with bias correction.
 *
 * @example Usage
 * ```ts
 * import { Adam } from "@convnet/wasm";
 * const opt = new Adam({ lr: 1e-3 });
 * ```
 */
export class Adam implements Optimizer {
  /** The learning rate. */
  lr: number;
  /** Decay of the first moment. */
  readonly beta1: number;
  /** Decay of the second moment. */
  readonly beta2: number;
  /** Added to the denominator. */
  readonly epsilon: number;
  #t = 0;
  readonly #m = new Map<Param, Float32Array>();
  readonly #v = new Map<Param, Float32Array>();

  /**
   * Creates an Adam optimiser.
   *
   * @param options `lr` (default 1e-3), `beta1` (0.9), `beta2` (0.999), `epsilon` (1e-8).
   * @throws {TypeError} If an option is not a number.
   * @throws {RangeError} On out-of-range values.
   */
  constructor(options: { lr?: number; beta1?: number; beta2?: number; epsilon?: number } = {}) {
    const o = checkOptions("Adam", "options", options, ["lr", "beta1", "beta2", "epsilon"]);
    this.lr = positive("Adam", "options.lr", o["lr"] ?? 1e-3);
    this.beta1 = unit("Adam", "options.beta1", o["beta1"] ?? 0.9);
    this.beta2 = unit("Adam", "options.beta2", o["beta2"] ?? 0.999);
    this.epsilon = positive("Adam", "options.epsilon", o["epsilon"] ?? 1e-8);
  }

  /**
   * Updates every parameter in place from its gradient (the gradients are
   * left as they are). The hyper-parameters are checked first, since they
   * may have been changed since construction: a NaN or negative `lr` throws
   * and leaves the weights untouched.
   *
   * @param params The parameters to update.
   * @throws {TypeError | RangeError} If a hyper-parameter is no longer valid.
   */
  step(params: readonly Param[]): void {
    positive("Adam.step", "this.lr", this.lr);
    unit("Adam.step", "this.beta1", this.beta1);
    unit("Adam.step", "this.beta2", this.beta2);
    positive("Adam.step", "this.epsilon", this.epsilon);
    checkParams("Adam.step", params);
    this.#t++;
    const b1 = this.beta1, b2 = this.beta2;
    const c1 = 1 - b1 ** this.#t, c2 = 1 - b2 ** this.#t;
    const a = this.lr * Math.sqrt(c2) / c1;
    for (const p of params) {
      let m = this.#m.get(p), v = this.#v.get(p);
      if (!m || !v) {
        this.#m.set(p, m = new Float32Array(p.value.length));
        this.#v.set(p, v = new Float32Array(p.value.length));
      }
      const w = p.value, g = p.grad;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]!;
        m[i] = b1 * m[i]! + (1 - b1) * gi;
        v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
        w[i]! -= a * m[i]! / (Math.sqrt(v[i]!) + this.epsilon);
      }
    }
  }
}

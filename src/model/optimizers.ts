// This module is browser compatible.

import type { Param } from "../layers/layer.ts";

/** Something that updates parameters from their gradients. */
export interface Optimizer {
  /** The learning rate; may be changed between steps (a schedule). */
  lr: number;
  /** Updates every parameter in place from its `grad`. Does not clear the gradients. */
  step(params: readonly Param[]): void;
}

function checkRate(name: string, what: string, v: number, lo: number, hi: number): number {
  if (typeof v !== "number" || !(v >= lo && v < hi)) {
    throw new RangeError(`${name}: ${what} must be a number in [${lo}, ${hi}), got ${v}`);
  }
  return v;
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
   * Creates a SGD.
   *
   * @param options `lr` (> 0) and `momentum` in [0, 1), default 0.
   * @throws {RangeError} On out-of-range values.
   */
  constructor(options: { lr: number; momentum?: number }) {
    this.lr = checkRate("SGD", "lr", options?.lr, Number.MIN_VALUE, Infinity);
    this.momentum = checkRate("SGD", "momentum", options.momentum ?? 0, 0, 1);
  }

  /** Updates every parameter in place from its gradient (the gradients are left as they are). */
  step(params: readonly Param[]): void {
    for (const p of params) {
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
   * Creates a Adam.
   *
   * @param options `lr` (default 1e-3), `beta1` (0.9), `beta2` (0.999), `epsilon` (1e-8).
   * @throws {RangeError} On out-of-range values.
   */
  constructor(options: { lr?: number; beta1?: number; beta2?: number; epsilon?: number } = {}) {
    this.lr = checkRate("Adam", "lr", options.lr ?? 1e-3, Number.MIN_VALUE, Infinity);
    this.beta1 = checkRate("Adam", "beta1", options.beta1 ?? 0.9, 0, 1);
    this.beta2 = checkRate("Adam", "beta2", options.beta2 ?? 0.999, 0, 1);
    this.epsilon = checkRate(
      "Adam",
      "epsilon",
      options.epsilon ?? 1e-8,
      Number.MIN_VALUE,
      Infinity,
    );
  }

  /** Updates every parameter in place from its gradient (the gradients are left as they are). */
  step(params: readonly Param[]): void {
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

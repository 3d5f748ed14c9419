// This module is browser compatible.

import {
  checkFinite,
  checkNonNegativeInt,
  checkNumberIn,
  checkOptions,
  checkPositiveInt,
  fail,
} from "../core/_validate.ts";

/** A learning-rate schedule: the rate for each step (`step` from 0, `epoch` from 1), as `fit`'s `schedule` takes it. */
export type Schedule = (step: number, epoch: number) => number;

const positive = (fn: string, arg: string, v: unknown) =>
  checkNumberIn(fn, arg, v, 0, Infinity, false);

/**
 * Cosine decay from `lr` to `minLr` over `steps` steps (then `minLr`):
 * `minLr + (lr − minLr)·(1 + cos(π·step/steps))/2`, PyTorch's `CosineAnnealingLR`.
 *
 * @example Usage
 * ```ts
 * import { cosineDecay } from "@convnet/wasm";
 * const s = cosineDecay({ lr: 0.1, steps: 100 });
 * s(0, 1); // 0.1
 * s(100, 5); // 0
 * ```
 *
 * @param options `lr` (> 0), `steps` (≥ 1), `minLr` (≥ 0, default 0).
 * @returns The schedule.
 */
export function cosineDecay(options: { lr: number; steps: number; minLr?: number }): Schedule {
  const fn = "cosineDecay";
  const o = checkOptions(fn, "options", options, ["lr", "steps", "minLr"]);
  const lr = positive(fn, "options.lr", o["lr"]);
  const steps = checkPositiveInt(fn, "options.steps", o["steps"]);
  const min = checkNumberIn(
    fn,
    "options.minLr",
    o["minLr"] ?? 0,
    0,
    lr,
    true,
    true,
  );
  return (step) => min + (lr - min) * (1 + Math.cos(Math.PI * Math.min(step, steps) / steps)) / 2;
}

/**
 * Step decay: `lr · gamma^floor(step / every)`, PyTorch's `StepLR` counted in steps.
 *
 * @example Usage
 * ```ts
 * import { stepDecay } from "@convnet/wasm";
 * const s = stepDecay({ lr: 0.1, every: 10, gamma: 0.5 });
 * s(25, 1); // 0.025
 * ```
 *
 * @param options `lr` (> 0), `every` (steps, ≥ 1), `gamma` (in (0, 1], default 0.1).
 * @returns The schedule.
 */
export function stepDecay(options: { lr: number; every: number; gamma?: number }): Schedule {
  const fn = "stepDecay";
  const o = checkOptions(fn, "options", options, ["lr", "every", "gamma"]);
  const lr = positive(fn, "options.lr", o["lr"]);
  const every = checkPositiveInt(fn, "options.every", o["every"]);
  const gamma = checkNumberIn(fn, "options.gamma", o["gamma"] ?? 0.1, 0, 1, false, true);
  return (step) => lr * gamma ** Math.floor(step / every);
}

/**
 * Linear warm-up: the rate rises from `lr / steps` to `lr` over the first
 * `steps` steps, then follows `then` (a schedule whose step counts from the
 * end of the warm-up, or a constant rate; default `lr`).
 *
 * @example Usage
 * ```ts
 * import { cosineDecay, linearWarmup } from "@convnet/wasm";
 * const s = linearWarmup({ lr: 0.1, steps: 10, then: cosineDecay({ lr: 0.1, steps: 90 }) });
 * s(0, 1); // 0.01
 * s(10, 1); // 0.1
 * ```
 *
 * @param options `lr` (> 0), `steps` (≥ 0), `then`.
 * @returns The schedule.
 */
export function linearWarmup(
  options: { lr: number; steps: number; then?: Schedule | number },
): Schedule {
  const fn = "linearWarmup";
  const o = checkOptions(fn, "options", options, ["lr", "steps", "then"]);
  const lr = positive(fn, "options.lr", o["lr"]);
  const steps = checkNonNegativeInt(fn, "options.steps", o["steps"]);
  const then = o["then"] ?? lr;
  if (typeof then === "number") checkFinite(fn, "options.then", then);
  else if (typeof then !== "function") {
    fail(TypeError, fn, "options.then", "a schedule or a number", then);
  }
  return (step, epoch) =>
    step < steps
      ? lr * (step + 1) / steps
      : typeof then === "number"
      ? then
      : (then as Schedule)(step - steps, epoch);
}

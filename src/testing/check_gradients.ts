// This module is browser compatible.

import { markChanged } from "../core/_versions.ts";
import type { Tensor } from "../core/types.ts";
import { checkOptions, checkTensor, fail } from "../core/_validate.ts";
import { checkSeed, mulberry32 } from "../core/random.ts";
import type { Layer, Param } from "../layers/layer.ts";
import { zeroGrad } from "../layers/layer.ts";
import { isOwned } from "../layers/_util.ts";
import { Model } from "../model/model.ts";
import { Sequential } from "../model/sequential.ts";

/** Options of {@linkcode checkGradients}. */
export interface CheckGradientsOptions {
  /** The finite-difference step; default 1e-2 (forward passes are float32). */
  eps?: number;
  /** The largest relative error allowed; default 3e-3. */
  tolerance?: number;
  /** Seed of the random upstream gradient (and of a wrapped layer's weights); default 1. */
  seed?: number;
  /** Run in training mode (BatchNorm on batch statistics); default false. Dropout must stay off. */
  training?: boolean;
}

/**
 * Thrown by {@linkcode checkGradients} when `backward` disagrees with finite
 * differences; it names the parameter (or `"input"`) and the element.
 *
 * @example Usage
 * ```ts
 * import { GradientCheckError } from "@convnet/wasm/testing";
 * const e = new GradientCheckError("dense_1.kernel", 3, 0.5, 1, 0.5, 3e-3);
 * e.message.includes("dense_1.kernel[3]"); // true
 * ```
 */
export class GradientCheckError extends Error {
  /**
   * Creates a GradientCheckError.
   *
   * @param what The parameter's name, or `"input"`.
   * @param index The element that disagrees most.
   * @param numeric The finite-difference derivative there.
   * @param analytic What `backward` gave there.
   * @param error The relative error.
   * @param tolerance The tolerance.
   * @param hint More to say (why it may disagree), appended to the message.
   */
  constructor(
    readonly what: string,
    readonly index: number,
    readonly numeric: number,
    readonly analytic: number,
    readonly error: number,
    readonly tolerance: number,
    hint = "",
  ) {
    super(
      `checkGradients: the gradient of ${what}[${index}] is ${analytic} by backward but ${numeric} ` +
        `by finite differences (relative error ${error.toExponential(2)} > ${tolerance})${hint}`,
    );
    this.name = "GradientCheckError";
  }
}

/**
 * Checks a layer's or a model's `backward` against central finite
 * differences: for a random upstream gradient `g`, the derivative of
 * `L = Σ g · forward(x)` (summed in float64) with respect to every parameter
 * and every input element. The error of each tensor is norm-wise relative
 * (the largest difference over the largest analytic value, or a hundredth of
 * the largest gradient of all if that is more). A layer not yet
 * in a model is wrapped in a one-layer model (its weights from `seed`); a
 * layer of a model (`model.layers[i]`) is checked in place with its own
 * weights, `x` shaped as its input. Everything is put back afterwards:
 * weights, gradients, BatchNorm's running statistics and the mode.
 *
 * @example Usage
 * ```ts
 * import { checkGradients } from "@convnet/wasm/testing";
 * import { Dense, tensor } from "@convnet/wasm";
 * const x = tensor([0.5, -1, 2, 0.3, 0.1, -0.7], [2, 3]);
 * checkGradients(new Dense({ units: 2 }), x) < 3e-3; // true
 * ```
 *
 * @param subject A layer (fresh, or one of a model's) or a model.
 * @param x A batch for it.
 * @param options `eps`, `tolerance`, `seed`, `training`.
 * @returns The worst relative error found.
 * @throws {GradientCheckError} Naming the parameter (or `input`) and the index that disagree.
 * @throws {TypeError | RangeError} On invalid arguments.
 */
export function checkGradients(
  subject: Layer | Model,
  x: Tensor,
  options: CheckGradientsOptions = {},
): number {
  const fn = "checkGradients";
  const o = checkOptions(fn, "options", options, ["eps", "tolerance", "seed", "training"]);
  const eps = o["eps"] ?? 1e-2, tolerance = o["tolerance"] ?? 3e-3;
  if (typeof eps !== "number" || !(eps > 0)) {
    fail(RangeError, fn, "options.eps", "a positive number", eps);
  }
  if (typeof tolerance !== "number" || !(tolerance >= 0)) {
    fail(RangeError, fn, "options.tolerance", "a non-negative number", tolerance);
  }
  const seed = checkSeed(fn, "options.seed", o["seed"] ?? 1);
  const xt = checkTensor(fn, "x", x);
  if (subject === null || typeof subject !== "object") {
    fail(TypeError, fn, "subject", "a layer or a model", subject);
  }
  const training = o["training"] === true;
  // A model, a layer already in a model (checked in place, with its own weights), or a fresh
  // layer (wrapped in a one-layer model whose weights come from `seed`).
  let t: Target;
  if (subject instanceof Model) t = modelTarget(subject);
  else if (isOwned(subject) && !("merge" in subject)) t = layerTarget(subject as Layer);
  else t = modelTarget(new Sequential([subject as Layer], xt.shape.slice(1), { seed }));
  const maxPool = t.kinds.some((k) => k === "MaxPool2D" || k === "GlobalMaxPool2D");
  // Everything the check moves is put back: parameters (perturbed in place), their gradients,
  // the state (BatchNorm's running statistics, which a training-mode forward moves) and the mode.
  const params: Param[] = t.params();
  const saved = [...params, ...t.state()].map((p) => ({
    p,
    value: p.value.slice(),
    grad: p.grad.slice(),
  }));
  const was = t.training();
  t.setTraining(training);
  try {
    const data = xt.data.slice(), input = { shape: xt.shape, data };
    const y = t.forward(input);
    const rand = mulberry32(seed);
    const g = Float64Array.from({ length: y.data.length }, () => rand() * 2 - 1);
    const gOut = { shape: y.shape, data: Float32Array.from(g) };
    zeroGrad(params);
    const dx = t.backward(gOut);
    const loss = () => {
      const out = t.forward(input).data;
      let s = 0;
      for (let i = 0; i < out.length; i++) s += g[i]! * out[i]!;
      return s;
    };
    let worst = 0;
    // A tensor whose gradient is tiny next to the others is judged against a hundredth of the
    // largest gradient anywhere: float32 forward passes leave that much noise in the differences.
    let global = 0;
    for (const a of [...params.map((p) => p.grad), ...(dx ? [dx.data] : [])]) {
      for (const v of a) global = Math.max(global, Math.abs(v));
    }
    const hint = maxPool
      ? `; this model max-pools: a window whose two largest values are within 2·eps (${
        2 * eps
      }) of each other makes finite differences straddle the tie (the gradient goes to one of them), ` +
        "so use inputs whose window values are further apart, or a smaller eps"
      : "";
    const check = (what: string, values: Float32Array, analytic: Float32Array) => {
      const a = analytic.slice();
      let scale = global / 100;
      for (const v of a) scale = Math.max(scale, Math.abs(v));
      let bad = -1, bigErr = 0, num = 0;
      for (let i = 0; i < values.length; i++) {
        const keep = values[i]!;
        values[i] = keep + eps;
        markChanged(values);
        const up = loss();
        values[i] = keep - eps;
        markChanged(values);
        const down = loss();
        values[i] = keep;
        markChanged(values);
        const n = (up - down) / (2 * eps);
        const err = Math.abs(n - a[i]!) / Math.max(scale, 1e-6);
        if (!(err <= bigErr)) {
          bigErr = err;
          bad = i;
          num = n;
        }
      }
      if (!(bigErr <= tolerance)) {
        throw new GradientCheckError(what, bad, num, a[bad]!, bigErr, tolerance, hint);
      }
      worst = Math.max(worst, bigErr);
    };
    for (const p of params) check(p.name, p.value, p.grad);
    if (dx) check("input", data, dx.data);
    return worst;
  } finally {
    for (const { p, value, grad } of saved) {
      p.value.set(value);
      markChanged(p.value);
      p.grad.set(grad);
    }
    t.setTraining(was);
  }
}

/** What the check runs: a model, or one layer of a model in place. */
interface Target {
  readonly kinds: readonly string[];
  params(): Param[];
  state(): Param[];
  training(): boolean;
  setTraining(on: boolean): void;
  forward(x: Tensor): Tensor;
  backward(g: Tensor): Tensor | null;
}

function modelTarget(model: Model): Target {
  return {
    kinds: model.layers.map((l) => l.kind),
    params: () => model.params(),
    state: () => model.state(),
    training: () => model.training,
    setTraining: (on) => model.setTraining(on),
    forward: (x) => model.forward(x),
    backward: (g) => model.backward(g, { inputGradient: true }),
  };
}

function layerTarget(layer: Layer): Target {
  let mode = false;
  return {
    kinds: [layer.kind],
    params: () => layer.params(),
    state: () => layer.state?.() ?? [],
    training: () => mode,
    setTraining: (on) => {
      mode = on;
      layer.setTraining?.(on);
    },
    forward: (x) => layer.forward(x),
    backward: (g) => layer.backward(g, true),
  };
}

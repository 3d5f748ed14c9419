// This module is browser compatible.

/**
 * Helpers shared by the layers (not part of the public API).
 *
 * @module
 */

import type { Tensor } from "../core/tensor.ts";
import { checkOneOf } from "../core/_validate.ts";
import type { Layer, MergeLayer, Param, SampleShape } from "./layer.ts";
import { track } from "../core/_versions.ts";

/** While set, parameters take their arrays from here (see {@linkcode withAdoptedWeights}). */
let adopting: ((name: string, n: number) => Float32Array) | null = null;

/**
 * Runs `fn` (which builds layers) with every parameter array taken from
 * `lookup(name, length)` instead of allocated and filled: a loader's arrays
 * become the model's, with no copy and no random draws. `lookup` throws if
 * it has no array of that name and length.
 */
export function withAdoptedWeights<T>(
  lookup: (name: string, n: number) => Float32Array,
  fn: () => T,
): T {
  const before = adopting;
  adopting = lookup;
  try {
    return fn();
  } finally {
    adopting = before;
  }
}

/** An empty array that `allocParam` returns while weights are adopted. */
const ADOPTED = new Float32Array(0);

/**
 * Makes a parameter; its gradient (zeros) is allocated when first read, so
 * a model used only for inference holds no gradient arrays.
 */
export function makeParam(name: string, shape: readonly number[], value: Float32Array): Param {
  const n = shape.reduce((p, d) => p * d, 1);
  const v = adopting && value === ADOPTED ? adopting(name, n) : value;
  let grad: Float32Array | null = null;
  track(v);
  return {
    name,
    shape: Object.freeze([...shape]),
    value: v,
    get grad(): Float32Array {
      return (grad ??= new Float32Array(v.length));
    },
  };
}

/** Throws the error for `backward` before `forward` (a RangeError, as documented on {@linkcode Layer}). */
export function noForward(layer: { readonly kind: string; readonly name: string }): never {
  throw new RangeError(
    `${layer.kind} "${layer.name}": backward was called before forward (run forward on a batch first)`,
  );
}

/** Throws the error for a layer used before it was built (a RangeError, as documented on {@linkcode Layer}). */
export function notBuilt(layer: { readonly kind: string; readonly name: string }): never {
  throw new RangeError(
    `${layer.kind} "${layer.name}": used before build (add it to a model, or call build(inputShape, rand))`,
  );
}

/** Checks that a batch has the shape `[m, ...sample]` and returns m. */
export function checkBatch(layer: Layer, what: string, x: Tensor, sample: SampleShape): number {
  const s = x?.shape;
  let ok = Array.isArray(s) && s.length === sample.length + 1 && Number.isInteger(s[0]) &&
    s[0] > 0 && x.data instanceof Float32Array;
  // Plain loops: this runs for every layer of every prediction.
  let n = ok ? s[0]! : 0;
  for (let i = 0; ok && i < sample.length; i++) {
    ok = s[i + 1] === sample[i];
    n *= sample[i]!;
  }
  ok &&= x.data.length === n;
  if (!ok) {
    throw new RangeError(
      `${layer.kind} "${layer.name}": ${what} must have shape [m, ${sample.join(", ")}], got ${
        Array.isArray(s) ? `[${s.join(", ")}]` : String(s)
      }`,
    );
  }
  return s![0]!;
}

/** Adds `src` into `dst` element-wise. */
export function addInto(dst: Float32Array, src: Float32Array | Float64Array): void {
  for (let i = 0; i < dst.length; i++) dst[i]! += src[i]!;
}

/** A standard normal sample from a uniform source (Box–Muller). */
export function gaussian(rand: () => number): number {
  let u = 0;
  while (u === 0) u = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** How many more parameters the layers being built may allocate (see {@linkcode withParamBudget}). */
let budget = Infinity;

/**
 * Runs `fn` (which builds layers) allowing at most `limit` parameters in all,
 * so that an architecture read from an untrusted file cannot make the
 * layers allocate more than the file could fill.
 */
export function withParamBudget<T>(limit: number, fn: () => T): T {
  const before = budget;
  budget = limit;
  try {
    return fn();
  } finally {
    budget = before;
  }
}

/** A zeroed parameter array of `n` floats, within the budget. */
export function allocParam(layer: string, n: number): Float32Array {
  if (!Number.isSafeInteger(n) || n > budget) {
    throw new RangeError(
      `${layer}: needs ${n} parameters, more than the ${budget} left under maxParameters ` +
        `(raise the model's or loader's maxParameters option if this is intended)`,
    );
  }
  budget -= n;
  return adopting ? ADOPTED : new Float32Array(n);
}

/** Set while building layers whose weights are placed right after (see {@linkcode withoutInit}). */
let skipInit = false;

/**
 * Runs `fn` (which builds layers) with their random initial weights left
 * at zero, for loaders that set every weight right after: drawing 11
 * million Gaussians for resnet18 took half a second, only to be
 * overwritten.
 */
export function withoutInit<T>(fn: () => T): T {
  const before = skipInit;
  skipInit = true;
  try {
    return fn();
  } finally {
    skipInit = before;
  }
}

/** He-normal initial weights: N(0, 2 / fanIn). */
export function heNormal(
  n: number,
  fanIn: number,
  rand: () => number,
  layer = "layer",
): Float32Array {
  const std = Math.sqrt(2 / fanIn);
  const a = allocParam(layer, n);
  if (skipInit || a === ADOPTED) return a;
  for (let i = 0; i < n; i++) a[i] = gaussian(rand) * std;
  return a;
}

/** Glorot-uniform initial weights: U(±√(6 / (fanIn + fanOut))). */
export function glorotUniform(
  n: number,
  fanIn: number,
  fanOut: number,
  rand: () => number,
  layer = "layer",
): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const a = allocParam(layer, n);
  if (skipInit || a === ADOPTED) return a;
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * limit;
  return a;
}

/** dOut where the (ReLU) output `y` is positive, 0 elsewhere: the gradient through a fused ReLU. */
export function reluGrad(dOut: Float32Array, y: Float32Array, six = false): Float32Array {
  const d = new Float32Array(dOut.length);
  if (six) {
    for (let i = 0; i < d.length; i++) if (y[i]! > 0 && y[i]! < 6) d[i] = dOut[i]!;
  } else for (let i = 0; i < d.length; i++) if (y[i]! > 0) d[i] = dOut[i]!;
  return d;
}

/** A fused activation: none, ReLU, or ReLU6. */
export type Activation = "relu" | "relu6" | "linear";

/** The kernels' code of an activation: 0 none, 1 ReLU, 2 ReLU6. */
export function activationCode(a: Activation): 0 | 1 | 2 {
  return a === "relu" ? 1 : a === "relu6" ? 2 : 0;
}

/** Checks an `activation` option (`undefined` means `"linear"`). */
export function checkActivation(kind: string, a: unknown): Activation {
  return checkOneOf(
    kind,
    "options.activation",
    a ?? "linear",
    ["relu", "relu6", "linear"] as const,
  );
}

/** Checks an `init` option (`undefined` means `fallback`). */
export function checkInit(kind: string, v: unknown, fallback: "he" | "glorot"): "he" | "glorot" {
  return checkOneOf(kind, "options.init", v ?? fallback, ["he", "glorot"] as const);
}

/** The layers that belong to a model. A layer holds one model's weights and cache, so it may join only one. */
const owned = new WeakSet<Layer | MergeLayer>();

/**
 * Throws if any of `layers` already belongs to a model (or appears twice),
 * before anything is built, so the first model keeps working.
 */
export function checkUnowned(fn: string, layers: readonly (Layer | MergeLayer)[]): void {
  const seen = new Set<Layer | MergeLayer>();
  layers.forEach((l, i) => {
    if (owned.has(l) || seen.has(l)) {
      throw new RangeError(
        `${fn}: layers[${i}] (${l.kind} "${l.name}") already belongs to ${
          seen.has(l) ? "this" : "another"
        } model; a layer holds one model's weights, so create a new layer object`,
      );
    }
    seen.add(l);
  });
}

/** Marks `layers` as belonging to a model. */
export function claimLayers(layers: readonly (Layer | MergeLayer)[]): void {
  for (const l of layers) owned.add(l);
}

/** Whether `layer` already belongs to a model. */
export function isOwned(layer: unknown): boolean {
  return owned.has(layer as Layer);
}

/** Gives unnamed layers `kind_N` names and checks that names are unique. */
export function nameLayers(fn: string, layers: readonly (Layer | MergeLayer)[]): void {
  const counts = new Map<string, number>();
  const names = new Set<string>();
  for (const l of layers) {
    if (!l.name) {
      const base = l.kind.toLowerCase();
      let n = counts.get(base) ?? 0;
      do n++; while (names.has(`${base}_${n}`) || layers.some((o) => o.name === `${base}_${n}`));
      counts.set(base, n);
      l.name = `${base}_${n}`;
    }
    if (names.has(l.name)) throw new RangeError(`${fn}: two layers are named "${l.name}"`);
    names.add(l.name);
  }
}

/**
 * Test helpers: a seeded PRNG, random tensors and error measures.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Backend, getBackend, mulberry32, setBackend, type Tensor, tensor } from "../mod.ts";
import { assertTensorClose, compareArrays } from "../src/testing/mod.ts";
import { planConv } from "../src/core/_geometry.ts";
import type { ConvGeometry } from "../src/core/types.ts";

/** The library's seeded PRNG (mulberry32), giving floats in [0, 1). */
export const rng: (seed: number) => () => number = mulberry32;

/** Runs `fn` with backend `b` active, then restores the one before. */
export function withBackend<T>(b: Backend, fn: () => T): T {
  const before = getBackend();
  setBackend(b);
  try {
    return fn();
  } finally {
    setBackend(before);
  }
}

/** `withBackend` for an async body: backend `b` stays active until it settles. */
export async function withBackendAsync(b: Backend, fn: () => Promise<void>): Promise<void> {
  const before = getBackend();
  setBackend(b);
  try {
    await fn();
  } finally {
    setBackend(before);
  }
}

/** A square-filter convolution geometry: padding `pad` all round, or `pads` [top, bottom, left, right]. */
export function convGeo(
  m: number,
  h: number,
  w: number,
  cIn: number,
  f: number,
  cOut: number,
  o: {
    stride?: number;
    pad?: number;
    pads?: [number, number, number, number];
    groups?: number;
    dilation?: number;
  } = {},
): ConvGeometry {
  const s = o.stride ?? 1, p = o.pad ?? 0, d = o.dilation ?? 1;
  return planConv("test", "f", m, h, w, cIn, f, f, cOut, {
    stride: [s, s],
    pads: o.pads ?? [p, p, p, p],
    dilation: [d, d],
    groups: o.groups ?? 1,
  });
}

/** An integer in [lo, hi]. */
export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** A Float32Array of `n` values uniform in [lo, hi). */
export function randArray(r: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

/**
 * Norm-wise relative error, NaN-safe: see `compareArrays` in the testing
 * module. The whole suite compares through it (and {@linkcode assertClose}).
 */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return compareArrays(a, b).error;
}

/** Asserts that `a` matches `b` within a norm-wise relative tolerance; NaN matches only NaN. */
export function assertClose(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  tol: number,
  what: string,
): void {
  assertTensorClose(a, b, tol, what);
}

/** The dot product, summed in float64. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * Compares an analytic gradient with central differences of `loss` over
 * every entry of `values` (changed in place and restored):
 * max |numeric − analytic| must be below `tol` times the largest analytic
 * entry. Forward passes are float32, so the default step is 1e-2.
 */
export function assertGradient(
  values: Float32Array,
  analytic: ArrayLike<number>,
  loss: () => number,
  what: string,
  { tol = 3e-3, eps = 1e-2 }: { tol?: number; eps?: number } = {},
): void {
  let worst = 0, scale = 0;
  for (let i = 0; i < values.length; i++) {
    const keep = values[i]!;
    values[i] = keep + eps;
    const up = loss();
    values[i] = keep - eps;
    const down = loss();
    values[i] = keep;
    worst = Math.max(worst, Math.abs((up - down) / (2 * eps) - analytic[i]!));
    scale = Math.max(scale, Math.abs(analytic[i]!));
  }
  assert.ok(scale > 0, `${what}: all-zero gradient would make the check vacuous`);
  assert.ok(
    worst / scale < tol,
    `${what}: finite-difference mismatch ${worst.toExponential(2)} (scale ${scale})`,
  );
}

/**
 * A learnable toy problem: 8×8 images, class = which of three places holds
 * a bright 2×2 blob. Images and labels come from one call, so they belong
 * together.
 */
export function blobs(n: number, r: () => number): { x: Tensor; labels: number[] } {
  const x = new Float32Array(n * 64), labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const q = Math.floor(r() * 3);
    labels.push(q);
    const oy = q === 2 ? 5 : 1, ox = q === 1 ? 5 : 1;
    for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
      x[i * 64 + (oy + dy) * 8 + ox + dx] = 1;
    }
  }
  return { x: tensor(x, [n, 8, 8, 1]), labels };
}

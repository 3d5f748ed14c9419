// This module is browser compatible.

import {
  checkFinite,
  checkFloat32Array,
  checkOutputSize,
  checkPositiveInt,
  fail,
  failText,
} from "../core/_validate.ts";

/**
 * The seed's max-pool mask: 1 where `x` equals its maximum, 0 elsewhere.
 *
 * Kept exactly as the seed defines it, so **every** tied maximum gets a 1.
 * {@linkcode poolBackward} does not use it: it routes a window's gradient to
 * the first maximum only, so that ties do not multiply the gradient.
 *
 * @example Usage
 * ```ts
 * import { createMaskFromWindow } from "@convnet/wasm";
 * createMaskFromWindow(new Float32Array([1, 3, 2, 3])); // Float32Array [0, 1, 0, 1]
 * ```
 *
 * @param x The window's values, at least one.
 * @returns A new array of 0s and 1s, the length of `x`.
 * @throws {TypeError | RangeError} If `x` is not a non-empty Float32Array.
 */
export function createMaskFromWindow(x: Float32Array): Float32Array {
  checkFloat32Array("createMaskFromWindow", "x", x);
  if (x.length === 0) failText(RangeError, "createMaskFromWindow", "x.length", "at least 1", "0");
  let max = -Infinity;
  for (const v of x) if (v > max) max = v;
  const mask = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) mask[i] = x[i] === max ? 1 : 0;
  return mask;
}

/**
 * The seed's average-pool gradient for one window: `dz / (nH·nW)` in each of
 * the `nH × nW` positions.
 *
 * @example Usage
 * ```ts
 * import { distributeValue } from "@convnet/wasm";
 * distributeValue(2, [2, 2]); // Float32Array [0.5, 0.5, 0.5, 0.5]
 * ```
 *
 * @param dz The window's gradient, a finite number.
 * @param shape The window's `[nH, nW]`, positive integers.
 * @returns A new row-major array of `nH·nW` equal values.
 * @throws {TypeError | RangeError} If `dz` is not finite or `shape` is not two positive integers.
 */
export function distributeValue(dz: number, shape: readonly [number, number]): Float32Array {
  checkFinite("distributeValue", "dz", dz);
  if (!Array.isArray(shape)) fail(TypeError, "distributeValue", "shape", "[nH, nW]", shape);
  if (shape.length !== 2) fail(RangeError, "distributeValue", "shape", "[nH, nW]", shape);
  const nH = checkPositiveInt("distributeValue", "shape[0]", shape[0]);
  const nW = checkPositiveInt("distributeValue", "shape[1]", shape[1]);
  checkOutputSize("distributeValue", "the window", [nH, nW]);
  return new Float32Array(nH * nW).fill(dz / (nH * nW));
}

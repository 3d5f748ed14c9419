// This module is browser compatible.

import { checkFinite, checkFloat32Array, failText } from "../core/_validate.ts";

/**
 * One step of a convolution: the sum of `slice · w` element by element, plus
 * the bias `b`. `slice` and `w` are one `f × f × cIn` window and one filter,
 * flattened in the same order.
 *
 * @example Usage
 * ```ts
 * import { convSingleStep } from "@convnet/wasm";
 * convSingleStep(new Float32Array([1, 2, 3]), new Float32Array([4, 5, 6]), 1); // 33
 * ```
 *
 * @param slice The input window.
 * @param w The filter, the same length as `slice`.
 * @param b The bias, a finite number.
 * @returns `Σ slice[i]·w[i] + b`, summed in float64.
 * @throws {TypeError | RangeError} If the arrays are not Float32Arrays of one non-zero length, or `b` is not finite.
 */
export function convSingleStep(slice: Float32Array, w: Float32Array, b: number): number {
  checkFloat32Array("convSingleStep", "slice", slice);
  if (slice.length === 0) {
    failText(RangeError, "convSingleStep", "slice.length", "at least 1", "0");
  }
  checkFloat32Array("convSingleStep", "w", w, slice.length, " (slice.length)");
  checkFinite("convSingleStep", "b", b);
  let s = 0;
  for (let i = 0; i < slice.length; i++) s += slice[i]! * w[i]!;
  return s + b;
}

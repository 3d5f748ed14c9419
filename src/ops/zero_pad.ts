// This module is browser compatible.

import { checkNonNegativeInt, checkOutputSize, checkTensor4 } from "../core/_validate.ts";
import type { Tensor, Tensor4 } from "../core/tensor.ts";

/**
 * Pads the height and width of an NHWC tensor with `pad` zeros on each side.
 * Batch and channels are unchanged. `pad = 0` returns a copy.
 *
 * @example Usage
 * ```ts
 * import { tensor, zeroPad } from "@convnet/wasm";
 * const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
 * const y = zeroPad(x, 1);
 * y.shape; // [1, 4, 4, 1]
 * ```
 *
 * @param x An NHWC tensor `[m, height, width, channels]`.
 * @param pad Zeros to add on each side, a non-negative integer.
 * @returns A new tensor `[m, height + 2·pad, width + 2·pad, channels]`.
 * @throws {TypeError | RangeError} If `x` is not a valid rank-4 tensor or `pad` is not a non-negative integer.
 */
export function zeroPad(x: Tensor, pad: number): Tensor4 {
  const t = checkTensor4("zeroPad", "x", x);
  checkNonNegativeInt("zeroPad", "pad", pad);
  const [m, h, w, c] = t.shape;
  const ph = h + 2 * pad;
  const pw = w + 2 * pad;
  checkOutputSize("zeroPad", "the output", [m, ph, pw, c]);
  const out = new Float32Array(m * ph * pw * c);
  const rowLen = w * c;
  for (let i = 0; i < m; i++) {
    for (let r = 0; r < h; r++) {
      const src = (i * h + r) * rowLen;
      const dst = ((i * ph + r + pad) * pw + pad) * c;
      out.set(t.data.subarray(src, src + rowLen), dst);
    }
  }
  return { shape: Object.freeze([m, ph, pw, c] as const), data: out };
}

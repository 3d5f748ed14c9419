// This module is browser compatible.

import { activeKernels } from "../backend/select.ts";
import { convGeometry } from "../core/_geometry.ts";
import { checkObject, checkShapeEquals, checkTensor4 } from "../core/_validate.ts";
import type { ConvCache } from "./conv_forward.ts";
import type { Tensor, Tensor4 } from "../core/tensor.ts";

/**
 * The backward pass of {@linkcode convForward}: given `dZ`, the gradient of
 * the loss with respect to the convolution's output, returns the gradients
 * with respect to its input, filters and biases, for every geometry the
 * forward pass takes (strides, paddings, dilation, groups). Windows start
 * every `stride` pixels (as in the forward pass) and the padding is stripped
 * from `dAPrev`, also when `pad` is 0.
 *
 * @example Usage
 * ```ts
 * import { convBackward, convForward, tensor } from "@convnet/wasm";
 * const x = tensor(new Float32Array(2 * 6 * 6 * 3).fill(0.5), [2, 6, 6, 3]);
 * const w = tensor(new Float32Array(3 * 3 * 3 * 4).fill(0.1), [3, 3, 3, 4]);
 * const { z, cache } = convForward(x, w, new Float32Array(4), { stride: 2, pad: 1 });
 * const dZ = tensor(new Float32Array(z.data.length).fill(1), z.shape);
 * const { dAPrev, dW, db } = convBackward(dZ, cache);
 * dAPrev.shape; // [2, 6, 6, 3]
 * dW.shape; // [3, 3, 3, 4]
 * db[0]; // 18: 2 images × 3 × 3 output positions
 * ```
 *
 * @param dZ The gradient of the output, shaped like the forward output `z`.
 * @param cache The cache returned by {@linkcode convForward}.
 * @returns `dAPrev` (like `aPrev`), `dW` (like `w`) and `db` (like `b`).
 * @throws {TypeError | RangeError} If `dZ`'s shape differs from the forward output or the cache is invalid.
 */
export function convBackward(
  dZ: Tensor,
  cache: ConvCache,
): { dAPrev: Tensor4; dW: Tensor4; db: Float32Array } {
  const fn = "convBackward";
  const c = checkObject(fn, "cache", cache);
  const v = convGeometry(fn, c["aPrev"], c["w"], c["b"], c["hp"]);
  const dz = checkTensor4(fn, "dZ", dZ);
  const { g } = v;
  checkShapeEquals(fn, "dZ", dz.shape, [g.m, g.outH, g.outW, g.cOut], "the forward output shape");
  const k = activeKernels();
  const dAPrev = k.convBackwardData(g, dz.data, v.w.data);
  const { dW, db } = k.convBackwardFilter(g, v.x.data, dz.data);
  return {
    dAPrev: { shape: Object.freeze([...v.x.shape] as const), data: dAPrev },
    dW: { shape: Object.freeze([...v.w.shape] as const), data: dW },
    db,
  };
}

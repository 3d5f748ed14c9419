// This module is browser compatible.

import { activeKernels } from "../backend/select.ts";
import { checkMode, poolGeometry } from "../core/_geometry.ts";
import { checkObject, checkShapeEquals, checkTensor4 } from "../core/_validate.ts";
import type { PoolCache, PoolMode } from "./pool_forward.ts";
import type { Tensor, Tensor4 } from "../core/tensor.ts";

/**
 * The backward pass of {@linkcode poolForward}: given `dA`, the gradient of
 * the loss with respect to the pooling output, returns the gradient with
 * respect to its input.
 *
 * - `"max"`: each window's gradient goes to **one** position, the first
 *   (in row-major order within the window) that holds the window's maximum,
 *   as in PyTorch and TensorFlow. Ties therefore do not multiply the
 *   gradient. A window whose maximum is NaN passes no gradient.
 * - `"average"`: each window's gradient is spread evenly over its `f·f`
 *   positions.
 *
 * Where windows overlap (`stride < f`) the contributions add up.
 *
 * @example Usage
 * ```ts
 * import { poolBackward, poolForward, tensor } from "@convnet/wasm";
 * const x = tensor([1, 5, 3, 4], [1, 2, 2, 1]);
 * const { a, cache } = poolForward(x, { f: 2, stride: 2 });
 * poolBackward(tensor([10], a.shape), cache).data; // Float32Array [0, 10, 0, 0]
 * ```
 *
 * @param dA The gradient of the output, shaped like the forward output.
 * @param cache The cache returned by {@linkcode poolForward}.
 * @param mode `"max"` or `"average"`; defaults to the forward pass's mode.
 * @returns `dAPrev`, shaped like the forward input.
 * @throws {TypeError | RangeError} If `dA`'s shape differs from the forward output, the mode is unknown or the cache is invalid.
 */
export function poolBackward(dA: Tensor, cache: PoolCache, mode?: PoolMode): Tensor4 {
  const fn = "poolBackward";
  const c = checkObject(fn, "cache", cache);
  const v = poolGeometry(fn, c["aPrev"], c["hp"]);
  const md = checkMode(fn, mode === undefined ? "cache.mode" : "mode", mode ?? c["mode"]);
  const da = checkTensor4(fn, "dA", dA);
  const { g } = v;
  checkShapeEquals(fn, "dA", da.shape, [g.m, g.outH, g.outW, g.c], "the forward output shape");
  const data = activeKernels().poolBackward(g, v.x.data, da.data, md);
  return { shape: Object.freeze([...v.x.shape] as const), data };
}

// This module is browser compatible.

import { activeKernels } from "../backend/select.ts";
import { checkMode, poolGeometry, type PoolParams } from "../core/_geometry.ts";
import type { PoolMode } from "../backend/types.ts";
import type { Tensor, Tensor4 } from "../core/tensor.ts";

export type { PoolParams } from "../core/_geometry.ts";
export type { PoolMode } from "../backend/types.ts";

/** What `poolForward` keeps for `poolBackward`: its input (by reference), parameters and mode. */
export interface PoolCache {
  /** The input activations `[m, height, width, c]`. */
  readonly aPrev: Tensor4;
  /** The window size and stride used. */
  readonly hp: PoolParams;
  /** The mode used in the forward pass. */
  readonly mode: PoolMode;
  /** The shape of the output, which `dA` must match. */
  readonly aShape: readonly [number, number, number, number];
}

/**
 * Max or average pooling over an NHWC batch, without padding: each
 * `f × f` window, taken every `stride` pixels, is reduced per channel.
 *
 * The output is `[m, nH, nW, c]` with `nH = floor((height - f) / stride) + 1`.
 * A max window that holds a NaN gives NaN.
 *
 * @example Usage
 * ```ts
 * import { poolForward, tensor } from "@convnet/wasm";
 * const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
 * poolForward(x, { f: 2, stride: 2 }).a.data; // Float32Array [4]
 * poolForward(x, { f: 2, stride: 2 }, "average").a.data; // Float32Array [2.5]
 * ```
 *
 * @param aPrev The input `[m, height, width, c]`.
 * @param hp `f` (window size) and `stride`, positive integers; `f` at most the height and width.
 * @param mode `"max"` (the default) or `"average"`.
 * @returns The output `a` and the `cache` for {@linkcode poolBackward}.
 * @throws {TypeError | RangeError} On any invalid argument; the message names it.
 */
export function poolForward(
  aPrev: Tensor,
  hp: PoolParams,
  mode: PoolMode = "max",
): { a: Tensor4; cache: PoolCache } {
  const v = poolGeometry("poolForward", aPrev, hp);
  const md = checkMode("poolForward", "mode", mode);
  const { g } = v;
  const data = activeKernels().poolForward(g, v.x.data, md);
  const aShape = Object.freeze([g.m, g.outH, g.outW, g.c] as const);
  return {
    a: { shape: aShape, data },
    cache: Object.freeze({ aPrev: v.x, hp: v.hp, mode: md, aShape }),
  };
}

// This module is browser compatible.

import { activeKernels } from "../backend/select.ts";
import { convGeometry, type ConvParams } from "../core/_geometry.ts";
import type { Tensor, Tensor4 } from "../core/tensor.ts";

export type { ConvParams } from "../core/_geometry.ts";

/**
 * What `convForward` keeps for `convBackward`: its inputs (by reference, not
 * copied: do not write to them in between) and the output shape.
 */
export interface ConvCache {
  /** The input activations `[m, height, width, cIn]`. */
  readonly aPrev: Tensor4;
  /** The filters `[f, f, cIn, cOut]`. */
  readonly w: Tensor4;
  /** The biases `[cOut]`. */
  readonly b: Float32Array;
  /** The stride and padding used. */
  readonly hp: ConvParams;
  /** The shape of the output `z`, which `dZ` must match. */
  readonly zShape: readonly [number, number, number, number];
}

/**
 * A 2-D convolution over an NHWC batch: every `f × f × cIn` window of the
 * zero-padded input, taken every `stride` pixels, is multiplied by each of
 * the `cOut` filters and summed, and the filter's bias added.
 *
 * The output is `[m, nH, nW, cOut]` with
 * `nH = floor((height - f + 2·pad) / stride) + 1` (and likewise `nW`).
 *
 * @example Usage
 * ```ts
 * import { convForward, tensor } from "@convnet/wasm";
 * const x = tensor(new Float32Array(1 * 5 * 5 * 1).fill(1), [1, 5, 5, 1]);
 * const w = tensor(new Float32Array(3 * 3 * 1 * 2).fill(1), [3, 3, 1, 2]);
 * const { z } = convForward(x, w, new Float32Array([0, 1]), { stride: 1, pad: 1 });
 * z.shape; // [1, 5, 5, 2]
 * z.data[0]; // 4: a corner window holds four ones and five padding zeros
 * ```
 *
 * @param aPrev The input `[m, height, width, cIn]`.
 * @param w The filters `[f, f, cIn, cOut]`.
 * @param b The biases, one per filter (`cOut`).
 * @param hp `stride` (positive integer) and `pad` (non-negative integer).
 * @returns The output `z` and the `cache` for {@linkcode convBackward}.
 * @throws {TypeError | RangeError} On any invalid argument; the message names it.
 */
export function convForward(
  aPrev: Tensor,
  w: Tensor,
  b: Float32Array,
  hp: ConvParams,
): { z: Tensor4; cache: ConvCache } {
  const v = convGeometry("convForward", aPrev, w, b, hp);
  const { g } = v;
  const data = activeKernels().convForward(g, v.x.data, v.w.data, v.b);
  const zShape = Object.freeze([g.m, g.outH, g.outW, g.cOut] as const);
  return {
    z: { shape: zShape, data },
    cache: Object.freeze({ aPrev: v.x, w: v.w, b: v.b, hp: v.hp, zShape }),
  };
}

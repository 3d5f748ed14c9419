// This module is browser compatible.

import { activeKernels } from "../backend/select.ts";
import { convGeometry, type ConvParams } from "../core/_geometry.ts";
import type { Tensor, Tensor4 } from "../core/tensor.ts";

export type { ConvParams, Padding, Pair } from "../core/_geometry.ts";

/**
 * What `convForward` keeps for `convBackward`: its inputs (by reference, not
 * copied: do not write to them in between) and the output shape.
 */
export interface ConvCache {
  /** The input activations `[m, height, width, cIn]`. */
  readonly aPrev: Tensor4;
  /** The filters `[fH, fW, cIn / groups, cOut]`. */
  readonly w: Tensor4;
  /** The biases `[cOut]`. */
  readonly b: Float32Array;
  /** The hyper-parameters used (as given). */
  readonly hp: ConvParams;
  /** The shape of the output `z`, which `dZ` must match. */
  readonly zShape: readonly [number, number, number, number];
}

/**
 * A 2-D convolution over an NHWC batch: every `fH × fW × cIn` window of the
 * zero-padded input, taken every `stride` pixels, is multiplied by each of
 * the `cOut` filters and summed, and the filter's bias added.
 *
 * Hyper-parameters follow ONNX's `Conv` and PyTorch's `conv2d`:
 * - `stride`: a number or `[h, w]` (default 1);
 * - `pad`: a number (every side), `[h, w]`, `[top, bottom, left, right]`,
 *   `"valid"` (0) or `"same"` (`out = ceil(in / stride)`, an odd extra zero
 *   at the bottom or right); default 0;
 * - `dilation`: the step between filter taps, a number or `[h, w]` (default 1);
 * - `groups`: channel groups (default 1): `w` is `[fH, fW, cIn / groups, cOut]`
 *   and group `g` maps its `cIn / groups` input channels to its
 *   `cOut / groups` filters. `groups = cIn` is a depthwise convolution.
 *
 * The output is `[m, outH, outW, cOut]` with
 * `outH = floor((height + padTop + padBottom − dilation·(fH − 1) − 1) / stride) + 1`
 * (and likewise `outW`).
 *
 * @example Usage
 * ```ts
 * import { convForward, tensor } from "@convnet/wasm";
 * const x = tensor(new Float32Array(1 * 5 * 5 * 1).fill(1), [1, 5, 5, 1]);
 * const w = tensor(new Float32Array(3 * 3 * 1 * 2).fill(1), [3, 3, 1, 2]);
 * const { z } = convForward(x, w, new Float32Array([0, 1]), { stride: 1, pad: 1 });
 * z.shape; // [1, 5, 5, 2]
 * z.data[0]; // 4: a corner window holds four ones and five padding zeros
 * // Dilated, strided per axis, asymmetric padding:
 * convForward(x, w, new Float32Array(2), { stride: [2, 1], pad: [0, 1, 2, 0], dilation: 2 }).z.shape; // [1, 1, 3, 2]
 * ```
 *
 * @param aPrev The input `[m, height, width, cIn]`.
 * @param w The filters `[fH, fW, cIn / groups, cOut]`.
 * @param b The biases, one per filter (`cOut`).
 * @param hp `stride`, `pad`, `dilation`, `groups` (all optional).
 * @returns The output `z` and the `cache` for {@linkcode convBackward}.
 * @throws {TypeError | RangeError} On any invalid argument; the message names it.
 */
export function convForward(
  aPrev: Tensor,
  w: Tensor,
  b: Float32Array,
  hp: ConvParams = {},
): { z: Tensor4; cache: ConvCache } {
  const v = convGeometry("convForward", aPrev, w, b, hp);
  const { g } = v;
  const data = activeKernels().convForward(g, v.x.data, v.w.data, v.b);
  const zShape = Object.freeze([g.m, g.outH, g.outW, g.cOut] as const);
  return {
    z: { shape: zShape, data },
    cache: Object.freeze({ aPrev: v.x, w: v.w, b: v.b, hp, zShape }),
  };
}

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
  /** The hyper-parameters used (as given). */
  readonly hp: PoolParams;
  /** The mode used in the forward pass. */
  readonly mode: PoolMode;
  /** The shape of the output, which `dA` must match. */
  readonly aShape: readonly [number, number, number, number];
}

/**
 * Max or average pooling over an NHWC batch: each window of `f` taps
 * (`[h, w]` or square), taken every `stride` pixels, is reduced per channel.
 *
 * Hyper-parameters follow ONNX's `MaxPool` / `AveragePool` and PyTorch:
 * - `stride` (default `f`), `dilation` (default 1): numbers or `[h, w]`;
 * - `pad`: as for {@linkcode convForward} (default 0). Padding never wins a
 *   maximum; an average divides by the window's in-bounds taps unless
 *   `countIncludePad` (then by its taps inside the padded input);
 * - `ceilMode`: round the output size up; a window must still start inside
 *   the input or its begin padding.
 *
 * The output is `[m, outH, outW, c]` with
 * `outH = floor((height + padTop + padBottom − dilation·(fH − 1) − 1) / stride) + 1`.
 * A max window that holds a NaN gives NaN.
 *
 * @example Usage
 * ```ts
 * import { poolForward, tensor } from "@convnet/wasm";
 * const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
 * poolForward(x, { f: 2, stride: 2 }).a.data; // Float32Array [4]
 * poolForward(x, { f: 2, stride: 2 }, "average").a.data; // Float32Array [2.5]
 * // PyTorch's MaxPool2d(3, stride=2, padding=1, ceil_mode=True):
 * poolForward(x, { f: 3, stride: 2, pad: 1, ceilMode: true }).a.shape; // [1, 1, 1, 1]
 * ```
 *
 * @param aPrev The input `[m, height, width, c]`.
 * @param hp `f`, and optionally `stride`, `pad`, `dilation`, `ceilMode`, `countIncludePad`.
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
    cache: Object.freeze({ aPrev: v.x, hp, mode: md, aShape }),
  };
}

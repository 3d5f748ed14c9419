// This module is browser compatible.

import { activeKernels } from "../backend/select.ts";
import { convTransposeGeometry, type ConvTransposeParams } from "../core/_geometry.ts";
import { checkObject, checkShapeEquals, checkTensor4 } from "../core/_validate.ts";
import type { Tensor, Tensor4 } from "../core/types.ts";

export type { ConvTransposeParams } from "../core/_geometry.ts";

/** What `convTransposeForward` keeps for `convTransposeBackward`: its inputs (by reference) and the output shape. */
export interface ConvTransposeCache {
  /** The input `[m, height, width, cIn]`. */
  readonly x: Tensor4;
  /** The filters `[fH, fW, cOut / groups, cIn]`. */
  readonly w: Tensor4;
  /** The biases `[cOut]`. */
  readonly b: Float32Array;
  /** The hyper-parameters used (as given). */
  readonly hp: ConvTransposeParams;
  /** The shape of the output `z`, which `dZ` must match. */
  readonly zShape: readonly [number, number, number, number];
}

/**
 * A transposed convolution (a "deconvolution", as in U-Nets and decoders):
 * the input gradient of {@linkcode convForward} with the same filters and
 * hyper-parameters, plus a bias. Each input pixel spreads `w · x` over an
 * `fH × fW` window of the output, windows `stride` pixels apart; `pad`
 * removes rows and columns from the output's edges and `outputPadding`
 * (less than the stride) adds some at the bottom and right.
 *
 * The output is `[m, outH, outW, cOut]` with
 * `outH = (height − 1)·stride − padTop − padBottom + dilation·(fH − 1) + outputPadding + 1`;
 * `pad: "same"` makes `outH = height · stride`. This is PyTorch's
 * `conv_transpose2d` and ONNX's `ConvTranspose`, whose weight `[cIn, cOut / groups, kH, kW]`
 * is ours transposed to `[kH, kW, cOut / groups, cIn]`.
 *
 * @example Usage
 * ```ts
 * import { convTransposeForward, tensor } from "@convnet/wasm";
 * const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
 * const w = tensor([1, 1, 1, 1], [2, 2, 1, 1]);
 * const { z } = convTransposeForward(x, w, new Float32Array(1), { stride: 2 });
 * z.shape; // [1, 4, 4, 1]: every input pixel becomes a 2×2 block
 * z.data[0]; // 1
 * ```
 *
 * @param x The input `[m, height, width, cIn]`.
 * @param w The filters `[fH, fW, cOut / groups, cIn]`.
 * @param b The biases `[cOut]`.
 * @param hp `stride`, `pad`, `dilation`, `groups`, `outputPadding` (all optional).
 * @returns The output `z` and the `cache` for {@linkcode convTransposeBackward}.
 * @throws {TypeError | RangeError} On any invalid argument; the message names it.
 */
export function convTransposeForward(
  x: Tensor,
  w: Tensor,
  b: Float32Array,
  hp: ConvTransposeParams = {},
): { z: Tensor4; cache: ConvTransposeCache } {
  const v = convTransposeGeometry("convTransposeForward", x, w, b, hp);
  const { g } = v;
  const data = activeKernels().convBackwardData(g, v.x.data, v.w.data);
  const c = g.cIn;
  for (let i = 0; i < data.length; i++) data[i] = data[i]! + v.b[i % c]!;
  const zShape = Object.freeze([g.m, g.inH, g.inW, c] as const);
  return {
    z: { shape: zShape, data },
    cache: Object.freeze({ x: v.x, w: v.w, b: v.b, hp, zShape }),
  };
}

/**
 * The backward pass of {@linkcode convTransposeForward}: given `dZ`, returns
 * the gradients with respect to its input (`dX`, a plain convolution of `dZ`
 * with the same filters), its filters (`dW`) and its biases (`db`).
 *
 * @example Usage
 * ```ts
 * import { convTransposeBackward, convTransposeForward, tensor } from "@convnet/wasm";
 * const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
 * const w = tensor([1, 1, 1, 1], [2, 2, 1, 1]);
 * const { z, cache } = convTransposeForward(x, w, new Float32Array(1), { stride: 2 });
 * const { dX, dW, db } = convTransposeBackward(tensor(new Float32Array(16).fill(1), z.shape), cache);
 * dX.data; // Float32Array [4, 4, 4, 4]
 * dW.data; // Float32Array [10, 10, 10, 10]
 * db; // Float32Array [16]
 * ```
 *
 * @param dZ The gradient of the output, shaped like `z`.
 * @param cache The cache returned by {@linkcode convTransposeForward}.
 * @returns `dX` (like `x`), `dW` (like `w`) and `db` (like `b`).
 * @throws {TypeError | RangeError} If `dZ`'s shape differs from the forward output or the cache is invalid.
 */
export function convTransposeBackward(
  dZ: Tensor,
  cache: ConvTransposeCache,
): { dX: Tensor4; dW: Tensor4; db: Float32Array } {
  const fn = "convTransposeBackward";
  const c = checkObject(fn, "cache", cache);
  const v = convTransposeGeometry(fn, c["x"], c["w"], c["b"], c["hp"]);
  const dz = checkTensor4(fn, "dZ", dZ);
  const { g } = v;
  checkShapeEquals(fn, "dZ", dz.shape, [g.m, g.inH, g.inW, g.cIn], "the forward output shape");
  const k = activeKernels();
  const dX = k.convForward(g, dz.data, v.w.data, new Float32Array(g.cOut));
  const dW = k.convBackwardFilter(g, dz.data, v.x.data).dW;
  const db64 = new Float64Array(g.cIn);
  for (let i = 0; i < dz.data.length; i++) db64[i % g.cIn]! += dz.data[i]!;
  return {
    dX: { shape: Object.freeze([...v.x.shape] as const), data: dX },
    dW: { shape: Object.freeze([...v.w.shape] as const), data: dW },
    db: Float32Array.from(db64),
  };
}

// This module is browser compatible.

import { type Tensor, tensor } from "../core/tensor.ts";
import { fail } from "../core/_validate.ts";
import { chwToHwc, hwcToChw } from "../core/_layout.ts";

function check(fn: string, x: Tensor): readonly number[] {
  if (!x || !(x.data instanceof Float32Array) || !Array.isArray(x.shape)) {
    fail(TypeError, fn, "x", "a Tensor", x);
  }
  if (x.shape.length !== 4 && x.shape.length !== 3) {
    fail(RangeError, fn, "x.shape", "4 dimensions (or 3 for 1-D signals)", x.shape);
  }
  if (x.shape.reduce((p, d) => p * d, 1) !== x.data.length) {
    fail(RangeError, fn, "x", `data of ${x.shape.join("·")} values`, x.data.length);
  }
  return x.shape;
}

/**
 * Converts an NCHW batch (PyTorch's and ONNX's layout) to NHWC (ours):
 * `[N, C, H, W]` → `[N, H, W, C]`; a 1-D batch `[N, C, L]` → `[N, 1, L, C]`,
 * as {@linkcode loadOnnx} models take it.
 *
 * @example Usage
 * ```ts
 * import { nchwToNhwc, tensor } from "@convnet/wasm";
 * nchwToNhwc(tensor([1, 2, 3, 4], [1, 2, 1, 2])).data; // Float32Array [1, 3, 2, 4]
 * ```
 *
 * @param x A tensor `[N, C, H, W]` or `[N, C, L]`.
 * @returns A new tensor `[N, H, W, C]` (or `[N, 1, L, C]`).
 */
export function nchwToNhwc(x: Tensor): Tensor {
  const s = check("nchwToNhwc", x);
  const [N, C, H, W] = s.length === 4
    ? s as [number, number, number, number]
    : [s[0]!, s[1]!, 1, s[2]!];
  const out = chwToHwc(x.data, N, C, H * W);
  return tensor(out, [N, H, W, C]);
}

/**
 * Converts an NHWC batch (ours) to NCHW (PyTorch's and ONNX's layout):
 * `[N, H, W, C]` → `[N, C, H, W]`.
 *
 * @example Usage
 * ```ts
 * import { nhwcToNchw, tensor } from "@convnet/wasm";
 * nhwcToNchw(tensor([1, 3, 2, 4], [1, 1, 2, 2])).data; // Float32Array [1, 2, 3, 4]
 * ```
 *
 * @param x A tensor `[N, H, W, C]`.
 * @returns A new tensor `[N, C, H, W]`.
 */
export function nhwcToNchw(x: Tensor): Tensor {
  const s = check("nhwcToNchw", x);
  if (s.length !== 4) fail(RangeError, "nhwcToNchw", "x.shape", "4 dimensions", s);
  const [N, H, W, C] = s as [number, number, number, number];
  const out = hwcToChw(x.data, N, C, H * W);
  return tensor(out, [N, C, H, W]);
}

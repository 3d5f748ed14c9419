// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";
import { checkDims, checkFloat32Array, checkOptions, describe } from "../core/_validate.ts";
import { chwRowsToHwc, oihwToHwio, transpose2d } from "../core/_layout.ts";

function checkShape(
  fn: string,
  data: Float32Array,
  shape: readonly number[],
  rank: number,
  names: string,
): void {
  checkFloat32Array(fn, "data", data);
  checkDims(fn, "shape", shape, rank, `positive integers ${names}`);
  const n = shape.reduce((p, v) => p * v, 1);
  if (data.length !== n) {
    throw new RangeError(`${fn}: data.length must be ${n}, got ${data.length}`);
  }
}

/**
 * Converts a PyTorch `Conv2d.weight`, laid out `[cOut, cIn, kH, kW]`, to
 * this library's filter layout `[kH, kW, cIn, cOut]`:
 * `ours[h][w][i][o] = torch[o][i][h][w]`. (Biases are `[cOut]` in both.)
 *
 * @example Usage
 * ```ts
 * import { fromTorchConv2dWeight } from "@convnet/wasm";
 * // Two 1×1 filters over one channel: torch [2, 1, 1, 1] → ours [1, 1, 1, 2].
 * fromTorchConv2dWeight(new Float32Array([3, 4]), [2, 1, 1, 1]).shape; // [1, 1, 1, 2]
 * ```
 *
 * @param data The weight's values in PyTorch's order.
 * @param shape `[cOut, cIn, kH, kW]`.
 * @returns The same weights as `[kH, kW, cIn, cOut]`.
 * @throws {TypeError | RangeError} If the data and shape disagree.
 */
export function fromTorchConv2dWeight(
  data: Float32Array,
  shape: readonly [number, number, number, number],
): Tensor {
  checkShape("fromTorchConv2dWeight", data, shape, 4, "[cOut, cIn, kH, kW]");
  const [cOut, cIn, kH, kW] = shape;
  const out = oihwToHwio(data, shape);
  return { shape: [kH, kW, cIn, cOut], data: out };
}

/**
 * Converts a PyTorch `Linear.weight` (`[out, in]`) to this library's
 * `Dense` kernel (`[in, out]`). When the `Linear` follows a flatten of a
 * `[c, h, w]` feature map (PyTorch is NCHW), pass `flattenedFrom: [c, h, w]`
 * and the input rows are reordered to our `[h, w, c]` flatten order too.
 *
 * @example Usage
 * ```ts
 * import { fromTorchLinearWeight } from "@convnet/wasm";
 * fromTorchLinearWeight(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]).data; // Float32Array [1, 4, 2, 5, 3, 6]
 * ```
 *
 * @param data The weight's values in PyTorch's order.
 * @param shape `[out, in]`.
 * @param options `flattenedFrom`: the `[c, h, w]` shape PyTorch flattened into `in`.
 * @returns The kernel `[in, out]`.
 * @throws {TypeError | RangeError} If the data and shapes disagree.
 */
export function fromTorchLinearWeight(
  data: Float32Array,
  shape: readonly [number, number],
  options: { flattenedFrom?: readonly [number, number, number] } = {},
): Tensor {
  checkShape("fromTorchLinearWeight", data, shape, 2, "[out, in]");
  const [nOut, nIn] = shape;
  const from = checkOptions("fromTorchLinearWeight", "options", options, ["flattenedFrom"])[
    "flattenedFrom"
  ] as readonly [number, number, number] | undefined;
  if (from !== undefined) {
    const [c, h, w] = checkDims("fromTorchLinearWeight", "options.flattenedFrom", from, 3);
    if (c! * h! * w! !== nIn) {
      throw new RangeError(
        `fromTorchLinearWeight: options.flattenedFrom must be [c, h, w] with c·h·w = ${nIn} (shape[1]), got ${
          describe(from)
        }`,
      );
    }
  }
  const t = transpose2d(data, nOut, nIn);
  const out = from ? chwRowsToHwc(t, from, nOut) : t;
  return { shape: [nIn, nOut], data: out };
}

// This module is browser compatible.

/**
 * Tensors: a shape and a flat, row-major `Float32Array`.
 *
 * @module
 */

import { fail, failText, MAX_ELEMENTS } from "./_validate.ts";

export type { Shape, Shape4, Tensor, Tensor4, WasmModule } from "./types.ts";
import type { Shape, Tensor } from "./types.ts";

/**
 * The number of elements a shape holds (the product of its dimensions).
 *
 * @example Usage
 * ```ts
 * import { sizeOf } from "@convnet/wasm";
 * sizeOf([2, 28, 28, 1]); // 1568
 * ```
 *
 * @param shape The shape.
 * @returns The product of the dimensions (1 for a rank-0 shape).
 */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Makes a tensor from data and a shape, checking that they agree.
 *
 * A `Float32Array` is used as it is (not copied), so later writes to it show
 * through the tensor; any other array-like is copied into a new
 * `Float32Array`. The shape is copied and frozen.
 *
 * @example Usage
 * ```ts
 * import { tensor } from "@convnet/wasm";
 * const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
 * x.shape; // [1, 2, 2, 1]
 * ```
 *
 * @param data The elements, row-major.
 * @param shape The size of each dimension; each a non-negative integer.
 * @returns The tensor.
 * @throws {TypeError} If `data` is not array-like or `shape` is not an array.
 * @throws {RangeError} If a dimension is not a non-negative integer, or
 * `data.length` differs from the product of `shape`.
 */
export function tensor(data: Float32Array | ArrayLike<number>, shape: Shape): Tensor {
  if (!Array.isArray(shape)) {
    fail(TypeError, "tensor", "shape", "an array of dimensions", shape);
  }
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (!Number.isInteger(d) || d < 0) {
      fail(RangeError, "tensor", `shape[${i}]`, "a non-negative integer", d);
    }
  }
  const n = sizeOf(shape);
  if (n > MAX_ELEMENTS) {
    failText(RangeError, "tensor", "shape", `at most ${MAX_ELEMENTS} elements`, String(n));
  }
  if (data === null || typeof data !== "object" || typeof data.length !== "number") {
    fail(TypeError, "tensor", "data", "a Float32Array or an array of numbers", data);
  }
  if (data.length !== n) {
    throw new RangeError(
      `tensor: data has ${data.length} values, shape [${shape.join(", ")}] needs ${n}`,
    );
  }
  const values = data instanceof Float32Array ? data : Float32Array.from(data);
  return { shape: Object.freeze([...shape]), data: values };
}

// This module is browser compatible.

import type { Tensor } from "../core/types.ts";

/**
 * Thrown by {@linkcode assertTensorClose} when two tensors differ by more
 * than the tolerance. The message names the worst index, both values, the
 * error and the tolerance.
 *
 * @example Usage
 * ```ts
 * import { AssertionError, assertTensorClose } from "@convnet/wasm/testing";
 * try {
 *   assertTensorClose([1, NaN], [1, 2], 1e-6);
 * } catch (e) {
 *   e instanceof AssertionError; // true
 * }
 * ```
 */
export class AssertionError extends Error {
  /**
   * Creates an AssertionError.
   *
   * @param message What differs, for a person.
   */
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

/** Where two arrays differ most, as {@linkcode compareArrays} reports it. */
export interface Comparison {
  /**
   * The largest `|actual[i] - expected[i]|` divided by the scale: `Infinity`
   * where one side is NaN or infinite and the other is not (or they are
   * infinities of opposite sign); `0` where both are NaN, or the same
   * infinity, at the same index.
   */
  readonly error: number;
  /** The index of the worst element (-1 for empty arrays). */
  readonly index: number;
  /** The scale the differences are divided by: the largest finite `|expected[i]|`, at least `floor`. */
  readonly scale: number;
}

function at(a: ArrayLike<number>, i: number): number {
  return a[i] as number;
}

/**
 * Compares two arrays element by element, safely with NaN and Infinity: a
 * NaN on one side only, wherever it stands, makes the error `Infinity`.
 * The error is norm-wise relative, `max |a − b| / max(max |b|, floor)`, the
 * usual measure for sums of products whose entries may cancel to about 0.
 *
 * @example Usage
 * ```ts
 * import { compareArrays } from "@convnet/wasm/testing";
 * compareArrays([5, NaN, 2], [1, 1, 2]).error; // Infinity
 * compareArrays([1, 2.001], [1, 2]).error; // about 5e-4
 * ```
 *
 * @param actual The values computed.
 * @param expected The reference values.
 * @param floor The smallest scale used (so that all-zero references compare absolutely); default 1e-30.
 * @returns The error, the index where it is largest and the scale.
 * @throws {RangeError} If the lengths differ.
 */
export function compareArrays(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  floor = 1e-30,
): Comparison {
  if (actual.length !== expected.length) {
    throw new RangeError(
      `compareArrays: actual.length must equal expected.length = ${expected.length}, got ${actual.length}`,
    );
  }
  let scale = floor;
  for (let i = 0; i < expected.length; i++) {
    const v = Math.abs(at(expected, i));
    if (Number.isFinite(v) && v > scale) scale = v;
  }
  let worst = 0, index = actual.length > 0 ? 0 : -1;
  for (let i = 0; i < actual.length; i++) {
    const a = at(actual, i), b = at(expected, i);
    let d: number;
    if (Number.isNaN(a) || Number.isNaN(b)) d = Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
    else if (!Number.isFinite(a) || !Number.isFinite(b)) d = a === b ? 0 : Infinity;
    else d = Math.abs(a - b) / scale;
    if (d > worst) {
      worst = d;
      index = i;
    }
  }
  return { error: worst, index, scale };
}

function isTensor(v: unknown): v is Tensor {
  return v !== null && typeof v === "object" && "shape" in v && "data" in v;
}

function show(v: number): string {
  return Number.isNaN(v) ? "NaN" : String(v);
}

/**
 * Asserts that `actual` equals `expected` within a norm-wise relative
 * tolerance (see {@linkcode compareArrays}). NaN matches only NaN, and
 * Infinity only the same Infinity, so a NaN anywhere on one side fails.
 * Tensors must also have the same shape.
 *
 * @example Usage
 * ```ts
 * import { assertTensorClose } from "@convnet/wasm/testing";
 * import { tensor } from "@convnet/wasm";
 * assertTensorClose(tensor([1, 2.0000001], [2]), tensor([1, 2], [2]), 1e-6); // passes
 * ```
 *
 * @param actual The values computed: a tensor or an array of numbers.
 * @param expected The reference, of the same kind.
 * @param tolerance The largest relative error allowed, a non-negative number.
 * @param message Prefixed to the error message, to say what was compared.
 * @throws {AssertionError} If they differ by more than `tolerance`, or the shapes or lengths differ.
 * @throws {TypeError} If `tolerance` is not a non-negative number.
 */
export function assertTensorClose(
  actual: Tensor | ArrayLike<number>,
  expected: Tensor | ArrayLike<number>,
  tolerance: number,
  message = "",
): void {
  if (typeof tolerance !== "number" || !(tolerance >= 0)) {
    throw new TypeError(
      `assertTensorClose: tolerance must be a non-negative number, got ${String(tolerance)}`,
    );
  }
  const prefix = message ? `${message}: ` : "";
  let a: ArrayLike<number>, b: ArrayLike<number>;
  if (isTensor(actual) || isTensor(expected)) {
    if (!isTensor(actual) || !isTensor(expected)) {
      throw new AssertionError(`${prefix}one side is a tensor and the other is not`);
    }
    const sa = [...actual.shape], sb = [...expected.shape];
    if (sa.length !== sb.length || sa.some((d, i) => d !== sb[i])) {
      throw new AssertionError(
        `${prefix}shape [${sa.join(", ")}] differs from the expected [${sb.join(", ")}]`,
      );
    }
    a = actual.data;
    b = expected.data;
  } else {
    a = actual;
    b = expected;
  }
  if (a.length !== b.length) {
    throw new AssertionError(
      `${prefix}length ${a.length} differs from the expected length ${b.length}`,
    );
  }
  const c = compareArrays(a, b);
  if (!(c.error <= tolerance)) {
    throw new AssertionError(
      `${prefix}relative error ${c.error.toExponential(3)} exceeds the tolerance ${tolerance}: ` +
        `at index ${c.index} actual ${show(at(a, c.index))}, expected ${
          show(at(b, c.index))
        } (scale ${c.scale.toExponential(3)})`,
    );
  }
}

// This module is browser compatible.

/**
 * Argument checks shared by the public functions. Every message has the form
 * `fn: arg must be <expected>, got <actual>` so that a person can act on it.
 *
 * @module
 */

import type { Shape4, Tensor, Tensor4 } from "./types.ts";
import { checkKeys } from "./_options.ts";

/** The largest number of elements a tensor this library makes may hold (1 GiB of float32). */
export const MAX_ELEMENTS = 2 ** 28;

/** Renders a value for an error message, briefly. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  }
  // String(), not JSON: Infinity and NaN must read as themselves, not as null.
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (ArrayBuffer.isView(value)) {
    return `a ${value.constructor.name} of length ${
      (value as unknown as ArrayLike<number>).length
    }`;
  }
  if (Array.isArray(value)) {
    return value.length <= 8
      ? `[${value.map(describe).join(", ")}]`
      : `an array of length ${value.length}`;
  }
  return typeof value === "object" ? "an object" : typeof value;
}

/** Throws `new Kind("fn: arg must be expected, got <actual described>")`. */
export function fail(
  Kind: RangeErrorConstructor | TypeErrorConstructor,
  fn: string,
  arg: string,
  expected: string,
  actual: unknown,
): never {
  return failText(Kind, fn, arg, expected, describe(actual));
}

/** Throws `new Kind("fn: arg must be expected, got gotText")`. */
export function failText(
  Kind: RangeErrorConstructor | TypeErrorConstructor,
  fn: string,
  arg: string,
  expected: string,
  gotText: string,
): never {
  throw new Kind(`${fn}: ${arg} must be ${expected}, got ${gotText}`);
}

/** Checks that `value` is a positive (≥ 1) integer. */
export function checkPositiveInt(fn: string, arg: string, value: unknown): number {
  if (typeof value !== "number") fail(TypeError, fn, arg, "a positive integer", value);
  if (!Number.isInteger(value) || value < 1) fail(RangeError, fn, arg, "a positive integer", value);
  return value;
}

/** Checks that `value` is a non-negative (≥ 0) integer. */
export function checkNonNegativeInt(fn: string, arg: string, value: unknown): number {
  if (typeof value !== "number") fail(TypeError, fn, arg, "a non-negative integer", value);
  if (!Number.isInteger(value) || value < 0) {
    fail(RangeError, fn, arg, "a non-negative integer", value);
  }
  return value;
}

/** Checks that `value` is a finite number. */
export function checkFinite(fn: string, arg: string, value: unknown): number {
  if (typeof value !== "number") fail(TypeError, fn, arg, "a finite number", value);
  if (!Number.isFinite(value)) fail(RangeError, fn, arg, "a finite number", value);
  return value;
}

/** Checks that `value` is a `Float32Array`, optionally of a given length. */
export function checkFloat32Array(
  fn: string,
  arg: string,
  value: unknown,
  length?: number,
  why = "",
): Float32Array {
  if (!(value instanceof Float32Array)) fail(TypeError, fn, arg, "a Float32Array", value);
  if (length !== undefined && value.length !== length) {
    failText(RangeError, fn, `${arg}.length`, `${length}${why}`, String(value.length));
  }
  return value;
}

/** Checks that `value` is an object (for hyper-parameter bags). */
export function checkObject(fn: string, arg: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(TypeError, fn, arg, "an object", value);
  }
  return value as Record<string, unknown>;
}

/**
 * Checks that `value` is a rank-4 tensor with positive dimensions whose data
 * length matches its shape, and returns it typed as such.
 */
export function checkTensor4(fn: string, arg: string, value: unknown): Tensor4 {
  const t = checkObject(fn, arg, value);
  const shape = t["shape"];
  if (!Array.isArray(shape)) fail(TypeError, fn, `${arg}.shape`, "an array", shape);
  if (shape.length !== 4) {
    fail(RangeError, fn, `${arg}.shape`, "rank 4 ([m, height, width, channels])", shape);
  }
  for (let i = 0; i < 4; i++) checkPositiveInt(fn, `${arg}.shape[${i}]`, shape[i]);
  const n = shape[0] * shape[1] * shape[2] * shape[3];
  if (n > MAX_ELEMENTS) {
    failText(RangeError, fn, `${arg}.shape`, `at most ${MAX_ELEMENTS} elements`, `${n}`);
  }
  checkFloat32Array(fn, `${arg}.data`, t["data"], n, ` (the product of ${arg}.shape)`);
  return t as unknown as Tensor4;
}

/** Checks that `got` equals `want`, naming both in the error. */
export function checkShapeEquals(fn: string, arg: string, got: Shape4, want: Shape4, why: string) {
  for (let i = 0; i < 4; i++) {
    if (got[i] !== want[i]) {
      throw new RangeError(
        `${fn}: ${arg}.shape must be [${want.join(", ")}] (${why}), got [${got.join(", ")}]`,
      );
    }
  }
}

/** Checks that an output of `n` elements can be allocated. */
export function checkOutputSize(fn: string, what: string, shape: readonly number[]): void {
  let n = 1;
  for (const d of shape) n *= d;
  if (n > MAX_ELEMENTS) {
    throw new RangeError(
      `${fn}: ${what} would be [${
        shape.join(", ")
      }] = ${n} elements, more than the limit of ${MAX_ELEMENTS}`,
    );
  }
}

/**
 * Checks that `value` is one of the strings in `allowed`: a `TypeError` if
 * it is not a string, a `RangeError` if it is another string.
 */
export function checkOneOf<T extends string>(
  fn: string,
  arg: string,
  value: unknown,
  allowed: readonly T[],
): T {
  const names = allowed.map((a) => JSON.stringify(a));
  const expected = names.length > 2 ? `one of ${names.join(", ")}` : names.join(" or ");
  if (typeof value !== "string") fail(TypeError, fn, arg, expected, value);
  if (!(allowed as readonly string[]).includes(value)) fail(RangeError, fn, arg, expected, value);
  return value as T;
}

/**
 * Checks that `value` is a number with `lo < value` (or `≤` if `loInclusive`)
 * and `value < hi` (or `≤` if `hiInclusive`).
 */
export function checkNumberIn(
  fn: string,
  arg: string,
  value: unknown,
  lo: number,
  hi: number,
  loInclusive: boolean,
  hiInclusive = false,
): number {
  const expected = `a number in ${loInclusive ? "[" : "("}${lo}, ${hi}${hiInclusive ? "]" : ")"}`;
  if (typeof value !== "number") fail(TypeError, fn, arg, expected, value);
  if (!(loInclusive ? value >= lo : value > lo) || !(hiInclusive ? value <= hi : value < hi)) {
    fail(RangeError, fn, arg, expected, value);
  }
  return value;
}

/** Checks that `value` is a boolean. */
export function checkBoolean(fn: string, arg: string, value: unknown): boolean {
  if (typeof value !== "boolean") fail(TypeError, fn, arg, "true or false", value);
  return value;
}

/** Checks that `value` is a string (a name, say); empty strings are refused unless `allowEmpty`. */
export function checkString(fn: string, arg: string, value: unknown, allowEmpty = false): string {
  if (typeof value !== "string") fail(TypeError, fn, arg, "a string", value);
  if (!allowEmpty && value === "") fail(RangeError, fn, arg, "a non-empty string", value);
  return value;
}

/**
 * Checks that `value` is an array of `rank` (any rank if undefined) positive
 * integers, returning a frozen copy.
 */
export function checkDims(
  fn: string,
  arg: string,
  value: unknown,
  rank?: number,
  what = "positive integers",
): readonly number[] {
  const expected = rank === undefined ? `an array of ${what}` : `${rank} ${what}`;
  if (!Array.isArray(value)) fail(TypeError, fn, arg, expected, value);
  if (rank !== undefined ? value.length !== rank : value.length === 0) {
    fail(RangeError, fn, arg, expected, value);
  }
  for (let i = 0; i < value.length; i++) {
    const d: unknown = value[i];
    if (typeof d !== "number") fail(TypeError, fn, `${arg}[${i}]`, "a positive integer", d);
    if (!Number.isInteger(d) || d < 1) {
      fail(RangeError, fn, `${arg}[${i}]`, "a positive integer", d);
    }
  }
  return Object.freeze([...value] as number[]);
}

/**
 * Checks that an optional options argument is `undefined` or an object whose
 * keys are all in `accepted` (an unknown key is a `TypeError` naming it and
 * the accepted ones, with a "did you mean" when one is close).
 */
export function checkOptions(
  fn: string,
  arg: string,
  value: unknown,
  accepted: readonly string[],
): Record<string, unknown> {
  if (value === undefined) return {};
  const o = checkObject(fn, arg, value);
  checkKeys(fn, arg, o, accepted);
  return o;
}

/**
 * Checks that `value` is a tensor of any rank: non-negative integer
 * dimensions and a `Float32Array` of matching length.
 */
export function checkTensor(fn: string, arg: string, value: unknown): Tensor {
  const t = checkObject(fn, arg, value);
  const shape = t["shape"];
  if (!Array.isArray(shape)) fail(TypeError, fn, `${arg}.shape`, "an array", shape);
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    checkNonNegativeInt(fn, `${arg}.shape[${i}]`, shape[i]);
    n *= shape[i] as number;
  }
  checkFloat32Array(fn, `${arg}.data`, t["data"], n, ` (the product of ${arg}.shape)`);
  return t as unknown as Tensor;
}

/**
 * Checks a tensor's data against its (already checked) shape: a TypeError
 * naming the data's type when it is not a `Float32Array`, a RangeError
 * naming both lengths when they differ (`x: data has 3 values, shape
 * [1, 2, 2, 1] needs 4`).
 */
export function checkTensorData(
  fn: string,
  arg: string,
  t: { shape: readonly number[]; data: unknown },
): void {
  if (!(t.data instanceof Float32Array)) {
    fail(TypeError, fn, `${arg}.data`, "a Float32Array", t.data);
  }
  const n = t.shape.reduce((p, v) => p * v, 1);
  if (t.data.length !== n) {
    throw new RangeError(
      `${fn}: ${arg}: data has ${t.data.length} values, shape [${t.shape.join(", ")}] needs ${n}`,
    );
  }
}

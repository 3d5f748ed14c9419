// This module is browser compatible.

import { fail } from "./_validate.ts";

/**
 * Checks a PRNG seed: an integer in [0, 2^32). Nothing is coerced, so that
 * `NaN`, `"7"`, `1.7` or `2 ** 32` cannot silently become some other seed.
 *
 * @example Usage
 * ```ts
 * import { checkSeed } from "@convnet/wasm";
 * checkSeed("myFn", "options.seed", 42); // 42
 * ```
 *
 * @param fn The function checking, for the message.
 * @param arg The argument's name, for the message.
 * @param value The seed.
 * @returns The seed.
 * @throws {TypeError} If `value` is not a number.
 * @throws {RangeError} If `value` is not an integer in [0, 2^32).
 */
export function checkSeed(fn: string, arg: string, value: unknown): number {
  const expected = "an integer in [0, 2^32)";
  if (typeof value !== "number") fail(TypeError, fn, arg, expected, value);
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** 32) {
    fail(RangeError, fn, arg, expected, value);
  }
  return value;
}

/**
 * A small, fast, seeded pseudo-random generator (mulberry32). The same seed
 * gives the same sequence on every platform, so initial weights and
 * training runs repeat bit for bit.
 *
 * @example Usage
 * ```ts
 * import { mulberry32 } from "@convnet/wasm";
 * const rand = mulberry32(42);
 * const a = rand(); // a float in [0, 1)
 * ```
 *
 * @param seed An integer in [0, 2^32).
 * @returns A function giving floats uniform in [0, 1).
 * @throws {TypeError} If `seed` is not a number.
 * @throws {RangeError} If `seed` is not an integer in [0, 2^32).
 */
export function mulberry32(seed: number): () => number {
  let s = checkSeed("mulberry32", "seed", seed);
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

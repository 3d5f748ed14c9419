// This module is browser compatible.

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
 * @param seed Any number; it is reduced to 32 bits.
 * @returns A function giving floats uniform in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

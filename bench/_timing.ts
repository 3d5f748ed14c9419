/**
 * Timing helpers for the benchmarks: medians over repeated calls within a
 * time budget, after a warm-up.
 *
 * @module
 */

/** Median milliseconds of `fn` over at least `minReps` calls or `budgetMs`, whichever is longer. */
export function medianMs(fn: () => unknown, budgetMs = 400, minReps = 5, maxReps = 2000): number {
  // Warm up: lets V8 tier the WebAssembly up from its baseline compiler and the allocator settle.
  const warm = performance.now();
  for (let i = 0; i < 3 || (i < 50 && performance.now() - warm < budgetMs / 4); i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (
    times.length < maxReps && (times.length < minReps || performance.now() - start < budgetMs)
  ) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

/** Formats a number with `digits` decimals, or a dash when absent. */
export function fmt(v: number | undefined, digits = 2): string {
  return v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits);
}

/**
 * Median milliseconds of an async function over `reps` calls, after `warmups` calls.
 *
 * @example
 * ```ts
 * import { medianAsync } from "./_timing.ts";
 * const ms = await medianAsync(() => Promise.resolve(), 3);
 * console.log(ms >= 0); // true
 * ```
 */
export async function medianAsync(
  f: () => Promise<unknown>,
  reps: number,
  warmups = 1,
): Promise<number> {
  for (let i = 0; i < warmups; i++) await f();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1]!;
}

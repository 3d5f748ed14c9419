// This module is browser compatible.

/**
 * Strict option bags: every options object of the public API is read
 * through {@linkcode checkKeys}, which refuses a key it does not know (a
 * misspelt `paddding` must not quietly mean "no padding"), naming the key,
 * the accepted ones and the closest one (private).
 *
 * @module
 */

/** The edit distance between two short strings (insertions, deletions, substitutions, swaps). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** Folds case and `_`/`-` so that `pool_size` and `poolSize` compare equal. */
function fold(s: string): string {
  return s.toLowerCase().replace(/[_-]/g, "");
}

/**
 * The accepted key closest to `key`, if one is close enough to be a likely
 * typo (same letters ignoring case and underscores, or at most a third of
 * the letters different).
 */
export function closest(key: string, accepted: readonly string[]): string | undefined {
  let best: string | undefined, bestD = Infinity;
  const k = fold(key);
  for (const a of accepted) {
    const f = fold(a);
    // Equal when folded, or one a prefix of the other (`padding` for `pad`): as good as a typo.
    const d = f === k
      ? 0
      : f.length >= 3 && k.length >= 3 && (k.startsWith(f) || f.startsWith(k))
      ? 1
      : distance(k, f);
    if (d < bestD) [best, bestD] = [a, d];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

/**
 * Throws a `TypeError` if `obj` has an own enumerable key outside `accepted`:
 * `Conv2D: options.paddding is not an option (did you mean "padding"?); the
 * options are filters, kernelSize, …`. Keys whose value is `undefined` are
 * refused too: a misspelt key is wrong whatever its value.
 */
export function checkKeys(
  fn: string,
  arg: string,
  obj: Record<string, unknown>,
  accepted: readonly string[],
): void {
  for (const key of Object.keys(obj)) {
    if (accepted.includes(key)) continue;
    const near = closest(key, accepted);
    const list = accepted.length === 0
      ? "it takes no options"
      : `the options are ${accepted.join(", ")}`;
    throw new TypeError(
      `${fn}: ${arg}.${key} is not an option${near ? ` (did you mean "${near}"?)` : ""}; ${list}`,
    );
  }
}

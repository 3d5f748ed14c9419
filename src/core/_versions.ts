// This module is browser compatible.

/**
 * Version stamps for weight arrays: the WebAssembly backends keep a
 * parameter's packed form in kernel memory between calls and reuse it while
 * the array's stamp is unchanged. Whatever writes into a parameter's array
 * (an optimiser step, `setWeights`, `loadWeights`, a restored snapshot,
 * `Model.weightsChanged()`) calls {@linkcode markChanged}; arrays never
 * registered with {@linkcode track} are copied in at every call, as any
 * array a caller passes to the public functions is.
 *
 * @module
 */

const versions = new WeakMap<Float32Array, number>();
/** Arrays at most this long are compared whole at each use, longer ones by samples. */
export const COMPARED_WHOLE = 4096;
/** How many `withKeptWeights` calls are running. */
let keeping = 0;

/**
 * Runs `fn` (a model's `predict` or `evaluate`) with kept weight forms
 * allowed: outside it every call copies its weights in, so code that edits a
 * parameter and calls `forward` (a finite-difference check, say) always sees
 * its edit.
 */
export function withKeptWeights<T>(fn: () => T): T {
  keeping++;
  try {
    return fn();
  } finally {
    keeping--;
  }
}

/** Registers a parameter's array (version 0) so that its packed forms may be kept. */
export function track(a: Float32Array): void {
  if (!versions.has(a)) versions.set(a, 0);
}

/** Says that `a`'s values changed: forms kept of the old values are not used again. */
export function markChanged(a: Float32Array): void {
  const v = versions.get(a);
  if (v !== undefined) versions.set(a, v + 1);
}

/**
 * The array's version, or undefined for an array not registered with
 * {@linkcode track}, or outside {@linkcode withKeptWeights}.
 */
export function versionOf(a: Float32Array): number | undefined {
  return keeping ? versions.get(a) : undefined;
}

/** How many values of a long kept array are compared at each use (a cheap guard, see Model.weightsChanged). */
const SAMPLES = 64;

/** The bits of `a` (up to COMPARED_WHOLE values), else of `SAMPLES` values spread over it. */
export function sampleOf(a: Float32Array): Int32Array {
  const bits = new Int32Array(a.buffer, a.byteOffset, a.length);
  if (a.length <= COMPARED_WHOLE) return bits.slice();
  const n = SAMPLES, out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = bits[Math.floor((i * (a.length - 1)) / Math.max(1, n - 1))]!;
  return out;
}

/** Whether `a` still holds the sampled bits. */
export function sameSample(sample: Int32Array, a: Float32Array): boolean {
  const n = sample.length;
  const bits = new Int32Array(a.buffer, a.byteOffset, a.length);
  if (a.length <= COMPARED_WHOLE) {
    if (n !== a.length) return false;
    for (let i = 0; i < n; i++) if (bits[i] !== sample[i]) return false;
    return true;
  }
  if (n !== SAMPLES) return false;
  for (let i = 0; i < n; i++) {
    if (bits[Math.floor((i * (a.length - 1)) / Math.max(1, n - 1))] !== sample[i]) return false;
  }
  return true;
}

/**
 * Where layer outputs live. Outside a model's `predict` every output is a
 * fresh `Float32Array`, as ever. Inside one, the model hands the kernels an
 * {@linkcode OutputPool}: outputs are taken from arrays that earlier nodes of
 * this or an earlier prediction no longer need (the model gives a node's
 * output back once its last reader ran), so a warm prediction allocates
 * nothing but its result, and the memory a prediction holds is its live
 * activations, not every node's output. (MobileNetV2 at 224: 26 MiB of fresh
 * arrays per prediction before, which workerd's collector let pile up to
 * gigabytes.)
 *
 * @module
 */

/**
 * Where a prediction's kernel outputs come from: {@linkcode OutputPool}'s
 * JavaScript arrays, or the WebAssembly backends' arena in kernel memory
 * (`src/backend/_arena.ts`).
 */
export interface OutputSource {
  /** An array of `n` floats with unspecified contents (the caller writes all of them). */
  take(n: number): Float32Array;
  /** The source's array whose memory `data` is (or views), if the source made it. */
  ownerOf(data: Float32Array): Float32Array | undefined;
  /** Takes back an array it made. */
  give(a: Float32Array): void;
  /** Ends a prediction. */
  endRun(): void;
}

/** Arrays for outputs, reused by length; only arrays it made are taken back. */
export class OutputPool implements OutputSource {
  #free = new Map<number, Float32Array[]>();
  #made = new WeakMap<ArrayBufferLike, Float32Array>();
  #wanted = new Set<number>();

  /** An array of `n` floats with unspecified contents (the caller writes all of them). */
  take(n: number): Float32Array {
    this.#wanted.add(n);
    const a = this.#free.get(n)?.pop();
    if (a) return a;
    const fresh = new Float32Array(n);
    this.#made.set(fresh.buffer, fresh);
    return fresh;
  }

  /** The pool's array whose memory `data` is (or views), if the pool made it. */
  ownerOf(data: Float32Array): Float32Array | undefined {
    return this.#made.get(data.buffer);
  }

  /** Takes back an array it made, for later `take`s of the same length. */
  give(a: Float32Array): void {
    if (this.#made.get(a.buffer) !== a) return;
    const list = this.#free.get(a.length);
    if (list) list.push(a);
    else this.#free.set(a.length, [a]);
  }

  /**
   * Ends a prediction: free arrays of lengths it did not ask for are dropped,
   * so the pool holds at most one prediction's working set.
   */
  endRun(): void {
    for (const n of [...this.#free.keys()]) if (!this.#wanted.has(n)) this.#free.delete(n);
    this.#wanted.clear();
  }

  /** Floats held in free arrays (for tests). */
  get freeFloats(): number {
    let n = 0;
    for (const list of this.#free.values()) for (const a of list) n += a.length;
    return n;
  }
}

let current: OutputSource | null = null;

/** The running prediction's output source, or null outside one. */
export function currentOutputs(): OutputSource | null {
  return current;
}

/**
 * An array of `n` floats for a layer's output (never for a temporary: only
 * node outputs go back to the pool), with unspecified contents, so the
 * caller writes every element: from the running prediction's outputs, else
 * a fresh array.
 */
export function outputArray(n: number): Float32Array {
  return current ? current.take(n) : new Float32Array(n);
}

/**
 * A copy of `src` for a layer's output: from the running prediction's pool,
 * else a fresh array.
 */
export function outputCopy(src: Float32Array): Float32Array {
  if (!current) return src.slice();
  const out = current.take(src.length);
  out.set(src);
  return out;
}

/** Runs `fn` with `pool` giving the outputs (nests: the previous pool is restored). */
export function withOutputPool<T>(pool: OutputSource, fn: () => T): T {
  const was = current;
  current = pool;
  try {
    return fn();
  } finally {
    current = was;
  }
}

// This module is browser compatible.

/**
 * A prediction's activations kept in kernel memory: the region of a
 * WebAssembly instance's memory, above its kept weights, where the kernels
 * write their outputs during a model's `predict`, and from where the next
 * kernels read them, so nothing crosses into JavaScript between layers.
 *
 * It is an {@linkcode OutputSource}: the model gives a value's region back
 * once its last reader ran (any view into a region counts as the region), and
 * a later output of the same size takes it again, the way XNNPACK's memory
 * planner reuses a value's memory after its last reader. Each prediction
 * starts the region afresh, so the same model lays its values out the same
 * way every time.
 *
 * While a prediction runs on the arena, the instance must neither grow its
 * memory (that would detach or move the views) nor move its kept weights:
 * the host then throws {@linkcode ArenaAbort}, and the model runs that
 * prediction again the ordinary way, with the call's needs recorded for the
 * next one.
 *
 * @module
 */

import type { OutputSource } from "../core/_outputs.ts";

/**
 * Thrown by the host when a prediction on the arena cannot go on in place
 * (the arena is full, a call needs more memory, or weights would move). The
 * model catches it and runs the prediction again without the arena.
 */
export class ArenaAbort extends Error {
  /**
   * Creates an ArenaAbort.
   *
   * @param reason Why the run stopped.
   */
  constructor(reason: string) {
    super(`kernel arena: ${reason}`);
    this.name = "ArenaAbort";
  }
}

/** Whether predictions use the arena (tests and benchmarks compare both ways). */
export const arenaSwitch: { enabled: boolean } = { enabled: true };

/** Bytes left after every region: kernels may read (and `activate` write) up to 64 bytes past a row's end. */
const SLACK = 64;

/** What the arena reads of a `WebAssembly.Memory` (typed structurally: the package's types name no DOM or WebAssembly globals). */
export interface ArenaMemory {
  /** The memory's bytes as they are now. */
  readonly buffer: ArrayBufferLike;
}

/** Regions handed out from a byte range of one memory, reused by size. */
export class KernelArena implements OutputSource {
  readonly #memory: ArenaMemory;
  /** The memory's buffer when the arena was placed (it cannot grow during a run: the host stops it first). */
  #buffer: ArrayBufferLike;
  #start = 0;
  #end = 0;
  #next = 0;
  #peak = 0;
  /** Region starts in the order handed out (increasing: regions only ever come from `#next`). */
  #starts: number[] = [];
  #views: Float32Array[] = [];
  #free = new Map<number, number[]>();

  /**
   * An arena over `memory` (placed with {@linkcode place} before use).
   *
   * @param memory The instance's memory.
   */
  constructor(memory: ArenaMemory) {
    this.#memory = memory;
    this.#buffer = memory.buffer;
  }

  /** Puts the arena at bytes [start, end) of the memory; it must be between runs. */
  place(start: number, end: number): void {
    this.#start = this.#next = start;
    this.#end = end;
    this.#peak = 0;
    this.#buffer = this.#memory.buffer;
    this.#reset();
  }

  /** The arena's first byte. */
  get start(): number {
    return this.#start;
  }

  /** The first byte after the arena (calls lay their own buffers out from here). */
  get end(): number {
    return this.#end;
  }

  /** The most bytes a run has used, from the arena's start (for sizing it). */
  get peakBytes(): number {
    return this.#peak;
  }

  /** Whether `data` lies in this arena's memory and range. */
  holds(data: Float32Array): boolean {
    return data.buffer === this.#buffer && data.byteOffset >= this.#start &&
      data.byteOffset < this.#end;
  }

  /** Stops the running prediction: throws {@linkcode ArenaAbort} (the model runs it again the ordinary way). */
  abort(reason: string): never {
    throw new ArenaAbort(reason);
  }

  take(n: number): Float32Array {
    const free = this.#free.get(n);
    const i = free?.pop();
    if (i !== undefined) return this.#views[i]!;
    const at = this.#next;
    const next = Math.ceil((at + n * 4 + SLACK) / 16) * 16;
    if (next > this.#end) {
      this.#peak = Math.max(this.#peak, next - this.#start);
      this.abort(`full (${this.#end - this.#start} bytes)`);
    }
    if (this.#buffer.byteLength < next) this.abort("memory not reserved");
    this.#next = next;
    this.#peak = Math.max(this.#peak, next - this.#start);
    this.#starts.push(at);
    const view = new Float32Array(this.#buffer, at, n);
    this.#views.push(view);
    return view;
  }

  ownerOf(data: Float32Array): Float32Array | undefined {
    const i = this.#indexOf(data);
    return i < 0 ? undefined : this.#views[i];
  }

  /** The region that starts at byte `at` and holds `n` floats, if there is one. */
  regionAt(at: number, n: number): Float32Array | undefined {
    if (at < this.#start || at >= this.#end) return undefined;
    const i = this.#indexOfOffset(at, 4);
    const v = i < 0 ? undefined : this.#views[i];
    return v && v.byteOffset === at && v.length === n ? v : undefined;
  }

  give(a: Float32Array): void {
    const i = this.#indexOf(a);
    if (i < 0 || this.#views[i] !== a) return;
    const list = this.#free.get(a.length);
    if (list) list.push(i);
    else this.#free.set(a.length, [i]);
  }

  endRun(): void {
    this.#next = this.#start;
    this.#reset();
  }

  #reset(): void {
    this.#starts = [];
    this.#views = [];
    this.#free.clear();
  }

  /** The index of the region `data` lies in, or −1. */
  #indexOf(data: Float32Array): number {
    if (!this.holds(data)) return -1;
    return this.#indexOfOffset(data.byteOffset, data.byteLength);
  }

  /** The index of the region bytes [at, at + bytes) lie in, or −1. */
  #indexOfOffset(at: number, bytes: number): number {
    const s = this.#starts;
    let lo = 0, hi = s.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid]! <= at) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0) return -1;
    const v = this.#views[hi]!;
    return at + bytes <= v.byteOffset + Math.max(v.byteLength, 4) ? hi : -1;
  }
}

// This module is browser compatible.

/**
 * A prediction's activations kept in kernel memory: the region of a
 * WebAssembly instance's memory, above its kept weights, where the kernels
 * write their outputs during a model's `predict`, and from where the next
 * kernels read them, so nothing crosses into JavaScript between layers.
 *
 * It is an {@linkcode OutputSource}: the model gives a value's region back
 * once its last reader ran (any view into a region counts as the region), and
 * later outputs are placed first-fit in the gaps, the way XNNPACK's memory
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

/** The bytes a region of `n` floats takes: its values and the slack after them, 16-aligned. */
export function regionBytes(n: number): number {
  return Math.ceil((n * 4 + SLACK) / 16) * 16;
}

/**
 * First-fit placement of regions from a start offset: a region goes into the
 * lowest gap left by freed regions that holds it, else at the end; freed
 * neighbours merge. The same sequence of takes and gives always gives the
 * same offsets. The model plays a prediction's lifetimes through it to size
 * the arena; the arena places its regions with it.
 */
export class FirstFit {
  #start: number;
  #next: number;
  #peak: number;
  /** Gaps below `#next`, by offset. */
  #gaps: { at: number; bytes: number }[] = [];

  /**
   * Starts placing at `start`.
   *
   * @param start The first offset.
   */
  constructor(start = 0) {
    this.#start = this.#next = this.#peak = start;
  }

  /** Forgets every region and starts again at `start`. */
  reset(start: number = this.#start): void {
    this.#start = this.#next = this.#peak = start;
    this.#gaps = [];
  }

  /** The highest end any region has had since the last reset. */
  get peak(): number {
    return this.#peak;
  }

  /** The offset of a new region of `bytes` (a multiple of 16). */
  take(bytes: number): number {
    const g = this.#gaps;
    for (let i = 0; i < g.length; i++) {
      const gap = g[i]!;
      if (gap.bytes < bytes) continue;
      const at = gap.at;
      if (gap.bytes === bytes) g.splice(i, 1);
      else {
        gap.at += bytes;
        gap.bytes -= bytes;
      }
      return at;
    }
    const at = this.#next;
    this.#next += bytes;
    this.#peak = Math.max(this.#peak, this.#next);
    return at;
  }

  /** Frees the region of `bytes` at `at`. */
  give(at: number, bytes: number): void {
    const g = this.#gaps;
    let i = 0;
    while (i < g.length && g[i]!.at < at) i++;
    let block = { at, bytes };
    const prev = g[i - 1];
    if (prev && prev.at + prev.bytes === at) {
      prev.bytes += bytes;
      block = prev;
    } else g.splice(i++, 0, block);
    const next = g[i];
    if (next && block.at + block.bytes === next.at) {
      block.bytes += next.bytes;
      g.splice(i, 1);
    }
    if (block.at + block.bytes === this.#next) {
      // The top gap goes back to the free end.
      this.#next = block.at;
      g.splice(g.indexOf(block), 1);
    }
  }
}

/** Regions handed out from a byte range of one memory, placed first-fit. */
export class KernelArena implements OutputSource {
  readonly #memory: ArenaMemory;
  /** The memory's buffer when the arena was placed (it cannot grow during a run: the host stops it first). */
  #buffer: ArrayBufferLike;
  #start = 0;
  #end = 0;
  #peak = 0;
  readonly #fit = new FirstFit();
  /** The live regions' views, by offset (for finding the region a view lies in). */
  #views: Float32Array[] = [];

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
    this.#start = start;
    this.#end = end;
    this.#peak = 0;
    this.#buffer = this.#memory.buffer;
    this.endRun();
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
    const bytes = regionBytes(n), at = this.#fit.take(bytes), next = at + bytes;
    this.#peak = Math.max(this.#peak, this.#fit.peak - this.#start);
    if (next > this.#end) this.abort(`full (${this.#end - this.#start} bytes)`);
    if (this.#buffer.byteLength < next) this.abort("memory not reserved");
    const view = new Float32Array(this.#buffer, at, n);
    const v = this.#views;
    let i = v.length;
    while (i > 0 && v[i - 1]!.byteOffset > at) i--;
    v.splice(i, 0, view);
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
    this.#views.splice(i, 1);
    this.#fit.give(a.byteOffset, regionBytes(a.length));
  }

  endRun(): void {
    this.#fit.reset(this.#start);
    this.#views = [];
  }

  /** The index of the region `data` lies in, or −1. */
  #indexOf(data: Float32Array): number {
    if (!this.holds(data)) return -1;
    return this.#indexOfOffset(data.byteOffset, data.byteLength);
  }

  /** The index of the region bytes [at, at + bytes) lie in, or −1. */
  #indexOfOffset(at: number, bytes: number): number {
    const s = this.#views;
    let lo = 0, hi = s.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid]!.byteOffset <= at) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0) return -1;
    const v = this.#views[hi]!;
    return at + bytes <= v.byteOffset + Math.max(v.byteLength, 4) ? hi : -1;
  }
}

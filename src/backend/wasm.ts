// This module is browser compatible.

/**
 * The WebAssembly backends: a thin host around the AssemblyScript kernels in
 * `src/wasm/assembly/`. One linear memory per instance; each call lays out
 * its buffers from a fixed base, grows the memory only when a call needs more
 * than any call before it, and copies results out into fresh arrays.
 *
 * @module
 */

import type {
  ActivationKind,
  Backend,
  ConvGeometry,
  Kernels,
  PoolGeometry,
  PoolMode,
} from "./types.ts";
import type { WasmModule } from "../core/types.ts";
import { WINOGRAD, WINOGRAD_GRAD, type WinogradTile } from "./_winograd.ts";
import { fromPhases, phaseGeometry, toPhases } from "./_dilated.ts";
import { currentOutputs, outputCopy } from "../core/_outputs.ts";
import { firstNonFinite } from "../core/_math.ts";
import { arenaSwitch, KernelArena } from "./_arena.ts";
import { markChanged, sameSample, sampleOf, track, versionOf } from "../core/_versions.ts";
import { type Task, type ThreadKind, ThreadPool } from "./_threads.ts";
import {
  BASE,
  CODES,
  CONV_AT,
  CONV_GEO,
  GEO,
  GEO_BYTES,
  type KernelExports,
  MAX_TASKS,
  POOL_GEO,
  SCRATCH,
  TASK_GEOS,
  TASK_ID,
  TASK_INTS,
  TASK_TABLE,
  writeConvGeo,
  writePoolGeo,
} from "./_abi.ts";

/** The `kind` argument of the kernels' `activate` (act.ts). */
const ACTIVATION_CODES: Readonly<Record<ActivationKind, number>> = {
  sigmoid: CODES.ACT_SIGMOID,
  tanh: CODES.ACT_TANH,
  erf: CODES.ACT_ERF,
  gelu: CODES.ACT_GELU,
  gelu_tanh: CODES.ACT_GELU_TANH,
  silu: CODES.ACT_SILU,
  exp: CODES.ACT_EXP,
  log: CODES.ACT_LOG,
  softplus: CODES.ACT_SOFTPLUS,
  mish: CODES.ACT_MISH,
};

/** The window fields both geometry blocks share. */
function windowFields(g: ConvGeometry | PoolGeometry) {
  return {
    sH: g.strideH,
    sW: g.strideW,
    pT: g.padTop,
    pB: g.padBottom,
    pL: g.padLeft,
    pR: g.padRight,
    dH: g.dilationH,
    dW: g.dilationW,
  };
}

/** A convolution's geometry block (`Geo` in `_abi.ts`), as its i32s. */
function convBlock(g: ConvGeometry): Int32Array {
  const cInG = g.cIn / g.groups, cOutG = g.cOut / g.groups;
  const b = new Int32Array(CONV_GEO.length);
  writeConvGeo(b, 0, {
    m: g.m,
    inH: g.inH,
    inW: g.inW,
    cIn: g.cIn,
    fH: g.fH,
    fW: g.fW,
    cOut: g.cOut,
    ...windowFields(g),
    groups: g.groups,
    outH: g.outH,
    outW: g.outW,
    cInG,
    cOutG,
    K: g.fH * g.fW * cInG,
    M: g.m * g.outH * g.outW,
  });
  return b;
}

/** A pooling's geometry block (`PoolGeo` in `_abi.ts`), as its i32s. */
function poolBlock(g: PoolGeometry): Int32Array {
  const b = new Int32Array(POOL_GEO.length);
  writePoolGeo(b, 0, {
    m: g.m,
    inH: g.inH,
    inW: g.inW,
    c: g.c,
    fH: g.fH,
    fW: g.fW,
    ...windowFields(g),
    countIncludePad: g.countIncludePad ? 1 : 0,
    outH: g.outH,
    outW: g.outW,
  });
  return b;
}

/**
 * The blocks of frozen geometries (the layers' own, one per batch size),
 * written once: a frozen object cannot change, so its block cannot go stale.
 */
const blocks = new WeakMap<object, Int32Array>();

/** `g`'s geometry block: kept when `g` is frozen, else written afresh. */
function blockOf<G extends object>(g: G, write: (g: G) => Int32Array): Int32Array {
  if (!Object.isFrozen(g)) return write(g);
  let b = blocks.get(g);
  if (!b) blocks.set(g, b = write(g));
  return b;
}

/** Whether `g` is one output row of adjacent taps and one group: a vector-matrix product (conv.ts `convGemv`). */
function gemv(g: ConvGeometry): boolean {
  return g.m * g.outH * g.outW === 1 && g.dilationW === 1 && g.groups === 1;
}

/**
 * Filters of at most this many floats are copied in with every call, as
 * before weights were kept: a copy of 16 KiB costs less than checking that a
 * kept one is still current.
 */
const KEEP_MIN = 4096;

/** Filters above this size (bytes) are kept packed by column panels for the direct kernel. */
const PANEL_MIN_BYTES = 262144;

/** Output columns per block of a vector-matrix product split among threads. */
const GEMV_COLUMNS = 64;

/** Whether `g` is a depthwise convolution (one input channel per group, several groups). */
function isDepthwise(g: ConvGeometry): boolean {
  return g.groups > 1 && g.groups === g.cIn;
}

/**
 * A filter gradient (a sum over the batch's output pixels) is computed in
 * this many parts at most — whole images (depthwise), im2col rows or
 * Winograd tiles — and the parts added in order: the split depends on the
 * geometry alone, never on the thread count.
 */
const SUM_PARTS = 8;
/** Winograd tiles a task handles together (wino.ts WINO_BLOCK). */
const WINO_BLOCK = 12;
/** Tiles of a filter gradient transformed together (wino.ts WINO_GRAD_BLOCK). */
const WINO_GRAD_BLOCK = 48;
/** Multiply-adds below which a call is not worth waking other threads for. */
const MIN_PARALLEL_WORK = 150_000;
/**
 * Predictions whose values need less than this stay off the arena (measured:
 * a LeNet-5 or a small U-Net at one image, 33–48 KiB of values, ran 3–5%
 * slower on it; the MNIST CNN at one image, 253 KiB, 3.6% faster).
 */
const ARENA_MIN_BYTES = 131072;
/** Bytes left free after every buffer: kernels may read (never use) past a row's end. */
const SLACK = 64;
const PAGE = 65536;

/**
 * The error thrown when a call would need more kernel memory than allowed
 * (see `setMemoryLimit`). It is a `RangeError`.
 *
 * @example Usage
 * ```ts
 * import { KernelMemoryError, poolForward, setMemoryLimit, tensor } from "@convnet/wasm";
 * setMemoryLimit(1024);
 * try {
 *   poolForward(tensor(new Float32Array(4096), [1, 64, 64, 1]), { f: 2, stride: 2 });
 * } catch (e) {
 *   e instanceof KernelMemoryError; // true on a WebAssembly backend
 * } finally {
 *   setMemoryLimit(256 * 2 ** 20);
 * }
 * ```
 */
export class KernelMemoryError extends RangeError {
  /**
   * Creates a KernelMemoryError.
   *
   * @param fn The public function that made the call.
   * @param needed Bytes the call needs.
   * @param limit The configured ceiling in bytes.
   */
  constructor(fn: string, needed: number, limit: number) {
    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    super(
      `${fn}: needs ${mib(needed)} MiB of WebAssembly memory, more than the limit of ${
        mib(limit)
      } MiB; use a smaller batch or raise the limit with setMemoryLimit()`,
    );
    this.name = "KernelMemoryError";
  }
}

/** Hands out 16-byte-aligned regions from BASE, each followed by SLACK bytes. */
class Layout {
  #next: number;
  #values = 0;
  /** Starts laying out at byte offset `start` (above any weights kept in memory). */
  constructor(start: number = BASE) {
    this.#next = start;
  }
  /** Reserves `floats` floats and returns their byte offset. */
  take(floats: number): number {
    const at = this.#next;
    // Plain arithmetic, not `& ~15`: bitwise operators would wrap sizes beyond 2^32 to small ones.
    this.#next = Math.ceil((at + floats * 4 + SLACK) / 16) * 16;
    return at;
  }
  /**
   * Reserves room for a copy of a value, an input copied in or an output
   * copied out: in a prediction on the arena it is read or written there
   * instead (see `arena()`).
   */
  takeValue(floats: number): number {
    const at = this.take(floats);
    this.#values += this.#next - at;
    return at;
  }
  /** Bytes in use so far. */
  get end(): number {
    return this.#next;
  }
  /** Bytes of {@linkcode takeValue}'s copies. */
  get values(): number {
    return this.#values;
  }
}

/** Options for {@linkcode createWasmKernels}. */
export interface WasmKernelOptions {
  /** Called before each call's memory is laid out; returns the ceiling in bytes. */
  memoryLimit(): number;
  /** The threads a call may use (the caller included); read at every call. */
  threads?(): number;
  /** How this runtime starts threads (for a threaded build). */
  threadKind?: ThreadKind;
  /**
   * The same build on a memory of its own (not shared), for the calls that
   * run on one thread: V8 checks loads from a shared memory at some cost
   * (measured: a depthwise convolution 35% slower, others ~5%), so a call
   * the threads would not split goes there. Its results are the same bits.
   */
  single?: WasmKernels;
}

/** The largest shared memory the threaded builds declare, in pages (2 GiB). */
const SHARED_MAX_PAGES = 32768;

/** A shared memory as large as the runtime will reserve (2 GiB, else less), and its maximum in bytes. */
function sharedMemory(): { memory: WebAssembly.Memory; maxBytes: number } {
  let last: unknown;
  for (const maximum of [SHARED_MAX_PAGES, 16384, 4096, 1024]) {
    try {
      const memory = new WebAssembly.Memory({ initial: 1, maximum, shared: true });
      return { memory, maxBytes: maximum * PAGE };
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

/** A packed form of a weight array kept in kernel memory. */
interface Kept {
  /** Its byte offset. */
  at: number;
  /** Its size in floats. */
  floats: number;
  /** The array's version stamp when it was packed. */
  version: number;
  /** The kept region's generation it belongs to. */
  gen: number;
  /** The bits of 64 sampled values when it was packed. */
  sample: Int32Array;
  /** Whether it is all finite, once known. */
  finite: boolean | null;
}

/**
 * A form a call wants kept: the array, the form's name, its floats, and how
 * to write it at `at` (bytes), given the other forms' offsets and a scratch
 * region of `stage` floats at `stageAt` above the kept forms.
 */
interface Want {
  a: Float32Array;
  form: string;
  floats: number;
  stage?: number;
  /** Whether the array is all finite, when the write found out (kept with the form). */
  finite?: boolean;
  write(h: Float32Array, at: number, offsets: readonly number[], stageAt: number): void;
}

/** Splits `n` units into `parts` contiguous ranges, as even as can be: the range of part `p`. */
function range(n: number, parts: number, p: number): [number, number] {
  return [Math.floor((n * p) / parts), Math.floor((n * (p + 1)) / parts)];
}

/**
 * How unevenly `n` threads share `T` Winograd tiles in blocks of WINO_BLOCK
 * (each block to the least loaded thread, largest first): the longest share
 * over the mean.
 */
function tileImbalance(T: number, n: number): number {
  const TB = Math.ceil(T / WINO_BLOCK);
  if (TB > 8 * n) return 1; // many blocks: even enough
  const loads = new Array<number>(n).fill(0);
  for (let b = 0; b < TB; b++) {
    const size = b < TB - 1 ? WINO_BLOCK : T - WINO_BLOCK * (TB - 1);
    loads[loads.indexOf(Math.min(...loads))]! += size;
  }
  return Math.max(...loads) / (T / n);
}

/** The members of {@linkcode WasmKernels} that report on the instance and run no kernel. */
const QUERIES = [
  "memoryBytes",
  "threadsReady",
  "workerTasks",
  "winogradCalls",
  "arena",
  "memoryUse",
] as const satisfies readonly (keyof WasmKernels)[];

/** The WebAssembly kernels, with what the host needs besides {@linkcode Kernels}. */
export interface WasmKernels extends Kernels {
  /** Bytes of linear memory now. */
  memoryBytes(): number;
  /** Whether this instance runs on a shared memory with a thread pool. */
  readonly threaded: boolean;
  /** Starts the wanted workers and resolves when they are up. */
  threadsReady(): Promise<void>;
  /** Tasks run by workers so far (0 without threads). */
  workerTasks(): number;
  /** Convolutions run by Winograd so far (tests check the path is taken). */
  winogradCalls(): number;
  /** The pool (tests reach its hooks), or null. */
  readonly pool: ThreadPool | null;
  /**
   * The arena a prediction's kernel outputs may live in (see `_arena.ts`),
   * placed above the kept weights with room for the calls' own buffers, or
   * null when this instance cannot run one in place yet (no call seen, too
   * many aborted runs, or no room under the memory limit).
   *
   * @param hintBytes The bytes the prediction's values need by the model's reckoning (its lifetimes played through the arena's placement).
   */
  arena(hintBytes: number): KernelArena | null;
  /** How this instance's memory (and its unshared twin's) is used now, in bytes. */
  memoryUse(): KernelMemoryUse;
}

/** How a kernel instance's memory is used, in bytes (see `kernelMemoryStats`). */
export interface KernelMemoryUse {
  /** The linear memory's size. */
  readonly bytes: number;
  /** Weights kept packed in it. */
  readonly weightBytes: number;
  /** The largest prediction's values on the arena. */
  readonly arenaBytes: number;
  /** The largest call's own buffers (its inputs, scratch and outputs when not on the arena). */
  readonly callBytes: number;
}

/**
 * Instantiates a compiled kernels module and wraps it as {@linkcode Kernels}.
 *
 * @param module The compiled kernels (either build).
 * @param options The memory ceiling.
 * @returns The kernels, named after the build the module holds.
 */
export function createWasmKernels(
  module: WasmModule,
  options: WasmKernelOptions,
): WasmKernels {
  const mod = module as WebAssembly.Module;
  const threaded = WebAssembly.Module.imports(mod).some((i) => i.kind === "memory");
  const sm = threaded ? sharedMemory() : null;
  const shared = sm?.memory ?? null;
  const ex = new WebAssembly.Instance(mod, shared ? { env: { memory: shared } } : {})
    .exports as unknown as KernelExports;
  ex.setScratch(SCRATCH);
  const mr = ex.tileRows();
  const backend: Backend = mr === 6 ? "wasm-relaxed-simd" : "wasm-simd";
  const maxBytes = sm?.maxBytes ?? Infinity;
  let heap = new Float32Array(ex.memory.buffer);
  const kind = options.threadKind ?? null;
  const pool = shared && kind ? new ThreadPool(mod, shared, kind) : null;
  let poolSize = 1;
  let winogradCalls = 0;
  const single = pool ? options.single ?? null : null;
  /** The instance for a call that `P` parts would not spread over threads, or null for this one. */
  function alone(P: number): WasmKernels | null {
    // A prediction on this instance's arena keeps its calls here, next to its values.
    return single && (P <= 1 || threadsNow() <= 1) ? single : null;
  }
  /** The packed forms of weight arrays kept in this memory, by array and form (see `keepAll`). */
  const keptForms = new WeakMap<Float32Array, Map<string, Kept>>();
  /** Where the kept forms end (calls lay out their buffers from here), and the region's generation. */
  let keptEnd = BASE, keptGen = 0;
  /** Forgets every kept form: the next calls lay out from BASE and pack their weights again. */
  function evictAll(): void {
    keptEnd = BASE;
    keptGen++;
  }
  /** Flipped filters of tracked arrays, for stride-1 input gradients (see `flippedWeights`). */
  const flips = new WeakMap<
    Float32Array,
    { key: string; version: number; sample: Int32Array; out: Float32Array }
  >();
  /** Where a prediction's outputs stay in this memory (see `_arena.ts` and `arena()`). */
  const arena = new KernelArena(ex.memory);
  /** The arena's size for the next run, and runs aborted in a row (then a few are left out). */
  let arenaBytes = 0, arenaAborts = 0, arenaRest = 0;
  /** How the last run placed on the arena ended: still running or done, aborted, or out of room. */
  let arenaRun: "none" | "placed" | "aborted" | "full" = "none";
  /** The most bytes a call has laid out above its layout's start. */
  let callPeak = 0;
  /**
   * The most a call laid out in a prediction on the arena; and, from calls
   * outside one, the most they laid out besides the copies of values (which
   * the arena holds instead): the arena reserves the larger above itself.
   */
  let arenaCallPeak = 0, arenaCallGuess = 0, arenaUsed = false;
  /** The last call's layout (to tell its value copies from its own buffers). */
  let lastLayout: Layout | null = null;
  /** Whether a prediction is running on this instance's arena. */
  const resident = () => currentOutputs() === arena;
  /** Stops a prediction on the arena (the model runs it again the ordinary way). */
  function abortArena(reason: string): never {
    arenaRun = "aborted";
    return arena.abort(reason);
  }
  /** Where a call's buffers start: above the arena in a prediction on it, else above the kept weights. */
  const layoutStart = () => resident() ? arena.end : keptEnd;
  /** A new layout for a call's buffers. */
  const layout = () => lastLayout = new Layout(layoutStart());
  /** Where a call's output goes: a region of the arena in a prediction on it, else the call's layout. */
  const outputAt = (L: Layout, n: number) => resident() ? arena.take(n).byteOffset : L.takeValue(n);
  /** The call's output at `at`: the arena's region itself, else a copy (see `outputCopy`). */
  function result(h: Float32Array, at: number, n: number): Float32Array {
    const v = resident() ? arena.regionAt(at, n) : undefined;
    return v ?? outputCopy(h.subarray(at >> 2, (at >> 2) + n));
  }
  /** The byte offset of `x` when it is a value in the running arena, else −1 (it must be copied in). */
  const inArena = (x: Float32Array) => resident() && arena.holds(x) ? x.byteOffset : -1;
  /** Whether a call's input is all finite (checked in place when it is a value on the arena). */
  function inputFinite(x: Float32Array): boolean {
    const at = inArena(x);
    return at >= 0 ? ex.allFinite(at, x.length) !== 0 : firstNonFinite(x) < 0;
  }
  /** Where a call's inputs are read: on the arena where they are, else laid out (see `copyInputs`). */
  const placeInputs = (L: Layout, xs: readonly Float32Array[]) =>
    xs.map((x) => inArena(x) >= 0 ? x.byteOffset : L.takeValue(x.length));
  /** Copies in the inputs `placeInputs` laid out (once the memory is reserved). */
  function copyInputs(h: Float32Array, xs: readonly Float32Array[], ats: readonly number[]): void {
    xs.forEach((x, k) => {
      if (inArena(x) < 0) h.set(x, ats[k]! >> 2);
    });
  }

  /**
   * The byte offsets of the wanted packed forms, kept in this memory between
   * calls: a form is reused while its array's version stamp (see
   * core/_versions.ts) and 64 sampled values are unchanged, else written
   * again. Null when an array is not a tracked parameter, or when the forms
   * and the call's own `callBytes` do not fit under the memory limit even
   * after forgetting every kept form (then the caller copies the arrays in
   * with its call, as for any array).
   */
  function keepAll(wants: readonly Want[], callBytes: number): number[] | null {
    const at: number[] = [], missing: number[] = [];
    for (let i = 0; i < wants.length; i++) {
      const { a, form } = wants[i]!, version = versionOf(a);
      if (version === undefined) return null;
      const k = keptForms.get(a)?.get(form);
      if (k && k.gen === keptGen && k.version === version && sameSample(k.sample, a)) at.push(k.at);
      else {
        at.push(-1);
        missing.push(i);
      }
    }
    if (!missing.length) return at;
    if (resident()) {
      // Forms may be rewritten where they are; new ones would go where the arena is, and so
      // would a form's writing scratch (above the kept forms, where the arena's values are).
      const moves = missing.some((i) => {
        const old = keptForms.get(wants[i]!.a)?.get(wants[i]!.form);
        return !old || old.gen !== keptGen || old.floats !== wants[i]!.floats || !!wants[i]!.stage;
      });
      if (moves) abortArena("weights to pack");
    }
    const size = (i: number) => Math.ceil((wants[i]!.floats * 4 + SLACK) / 16) * 16;
    const limit = Math.min(options.memoryLimit(), maxBytes);
    // The forms' writing scratch, above them (the call's own buffers reuse that memory after).
    const stage = wants.reduce((t, w) => Math.max(t, w.stage ? w.stage * 4 + SLACK : 0), 0);
    callBytes = Math.max(callBytes, stage);
    let bytes = missing.reduce((t, i) => t + size(i), 0);
    if (keptEnd + bytes + callBytes > limit && !resident()) {
      // Start the region again with this call's forms alone (a model too big to keep whole
      // then packs as it goes, as every call did before).
      evictAll();
      missing.length = 0;
      for (let i = 0; i < wants.length; i++) missing.push(i);
      bytes = missing.reduce((t, i) => t + size(i), 0);
      if (BASE + bytes + callBytes > limit) return null;
    }
    for (const i of missing) {
      // A stale form of the same size is rewritten where it is; a new one goes at the end.
      const old = keptForms.get(wants[i]!.a)?.get(wants[i]!.form);
      if (old && old.gen === keptGen && old.floats === wants[i]!.floats) at[i] = old.at;
      else {
        at[i] = keptEnd;
        keptEnd += size(i);
      }
    }
    const h = reserve("convForward", keptEnd + stage);
    for (const i of missing) {
      const want = wants[i]!;
      want.write(h, at[i]!, at, keptEnd);
      let forms = keptForms.get(want.a);
      if (!forms) keptForms.set(want.a, forms = new Map());
      forms.set(want.form, {
        at: at[i]!,
        floats: want.floats,
        version: versionOf(want.a)!,
        gen: keptGen,
        sample: sampleOf(want.a),
        finite: want.finite ?? null,
      });
    }
    return at;
  }
  /** Whether the kept form of `a` at `form` holds only finite values (computed once per packing). */
  function keptFinite(a: Float32Array, form: string, p: number, n: number): boolean {
    const k = keptForms.get(a)?.get(form);
    if (!k || k.at !== p || k.gen !== keptGen) return ex.allFinite(p, n) !== 0;
    return k.finite ??= ex.allFinite(p, n) !== 0;
  }

  /** The threads this call may use: the setting, capped by the workers that are up. */
  function threadsNow(): number {
    if (!pool) return 1;
    const want = Math.max(1, options.threads?.() ?? 1);
    if (want !== poolSize) {
      pool.resize(want);
      poolSize = want;
    }
    return want <= 1 ? 1 : Math.min(want, 1 + pool.readyWorkers);
  }

  /**
   * How many parts to split a call of `work` multiply-adds into, over at
   * most `units` independent units (rows, images). Only for calls whose
   * result does not depend on the split.
   */
  function parts(units: number, work: number): number {
    const n = threadsNow();
    if (n <= 1 || work < MIN_PARALLEL_WORK || units <= 1) return 1;
    return Math.max(1, Math.min(units, MAX_TASKS, 2 * n));
  }

  /** Calls one task on this thread. */
  function call(t: Task): void {
    (ex[t[0]] as (...a: number[]) => void)(...t.slice(1) as number[]);
  }

  /** Runs the tasks: on this thread alone, or spread over the pool. */
  function exec(tasks: Task[]): void {
    if (tasks.length === 1 || !pool || threadsNow() <= 1) {
      for (const t of tasks) call(t);
      return;
    }
    const table = new Int32Array(ex.memory.buffer, TASK_TABLE, tasks.length * TASK_INTS);
    table.fill(0);
    tasks.forEach((t, i) => {
      table[i * TASK_INTS] = TASK_ID[t[0]];
      for (let a = 1; a < t.length; a++) table[i * TASK_INTS + 1 + a] = t[a] as number;
    });
    pool.run(TASK_TABLE, tasks.length, (i) => call(tasks[i]!), pool.callerTakesTasks);
  }

  /** A copy of the geometry block at GEO for part `p`, with `m` images (and M rows for a convolution). */
  function partGeo(p: number, m: number, rowsPerImage: number, conv: boolean): number {
    const at = TASK_GEOS + p * GEO_BYTES;
    const v = new Int32Array(ex.memory.buffer);
    v.copyWithin(at >> 2, GEO >> 2, (GEO + GEO_BYTES) >> 2);
    v[(at >> 2) + CONV_AT.m] = m; // the pooling block's m is at the same place
    if (conv) v[(at >> 2) + CONV_AT.M] = m * rowsPerImage;
    return at;
  }

  /** Makes sure the memory holds `bytes`, growing it (never shrinking) within the limit. */
  function reserve(fn: string, bytes: number): Float32Array {
    const have = ex.memory.buffer.byteLength;
    const own = bytes - layoutStart();
    callPeak = Math.max(callPeak, own);
    if (resident()) arenaCallPeak = Math.max(arenaCallPeak, own);
    else {
      // Outside the arena: the call's own buffers, its copies of values left out.
      const copies = lastLayout?.end === bytes ? lastLayout.values : 0;
      arenaCallGuess = Math.max(arenaCallGuess, own - copies);
    }
    if (bytes > have) {
      // Growing would detach or move the arena's views.
      if (resident()) abortArena(`${fn} needs more memory`);
      const limit = Math.min(options.memoryLimit(), maxBytes);
      if (bytes > limit) throw new KernelMemoryError(fn, bytes, limit);
      ex.memory.grow(Math.ceil((bytes - have) / PAGE));
    }
    if (heap.buffer !== ex.memory.buffer) heap = new Float32Array(ex.memory.buffer);
    return heap;
  }

  /** Writes a convolution's geometry block (`Geo` in `_abi.ts`). */
  function writeConv(g: ConvGeometry): void {
    geoView().set(blockOf(g, convBlock));
  }
  /** Writes a pooling's geometry block (`PoolGeo` in `_abi.ts`). */
  function writePool(g: PoolGeometry): void {
    geoView().set(blockOf(g, poolBlock));
  }
  let geoBuf: Int32Array | null = null;
  /** The geometry block (after `reserve`, so the memory holds it). */
  function geoView(): Int32Array {
    if (!geoBuf || geoBuf.buffer !== ex.memory.buffer) {
      geoBuf = new Int32Array(ex.memory.buffer, GEO, GEO_BYTES >> 2);
    }
    return geoBuf;
  }

  /**
   * Reserves room for x with the geometry's zero padding around it (see
   * `fillPadded`), and scratch if needed. Without padding x is
   * copied once. Long rows are written straight into place (one copy); short
   * rows, where a JavaScript call per row would cost more than the data, are
   * copied in at once and padded by the kernel.
   */
  function reservePadded(
    L: Layout,
    x: Float32Array,
    g: ConvGeometry,
  ): { pxp: number; scratch: number } {
    const Hp = g.inH + g.padTop + g.padBottom, Wp = g.inW + g.padLeft + g.padRight;
    const c = g.cIn, row = g.inW * c, here = inArena(x);
    // A value already in the arena is read where it is (unpadded) or padded from there.
    if (Hp === g.inH && Wp === g.inW && here >= 0) return { pxp: here, scratch: -1 };
    if (Hp === g.inH && Wp === g.inW) return { pxp: L.takeValue(x.length), scratch: -1 };
    const pxp = L.take(g.m * Hp * Wp * c);
    return { pxp, scratch: here >= 0 ? here : row < 512 ? L.takeValue(x.length) : -1 };
  }
  function fillPadded(
    h: Float32Array,
    at: { pxp: number; scratch: number },
    x: Float32Array,
    g: ConvGeometry,
  ): void {
    const Hp = g.inH + g.padTop + g.padBottom, Wp = g.inW + g.padLeft + g.padRight;
    const c = g.cIn, row = g.inW * c, base = at.pxp >> 2, here = inArena(x);
    if (Hp === g.inH && Wp === g.inW) {
      if (here !== at.pxp) h.set(x, base);
    } else if (at.scratch >= 0) {
      if (here !== at.scratch) h.set(x, at.scratch >> 2);
      exec(padTasks(g, at.scratch, at.pxp));
    } else {
      h.fill(0, base, base + g.m * Hp * Wp * c);
      for (let i = 0; i < g.m; i++) {
        for (let y = 0; y < g.inH; y++) {
          const src = (i * g.inH + y) * row;
          h.set(x.subarray(src, src + row), base + ((i * Hp + y + g.padTop) * Wp + g.padLeft) * c);
        }
      }
    }
  }

  /** Where a call reads an input it takes unpadded: in the arena where it is, else laid out to copy in. */
  function unpaddedAt(L: Layout, x: Float32Array): { pxp: number; scratch: number } {
    const here = inArena(x);
    return { pxp: here >= 0 ? here : L.takeValue(x.length), scratch: -1 };
  }

  /** The interior of a padded buffer at `at`: the unpadded [m, inH, inW, c]. */
  function readUnpadded(h: Float32Array, at: number, g: ConvGeometry): Float32Array {
    const Hp = g.inH + g.padTop + g.padBottom, Wp = g.inW + g.padLeft + g.padRight;
    const c = g.cIn, row = g.inW * c;
    const out = new Float32Array(g.m * g.inH * row);
    for (let i = 0; i < g.m; i++) {
      for (let y = 0; y < g.inH; y++) {
        const src = at + ((i * Hp + y + g.padTop) * Wp + g.padLeft) * c;
        out.set(h.subarray(src, src + row), (i * g.inH + y) * row);
      }
    }
    return out;
  }

  /** Depthwise weights [fH, fW, 1, c·mult] packed as [fH, fW, mult, c]. */
  function packDw(
    w: Float32Array,
    taps: number,
    c: number,
    mult: number,
    h: Float32Array,
    at: number,
  ) {
    for (let t = 0; t < taps; t++) {
      for (let j = 0; j < mult; j++) {
        for (let ch = 0; ch < c; ch++) {
          h[at + (t * mult + j) * c + ch] = w[t * c * mult + ch * mult + j]!;
        }
      }
    }
  }

  /**
   * Runs a call; if the memory limit refuses it while weights are kept,
   * forgets them and runs it again from BASE (a call fails only when it
   * alone does not fit, as before weights were kept).
   */
  function retry<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof KernelMemoryError) || keptEnd === BASE) throw e;
      evictAll();
      return f();
    }
  }

  /** The forms of a regular convolution's weights and bias, as the direct kernel reads them. */
  function rawWants(w: Float32Array, b: Float32Array | null, n: number): Want[] {
    const wants: Want[] = [{
      a: w,
      form: "w",
      floats: w.length,
      write: (h, at) => h.set(w, at >> 2),
    }];
    if (b) wants.push({ a: b, form: "b", floats: n + 8, write: (h, at) => h.set(b, at >> 2) });
    return wants;
  }

  /** The forms of a one-group filter [K, N] packed by column panels [⌈N/8⌉][K][8] (conv.ts `convForwardPanels`), and its bias. */
  function panelWants(w: Float32Array, b: Float32Array, K: number, N: number): Want[] {
    const N8 = Math.ceil(N / 8) * 8;
    return [{
      a: w,
      form: "wp",
      floats: N8 * K,
      write: (h, at) => {
        const base = at >> 2;
        h.fill(0, base, base + N8 * K);
        for (let k = 0; k < K; k++) {
          for (let n = 0; n < N; n++) h[base + (n & ~7) * K + k * 8 + (n & 7)] = w[k * N + n]!;
        }
      },
    }, rawWants(w, b, N)[1]!];
  }

  /** The forms of a depthwise convolution's weights (and bias): [taps, mult, c], [mult, c]. */
  function dwWants(g: ConvGeometry, w: Float32Array, b: Float32Array | null): Want[] {
    const c = g.cIn, N = g.cOut, mult = N / c, taps = g.fH * g.fW;
    const wants: Want[] = [{
      a: w,
      form: "dw",
      floats: w.length,
      write: (h, at) => mult === 1 ? h.set(w, at >> 2) : packDw(w, taps, c, mult, h, at >> 2),
    }];
    if (b) {
      wants.push({
        a: b,
        form: "dwb",
        floats: N + 8,
        write: (h, at) => {
          for (let j = 0; j < mult; j++) {
            for (let ch = 0; ch < c; ch++) h[(at >> 2) + j * c + ch] = b[ch * mult + j]!;
          }
        },
      });
    }
    return wants;
  }

  /**
   * The convolution on this instance: weights and bias from their kept
   * forms when they are tracked parameters (else copied in with the call),
   * then depthwise, Winograd or the direct kernel.
   */
  function convForwardHere(
    g: ConvGeometry,
    x: Float32Array,
    w: Float32Array,
    b: Float32Array,
    act: number,
  ): Float32Array {
    const M = g.m * g.outH * g.outW, N = g.cOut;
    const work = M * N * g.fH * g.fW * (g.cIn / g.groups);
    const dw = isDepthwise(g), wino = dw ? null : winogradFor(g);
    const K = g.fH * g.fW * g.cIn;
    // A filter larger than the caches, on the direct kernel: kept packed by column panels.
    const panels = !dw && !wino && g.groups === 1 && !gemv(g) && K * N * 4 > PANEL_MIN_BYTES;
    const wants = dw ? dwWants(g, w, b) : panels ? panelWants(w, b, K, N) : rawWants(w, b, N);
    const a2 = wino ? wino.alpha * wino.alpha : 0, nu = a2 * g.cIn * (Math.ceil(N / 8) * 8);
    if (wino) {
      // Kept Winograd filters alone, packed by column panels (wino.ts `winoTiles`, panels = 1),
      // transformed from a copy of the filter in the scratch above the kept forms: the plain
      // filter is copied in with a call only when it falls back to the direct kernel.
      const { alpha } = wino, cIn = g.cIn, cOut = N, lanes = nu !== a2 * cIn * cOut;
      const want: Want = {
        a: w,
        form: `wino${alpha}`,
        floats: nu + a2 * 4,
        stage: w.length,
        write: (h, at, _offsets, stageAt) => {
          // The lanes past cOut in the last panel are zeros.
          if (lanes) h.fill(0, at >> 2, (at >> 2) + nu);
          h.set(w, stageAt >> 2);
          // Finite as the plain filter is (as an untracked call decides), not as its transform.
          want.finite = ex.allFinite(stageAt, w.length) !== 0;
          ex.winoFilter(stageAt, at, cIn, cOut, alpha, at + nu * 4, 1);
        },
      };
      wants[0] = want;
    }
    // The call's own buffers, to see whether the kept forms leave room for them.
    const est = new Layout(0);
    reservePadded(est, x, g);
    est.take(M * N);
    // Small filters are copied in with the call: cheaper than checking a kept copy.
    const kept = w.length > KEEP_MIN ? keepAll(wants, est.end) : null;
    const L = layout();
    // Depthwise filters that are all finite read the input unpadded, where it is: the taps on
    // padding are left out, which changes no value (they add 0·w) and saves the padded copy.
    const unpadded = dw && (kept ? keptFinite(w, "dw", kept[0]!, w.length) : firstNonFinite(w) < 0);
    const xAt = unpadded ? unpaddedAt(L, x) : reservePadded(L, x, g), pxp = xAt.pxp;
    // Kept Winograd filters serve a finite input when they are finite themselves; else the plain
    // filter is copied in for the direct kernel.
    const keptU = wino && kept ? kept[0]! : -1;
    const winoOk = keptU >= 0 && keptFinite(w, wants[0]!.form, keptU, nu) && inputFinite(x);
    let pw = keptU >= 0 ? (winoOk ? -1 : L.take(w.length)) : kept ? kept[0]! : L.take(w.length);
    const pb = kept ? kept[1]! : L.take(N + 8);
    // A depthwise multiplier above one writes its output transposed (copied out reordered).
    const pz = dw && N !== g.cIn ? L.take(M * N) : outputAt(L, M * N);
    let h = reserve("convForward", L.end);
    writeConv(g);
    if (!unpadded) fillPadded(h, xAt, x, g);
    else if (inArena(x) !== pxp) h.set(x, pxp >> 2);
    if (!kept) {
      // Copied in with the call, as the plain direct kernel reads them.
      const plain = dw ? wants : rawWants(w, b, N);
      plain[0]!.write(h, pw, [], -1);
      plain[1]!.write(h, pb, [], -1);
    } else if (keptU >= 0 && pw >= 0) h.set(w, pw >> 2);
    if (dw) {
      const mult = N / g.cIn;
      const P = parts(g.m * g.outH, work);
      const xpImage = paddedImage(g), zImage = g.outH * g.outW * N;
      // Every output pixel is computed alone: parts of whole images, or of rows when the
      // images are fewer than the parts, give the same bits.
      exec(
        unpadded
          ? rangeTasks(g.m * g.outH, P, (_p, r0, n) => [
            "dwForwardRows",
            GEO,
            pxp,
            pw,
            pb,
            pz,
            act,
            mult,
            r0,
            r0 + n,
          ])
          : P <= g.m
          ? rangeTasks(g.m, P, (p, i0, n) => [
            "dwForward",
            P === 1 ? GEO : partGeo(p, n, g.outH * g.outW, true),
            pxp + i0 * xpImage * 4,
            pw,
            pb,
            pz + i0 * zImage * 4,
            act,
            mult,
          ])
          : rowTasks(g, Math.floor(P / g.m), (p, i, r0, rows) => [
            "dwForward",
            rowGeo(p, rows, g.outW),
            pxp + (i * xpImage + r0 * g.strideH * (g.inW + g.padLeft + g.padRight) * g.cIn) * 4,
            pw,
            pb,
            pz + (i * zImage + r0 * g.outW * N) * 4,
            act,
            mult,
          ]),
      );
      if (mult === 1) return result(h, pz, M * N);
      const c = g.cIn, z = new Float32Array(M * N), at = pz >> 2;
      for (let q = 0; q < M; q++) {
        for (let j = 0; j < mult; j++) {
          for (let ch = 0; ch < c; ch++) {
            z[q * N + ch * mult + j] = h[at + (q * mult + j) * c + ch]!;
          }
        }
      }
      return z;
    }
    if (wino) {
      // Winograd mixes a whole patch: non-finite values stay on the direct kernel.
      const ok = keptU >= 0
        ? winoOk
        : ex.allFinite(pxp, g.m * paddedImage(g)) && keptFinite(w, "w", pw, w.length);
      if (ok) {
        const z = winograd(g, wino, L, pxp, pw, keptU, pb, pz, act);
        if (z) return z;
      }
      if (pw < 0) {
        // Winograd's buffers did not fit: the direct kernel, with the plain filter copied in.
        pw = L.take(w.length);
        h = reserve("convForward", L.end);
        h.set(w, pw >> 2);
      }
    }
    if (gemv(g)) {
      // One row: columns split in blocks (each column's sum is the same in any part).
      const blocks = Math.ceil(N / GEMV_COLUMNS), P = parts(blocks, work), tasks: Task[] = [];
      for (let p = 0; p < P; p++) {
        const [b0, b1] = range(blocks, P, p);
        tasks.push([
          "convGemv",
          GEO,
          pxp,
          pw,
          pb,
          pz,
          act,
          b0 * GEMV_COLUMNS,
          Math.min(N, b1 * GEMV_COLUMNS),
        ]);
      }
      exec(tasks);
      return result(h, pz, M * N);
    }
    // Rows split at multiples of the register tile: each row sits in the same tile as in one call.
    const P = M === 1 ? 1 : parts(Math.ceil(M / mr), work);
    const fn = panels && kept ? "convForwardPanels" : "convForward";
    const tasks: Task[] = [];
    for (let p = 0; p < P; p++) {
      const [t0, t1] = range(Math.ceil(M / mr), P, p);
      tasks.push([fn, GEO, pxp, pw, pb, pz, act, t0 * mr, Math.min(M, t1 * mr)]);
    }
    exec(tasks);
    return result(h, pz, M * N);
  }

  /** Rows of im2col per block in the filter gradient: about 256 KiB of scratch. */
  const blockRows = (k: number) => Math.max(16, Math.min(512, Math.floor(65536 / k)));

  const kernels: WasmKernels = {
    backend,
    memoryBytes: () => ex.memory.buffer.byteLength + (single?.memoryBytes() ?? 0),
    threaded: pool !== null,
    threadsReady: async () => {
      threadsNow();
      await pool?.whenReady();
    },
    workerTasks: () => pool?.workerTasks ?? 0,
    winogradCalls: () => winogradCalls + (single?.winogradCalls() ?? 0),
    pool,

    memoryUse() {
      const one = single?.memoryUse();
      return {
        bytes: ex.memory.buffer.byteLength + (one?.bytes ?? 0),
        weightBytes: keptEnd - BASE + (one?.weightBytes ?? 0),
        arenaBytes: Math.max(arenaBytes, arenaRun === "placed" ? arena.peakBytes : 0) +
          (one?.arenaBytes ?? 0),
        // Once predictions ran on the arena, the calls' own buffers there.
        callBytes: Math.max(arenaUsed ? arenaCallPeak : callPeak, one?.callBytes ?? 0),
      };
    },

    arena(hintBytes) {
      if (!arenaSwitch.enabled) return null;
      // On one thread every call runs on the unshared instance: the values live there.
      if (single && threadsNow() <= 1) return single.arena(hintBytes);
      // How the last run on the arena went: its size is learnt; aborted runs in a row are counted.
      if (arenaRun !== "none") {
        const full = arena.peakBytes > arena.end - arena.start;
        arenaBytes = Math.max(full ? 2 * arenaBytes : arenaBytes, arena.peakBytes);
        arenaAborts = arenaRun === "placed" && !full ? 0 : arenaAborts + 1;
        arenaRun = "none";
      }
      if (arenaAborts >= 3) {
        // Runs keep aborting (models whose weights do not stay packed): leave a few out.
        if (arenaRest++ < 32) return null;
        arenaAborts = arenaRest = 0;
      }
      if (callPeak === 0) return null; // No call seen: the first prediction plans the next.
      // Small predictions: copying their values costs less than the arena's bookkeeping.
      if (hintBytes < ARENA_MIN_BYTES) return null;
      const start = keptEnd, size = Math.ceil((arenaBytes || hintBytes) / 16) * 16;
      const need = start + size + Math.max(arenaCallPeak, arenaCallGuess);
      if (need > Math.min(options.memoryLimit(), maxBytes)) return null;
      const peak = callPeak, guess = arenaCallGuess;
      reserve("predict", need);
      callPeak = peak;
      arenaCallGuess = guess;
      arena.place(start, start + size);
      arenaRun = "placed";
      arenaUsed = true;
      return arena;
    },

    convForward(g, x, w, b, relu = false) {
      const act = relu === true ? 1 : relu === false ? 0 : relu;
      const M = g.m * g.outH * g.outW, N = g.cOut;
      const work = M * N * g.fH * g.fW * (g.cIn / g.groups);
      const one = alone(
        parts(isDepthwise(g) ? g.m * g.outH : gemv(g) ? Math.ceil(N / GEMV_COLUMNS) : M, work),
      );
      if (one) return one.convForward(g, x, w, b, relu);
      // A dilated convolution whose phase images take Winograd runs as those images.
      const pg = phaseGeometry(g);
      if (pg && winogradFor(pg)) {
        return fromPhases(g, pg, this.convForward(pg, toPhases(g, pg, x), w, b, relu));
      }
      return retry(() => convForwardHere(g, x, w, b, act));
    },

    convBackwardFilter(g, x, dz) {
      const N = g.cOut;
      // Fixed parts (by the geometry) run the same on one thread, in the same order.
      const one = alone(threadsNow());
      if (one) return one.convBackwardFilter(g, x, dz);
      if (isDepthwise(g)) {
        // The sum over the batch goes in parts of whole images, added in order afterwards.
        const P = Math.min(g.m, SUM_PARTS);
        const zImage = g.outH * g.outW * N;
        const c = g.cIn, mult = N / c, M = g.m * g.outH * g.outW, taps = g.fH * g.fW;
        const L = layout();
        const xAt = reservePadded(L, x, g), pxp = xAt.pxp;
        const pdz = L.take(dz.length), pdw = L.take(taps * N), pdb = L.take(N);
        const ppdw = P > 1 ? L.take(P * taps * N) : pdw;
        const h = reserve("convBackward", L.end);
        writeConv(g);
        fillPadded(h, xAt, x, g);
        writeDzt(h, pdz >> 2, dz, M, c, mult);
        const xpImage = paddedImage(g);
        exec(rangeTasks(g.m, P, (p, i0, n) => [
          "dwBackwardFilter",
          P === 1 ? GEO : partGeo(p, n, g.outH * g.outW, true),
          pxp + i0 * xpImage * 4,
          pdz + i0 * zImage * 4,
          ppdw + p * taps * N * 4,
          mult,
        ]));
        if (P > 1) exec(sumTasks(pdw, ppdw, taps * N, P));
        ex.columnSums(pdz, pdb, M, N);
        const dW = new Float32Array(taps * N), db = new Float32Array(N);
        for (let t = 0; t < taps; t++) {
          for (let j = 0; j < mult; j++) {
            for (let ch = 0; ch < c; ch++) {
              dW[t * N + ch * mult + j] = h[(pdw >> 2) + (t * mult + j) * c + ch]!;
            }
          }
        }
        for (let j = 0; j < mult; j++) {
          for (let ch = 0; ch < c; ch++) db[ch * mult + j] = h[(pdb >> 2) + j * c + ch]!;
        }
        return { dW, db };
      }
      const wg = winogradFor(g) ? WINOGRAD_GRAD.get(g.fH)! : null;
      if (wg) {
        const r = winogradGrad(g, wg, x, dz);
        if (r) return r;
      }
      const cOutG = N / g.groups, K = g.fH * g.fW * (g.cIn / g.groups);
      const Np = Math.ceil(cOutG / 8) * 8, Kp = Math.ceil(K / mr) * mr, rows = blockRows(K);
      // Parts of whole im2col rows, as many as the rows allow (fixed by the geometry).
      const M = g.m * g.outH * g.outW;
      const R = Math.max(1, Math.min(SUM_PARTS, Math.floor(M / 512)));
      const L = layout();
      const px = L.take(x.length), pdz = L.take(dz.length), pdw = L.take(K * N);
      const pdb = L.take(N);
      // Each part has its own partial sums and scratch.
      const dbStride = Math.ceil(N / 4) * 4 + 16;
      const ppdw = R > 1 ? L.take(R * K * N) : pdw, ppdb = R > 1 ? L.take(R * dbStride) : pdb;
      const scratch: number[] = [];
      for (let p = 0; p < R; p++) scratch.push(L.take(Np * Kp), L.take(rows * K));
      const h = reserve("convBackward", L.end);
      h.set(x, px >> 2);
      h.set(dz, pdz >> 2);
      writeConv(g);
      const tasks: Task[] = [];
      for (let p = 0; p < R; p++) {
        const [q0, q1] = range(M, R, p);
        tasks.push([
          "convBackwardFilter",
          GEO,
          px,
          pdz,
          ppdw + p * K * N * 4,
          ppdb + p * dbStride * 4,
          scratch[2 * p]!,
          scratch[2 * p + 1]!,
          rows,
          q0,
          q1,
        ]);
      }
      exec(tasks);
      if (R > 1) {
        exec([...sumTasks(pdw, ppdw, K * N, R), ["addPartials", pdb, ppdb, N, R, dbStride]]);
      }
      return {
        dW: h.slice(pdw >> 2, (pdw >> 2) + K * N),
        db: h.slice(pdb >> 2, (pdb >> 2) + N),
      };
    },

    convBackwardData(g, dz, w) {
      const one = alone(threadsNow());
      if (one) return one.convBackwardData(g, dz, w);
      const flipped = asForward(g);
      if (flipped) {
        return this.convForward(flipped, dz, flippedWeights(g, w), new Float32Array(g.cIn));
      }
      const N = g.cOut, nx = g.m * g.inH * g.inW * g.cIn;
      const zImage = g.outH * g.outW * N;
      const work = g.m * zImage * g.fH * g.fW * (g.cIn / g.groups);
      // Images are independent: any split gives the same bits.
      const P = parts(g.m, work);
      if (isDepthwise(g)) {
        const c = g.cIn, mult = N / c, M = g.m * g.outH * g.outW;
        const xpImage = paddedImage(g), nxp = g.m * xpImage;
        const wants = dwWants(g, w, null);
        const kept = w.length > KEEP_MIN ? keepAll(wants, (dz.length + nxp) * 4 + 4 * SLACK) : null;
        const L = layout();
        const pdz = L.take(dz.length), pw = kept ? kept[0]! : L.take(w.length), pdx = L.take(nxp);
        const h = reserve("convBackward", L.end);
        writeDzt(h, pdz >> 2, dz, M, c, mult);
        if (!kept) wants[0]!.write(h, pw, [], -1);
        writeConv(g);
        exec(rangeTasks(g.m, P, (p, i0, n) => [
          "dwBackwardData",
          P === 1 ? GEO : partGeo(p, n, g.outH * g.outW, true),
          pdz + i0 * zImage * 4,
          pw,
          pdx + i0 * xpImage * 4,
          mult,
        ]));
        return readUnpadded(h, pdx >> 2, g);
      }
      const cOutG = N / g.groups, K = g.fH * g.fW * (g.cIn / g.groups), Kp = Math.ceil(K / 8) * 8;
      const est = new Layout(0);
      est.take(dz.length), est.take(nx);
      for (let p = 0; p < P; p++) est.take(cOutG * K), est.take(mr * cOutG), est.take(mr * Kp);
      const kept = w.length > KEEP_MIN ? keepAll(rawWants(w, null, N), est.end) : null;
      const L = layout();
      const pdz = L.take(dz.length), pw = kept ? kept[0]! : L.take(w.length), pdx = L.take(nx);
      const scratch: number[] = [];
      for (let p = 0; p < P; p++) {
        scratch.push(L.take(cOutG * K), L.take(mr * cOutG), L.take(mr * Kp));
      }
      const h = reserve("convBackward", L.end);
      h.set(dz, pdz >> 2);
      if (!kept) h.set(w, pw >> 2);
      writeConv(g);
      const xImage = g.inH * g.inW * g.cIn;
      exec(rangeTasks(g.m, P, (p, i0, n) => [
        "convBackwardData",
        P === 1 ? GEO : partGeo(p, n, g.outH * g.outW, true),
        pdz + i0 * zImage * 4,
        pw,
        pdx + i0 * xImage * 4,
        scratch[3 * p]!,
        scratch[3 * p + 1]!,
        scratch[3 * p + 2]!,
      ]));
      return h.slice(pdx >> 2, (pdx >> 2) + nx);
    },

    poolForward(g, x, mode: PoolMode) {
      const ny = g.m * g.outH * g.outW * g.c;
      const one = alone(parts(g.m, ny * g.fH * g.fW));
      if (one) return one.poolForward(g, x, mode);
      const L = layout(), here = inArena(x);
      const px = here >= 0 ? here : L.take(x.length), py = outputAt(L, ny);
      const h = reserve("poolForward", L.end);
      if (here < 0) h.set(x, px >> 2);
      writePool(g);
      const xImage = g.inH * g.inW * g.c, yImage = g.outH * g.outW * g.c;
      const P = parts(g.m, ny * g.fH * g.fW);
      exec(rangeTasks(g.m, P, (p, i0, n) => [
        "poolForward",
        P === 1 ? GEO : partGeo(p, n, 0, false),
        px + i0 * xImage * 4,
        py + i0 * yImage * 4,
        mode === "max" ? CODES.POOL_MAX : CODES.POOL_MEAN,
      ]));
      return result(h, py, ny);
    },

    concatLast(xs, widths, rows) {
      const c = widths.reduce((a, b) => a + b, 0), n = rows * c;
      const one = alone(parts(rows, n));
      if (one) return one.concatLast(xs, widths, rows);
      const L = layout(), ats = placeInputs(L, xs), py = outputAt(L, n);
      const h = reserve("concatenate", L.end);
      copyInputs(h, xs, ats);
      // Parts of rows of each input: every value is a copy, so any split gives the same bits.
      const P = Math.max(1, Math.min(parts(rows, n), Math.floor(MAX_TASKS / xs.length)));
      const tasks: Task[] = [];
      let at = 0;
      xs.forEach((_, k) => {
        const w = widths[k]!, col = at;
        tasks.push(...rangeTasks(rows, P, (_p, r0, nr) => [
          "copyRows",
          ats[k]! + r0 * w * 4,
          py + (r0 * c + col) * 4,
          nr,
          w,
          w,
          c,
        ]));
        at += w;
      });
      for (let i = 0; i < tasks.length; i += MAX_TASKS) exec(tasks.slice(i, i + MAX_TASKS));
      return result(h, py, n);
    },

    sliceLast(x, c, begin, width) {
      const rows = x.length / c, n = rows * width;
      const one = alone(parts(rows, n));
      if (one) return one.sliceLast(x, c, begin, width);
      const L = layout(), [px] = placeInputs(L, [x]), py = outputAt(L, n);
      const h = reserve("channelSlice", L.end);
      copyInputs(h, [x], [px!]);
      exec(rangeTasks(rows, parts(rows, n), (_p, r0, nr) => [
        "copyRows",
        px! + (r0 * c + begin) * 4,
        py + r0 * width * 4,
        nr,
        width,
        c,
        width,
      ]));
      return result(h, py, n);
    },

    addSame(xs, relu) {
      const n = xs[0]!.length, vecs = Math.ceil(n / 4);
      const one = alone(parts(vecs, n * xs.length));
      if (one) return one.addSame(xs, relu);
      const L = layout(), ats = placeInputs(L, xs), py = outputAt(L, n);
      const h = reserve("add", L.end);
      copyInputs(h, xs, ats);
      // Whole vectors per part, the inputs added left to right: every value as in one call.
      const P = parts(vecs, n * xs.length);
      for (let k = 1; k < xs.length; k++) {
        const a = k === 1 ? ats[0]! : py, act = relu && k === xs.length - 1 ? 1 : 0;
        const tasks: Task[] = [];
        for (let p = 0; p < P; p++) {
          const [v0, v1] = range(vecs, P, p);
          const e0 = v0 * 4, e1 = Math.min(n, v1 * 4);
          if (e1 > e0) {
            tasks.push(["addArrays", a + e0 * 4, ats[k]! + e0 * 4, py + e0 * 4, e1 - e0, act]);
          }
        }
        exec(tasks);
      }
      return result(h, py, n);
    },

    permuteLast(x, perm) {
      const c = perm.length, rows = x.length / c;
      const one = alone(parts(rows, x.length));
      if (one) return one.permuteLast(x, perm);
      const L = layout(), [px] = placeInputs(L, [x]), py = outputAt(L, x.length);
      const pp = L.take(c);
      const h = reserve("channelShuffle", L.end);
      copyInputs(h, [x], [px!]);
      new Int32Array(ex.memory.buffer, pp, c).set(perm);
      exec(rangeTasks(rows, parts(rows, x.length), (_p, r0, nr) => [
        "permuteRows",
        px! + r0 * c * 4,
        py + r0 * c * 4,
        pp,
        nr,
        c,
      ]));
      return result(h, py, x.length);
    },

    channelAffine(x, c, mean, scale, shift, act) {
      const n = x.length / c, work = x.length * 4;
      const one = alone(parts(n, work));
      if (one) return one.channelAffine(x, c, mean, scale, shift, act);
      const L = layout(), [px] = placeInputs(L, [x]), py = outputAt(L, x.length);
      const pm = L.take(2 * c), ps = L.take(2 * c), pt = L.take(2 * c);
      const h = reserve("channelAffine", L.end);
      copyInputs(h, [x], [px!]);
      const d = new Float64Array(ex.memory.buffer);
      d.set(mean, pm >> 3);
      d.set(scale, ps >> 3);
      d.set(shift, pt >> 3);
      // Whole pixels per part: each value is computed alone, so any split gives the same bits.
      exec(rangeTasks(n, parts(n, work), (_p, q0, nq) => [
        "channelAffine",
        px! + q0 * c * 4,
        py + q0 * c * 4,
        pm,
        ps,
        pt,
        nq,
        c,
        act,
      ]));
      return result(h, py, x.length);
    },

    activation(kind, x) {
      const one = alone(parts(Math.ceil(x.length / 4), x.length * 8));
      if (one) return one.activation(kind, x);
      const L = layout(), here = inArena(x);
      const px = here >= 0 ? here : L.take(x.length), py = outputAt(L, x.length);
      const h = reserve("activation", L.end);
      if (here < 0) h.set(x, px >> 2);
      // Whole vectors of four per part, so each element takes the same path as in one call.
      const vecs = Math.ceil(x.length / 4), P = parts(vecs, x.length * 8);
      const tasks: Task[] = [];
      for (let p = 0; p < P; p++) {
        const [v0, v1] = range(vecs, P, p);
        const e0 = v0 * 4, e1 = Math.min(x.length, v1 * 4);
        tasks.push(["activate", px + e0 * 4, py + e0 * 4, e1 - e0, ACTIVATION_CODES[kind]]);
      }
      exec(tasks);
      return result(h, py, x.length);
    },

    poolBackward(g, x, dy, mode: PoolMode) {
      const one = alone(parts(g.m, dy.length * g.fH * g.fW));
      if (one) return one.poolBackward(g, x, dy, mode);
      const L = layout();
      const max = mode === "max";
      const nx = g.m * g.inH * g.inW * g.c;
      const px = max ? L.take(x.length) : 0, pdy = L.take(dy.length), pdx = L.take(nx);
      const h = reserve("poolBackward", L.end);
      if (max) h.set(x, px >> 2);
      h.set(dy, pdy >> 2);
      writePool(g);
      const xImage = g.inH * g.inW * g.c, yImage = g.outH * g.outW * g.c;
      const P = parts(g.m, dy.length * g.fH * g.fW);
      exec(rangeTasks(g.m, P, (p, i0, n) => [
        "poolBackward",
        P === 1 ? GEO : partGeo(p, n, 0, false),
        max ? px + i0 * xImage * 4 : 0,
        pdy + i0 * yImage * 4,
        pdx + i0 * xImage * 4,
        max ? CODES.POOL_MAX : CODES.POOL_MEAN,
      ]));
      return h.slice(pdx >> 2, (pdx >> 2) + nx);
    },
  };
  // A call refused memory while weights are kept runs again with none kept: every call but
  // the queries (which lay out nothing) and `convForward` (which retries its own body).
  const own = new Set(["convForward", ...QUERIES]);
  for (const [name, f] of Object.entries(kernels)) {
    if (typeof f !== "function" || own.has(name)) continue;
    (kernels as unknown as Record<string, unknown>)[name] = (...a: unknown[]) =>
      retry(() => (f as (...a: unknown[]) => unknown).apply(kernels, a));
  }
  return kernels;

  /**
   * The Winograd tile for `g`, or null. Stride 1, no dilation, one group,
   * square 3×3 or 5×5 filters, and enough channels and tiles for the
   * transforms to pay (with few input channels the per-tile transforms
   * outweigh the multiplications saved; with little work, the fixed costs).
   */
  function winogradFor(g: ConvGeometry): WinogradTile | null {
    if (g.strideH !== 1 || g.strideW !== 1 || g.dilationH !== 1 || g.dilationW !== 1) return null;
    if (g.groups !== 1 || g.fH !== g.fW || g.cIn < 8 || g.cOut < 8) return null;
    const t = WINOGRAD.get(g.fH);
    if (!t) return null;
    // Small images do not pay back the transforms' fixed costs (measured: one 14×14 image with
    // 16 → 32 channels, 49 tiles · 512 channel pairs, gains a little on one thread and loses a
    // little on two; batches of it gain 20%). Decided per image, never by the batch size, so that
    // an image's output does not depend on the batch it comes in.
    const tiles = Math.ceil(g.outH / t.m) * Math.ceil(g.outW / t.m);
    return tiles * g.cIn * g.cOut >= 16384 ? t : null;
  }

  /**
   * z = conv(xp, w) + b by Winograd, with the padded input, weights and
   * bias already in memory at `pxp`, `pw`, `pb` (laid out from BASE by
   * convForward). Tiles are split among threads in blocks of WINO_BLOCK, so each
   * tile is computed the same way whatever the split. Null if the memory
   * limit refuses the extra buffers (the caller then uses the direct kernel).
   */
  function winograd(
    g: ConvGeometry,
    t: WinogradTile,
    L: Layout,
    pxp: number,
    pw: number,
    keptU: number,
    pb: number,
    pz: number,
    act: number,
  ): Float32Array | null {
    const { m, alpha } = t, a2 = alpha * alpha;
    const tilesH = Math.ceil(g.outH / m), tilesW = Math.ceil(g.outW / m);
    const T = g.m * tilesH * tilesW, TB = Math.ceil(T / WINO_BLOCK);
    const cInP = Math.ceil(g.cIn / 4) * 4, cOutP = Math.ceil(g.cOut / 4) * 4;
    const nz = g.m * g.outH * g.outW * g.cOut, nu = a2 * g.cIn * g.cOut;
    // Carry on from the direct path's layout (its output buffer pz is Winograd's too).
    const pu = keptU >= 0 ? keptU : L.take(nu);
    const pzeros = L.take(g.cOut + 8), ptmp = L.take(a2 * 4);
    const work = T * a2 * g.cIn * g.cOut;
    // Parts of tile blocks; a call whose blocks the threads cannot share evenly (a small image:
    // 7×7 outputs are 16 tiles, a block of 12 and one of 4) splits its channels, by panels of 8,
    // instead. Each channel part transforms the same input patches again, which cost ~15% on
    // 7×7×512 (measured), so blocks split unless their threads' longest share is 1.3× the mean.
    const CB = Math.ceil(g.cOut / 8), P = parts(TB, work);
    const byChannels = P > 1 && CB >= 2 * threadsNow() && tileImbalance(T, threadsNow()) > 1.3;
    const PT = byChannels ? 1 : P, PC = byChannels ? Math.min(CB, parts(CB, work)) : 1;
    // Each task's scratch: one block of transformed input and products, and the transform's.
    const scratch: number[] = [];
    for (let p = 0; p < PT * PC; p++) {
      scratch.push(
        L.take(a2 * WINO_BLOCK * cInP),
        L.take(a2 * WINO_BLOCK * cOutP),
        L.take((a2 + m * m) * 4),
      );
    }
    let h: Float32Array;
    try {
      h = reserve("convForward", L.end);
    } catch (e) {
      if (e instanceof KernelMemoryError) return null;
      throw e;
    }
    h.fill(0, pzeros >> 2, (pzeros >> 2) + g.cOut + 8);
    // Untracked filters (a caller's own array) are transformed at every call.
    if (keptU < 0) ex.winoFilter(pw, pu, g.cIn, g.cOut, alpha, ptmp, 0);
    const tasks: Task[] = [];
    for (let p = 0; p < PT * PC; p++) {
      const [b0, b1] = range(TB, PT, p % PT), [n0, n1] = range(CB, PC, Math.floor(p / PT));
      tasks.push([
        "winoTiles",
        GEO,
        pxp,
        pu,
        scratch[3 * p]!,
        scratch[3 * p + 1]!,
        pz,
        pb,
        act,
        b0 * WINO_BLOCK,
        Math.min(T, b1 * WINO_BLOCK),
        pzeros,
        scratch[3 * p + 2]!,
        alpha,
        keptU >= 0 ? 1 : 0,
        n0 * 8,
        n1 * 8,
      ]);
    }
    exec(tasks);
    winogradCalls++;
    return result(h, pz, nz);
  }

  /**
   * dW and db by Winograd (see wino.ts `winoGradTiles`): the batch in `P`
   * parts of whole images (P fixed by the batch size), each summing its
   * tiles into its own transformed gradient; the parts added in order; then
   * transformed back. Null for non-finite inputs or when the memory limit
   * refuses the buffers (the caller then uses im2col).
   */
  function winogradGrad(
    g: ConvGeometry,
    t: WinogradTile,
    x: Float32Array,
    dz: Float32Array,
  ): { dW: Float32Array; db: Float32Array } | null {
    const { alpha } = t, a2 = alpha * alpha, m = alpha - g.fH + 1, N = g.cOut;
    // Parts of whole tiles, as many as the tiles allow (fixed by the geometry).
    const T = g.m * Math.ceil(g.outH / m) * Math.ceil(g.outW / m);
    const P = Math.max(1, Math.min(SUM_PARTS, Math.floor(T / 64)));
    const cInP = Math.ceil(g.cIn / 4) * 4, cOutP = Math.ceil(N / 4) * 4;
    const cInR = Math.ceil(g.cIn / mr) * mr, cOut8 = Math.ceil(N / 8) * 8;
    const nu = a2 * cInR * cOut8, nw = g.fH * g.fW * g.cIn * N;
    const L = layout();
    const xAt = reservePadded(L, x, g), pxp = xAt.pxp;
    const pdz = L.take(dz.length), pdw = L.take(nw), pdb = L.take(N), pu = L.take(nu);
    const parts: number[] = [];
    for (let p = 0; p < P; p++) {
      parts.push(
        P > 1 ? L.take(nu) : pu,
        L.take(a2 * WINO_GRAD_BLOCK * cInP + 8),
        L.take(a2 * WINO_GRAD_BLOCK * cOutP + 8),
        L.take((a2 + 4) * 4),
      );
    }
    const ptmp = L.take(g.fH * g.fW * 4 * 2);
    let h: Float32Array;
    try {
      h = reserve("convBackward", L.end);
    } catch (e) {
      if (e instanceof KernelMemoryError) return null;
      throw e;
    }
    h.set(dz, pdz >> 2);
    writeConv(g);
    fillPadded(h, xAt, x, g);
    if (!ex.allFinite(pxp, g.m * paddedImage(g)) || !ex.allFinite(pdz, dz.length)) return null;
    const tasks: Task[] = [];
    for (let p = 0; p < P; p++) {
      const [t0, t1] = range(T, P, p);
      tasks.push([
        "winoGradTiles",
        GEO,
        pxp,
        pdz,
        parts[4 * p]!,
        parts[4 * p + 1]!,
        parts[4 * p + 2]!,
        parts[4 * p + 3]!,
        alpha,
        t0,
        t1,
      ]);
    }
    exec(tasks);
    if (P > 1) exec(sumTasks(pu, parts[0]!, nu, P, parts[4]! - parts[0]!));
    ex.columnSums(pdz, pdb, g.m * g.outH * g.outW, N);
    ex.winoGradOut(pu, pdw, g.cIn, N, g.fH, alpha, 0, g.cIn, ptmp);
    winogradCalls++;
    return {
      dW: h.slice(pdw >> 2, (pdw >> 2) + nw),
      db: h.slice(pdb >> 2, (pdb >> 2) + N),
    };
  }

  /**
   * A stride-1 convolution's input gradient is itself a convolution: of dz,
   * padded by d·(f − 1) − p on each side, with the filters turned half a
   * turn and their channels swapped. Then it runs on the forward kernel
   * (faster than the GEMM and col2im scatter, and split among threads by
   * rows). Null where that does not apply (strides, groups, padding wider
   * than the window).
   */
  function asForward(g: ConvGeometry): ConvGeometry | null {
    if (g.strideH !== 1 || g.strideW !== 1 || g.groups !== 1) return null;
    const eh = g.dilationH * (g.fH - 1), ew = g.dilationW * (g.fW - 1);
    if (g.padTop > eh || g.padBottom > eh || g.padLeft > ew || g.padRight > ew) return null;
    return {
      ...g,
      inH: g.outH,
      inW: g.outW,
      cIn: g.cOut,
      cOut: g.cIn,
      padTop: eh - g.padTop,
      padBottom: eh - g.padBottom,
      padLeft: ew - g.padLeft,
      padRight: ew - g.padRight,
      outH: g.inH,
      outW: g.inW,
    };
  }

  /**
   * The flipped filters of `w` (see `flipWeights`): for a tracked parameter,
   * one array kept per filter array and refreshed when its version changes,
   * itself tracked, so that its packed forms are kept too.
   */
  function flippedWeights(g: ConvGeometry, w: Float32Array): Float32Array {
    const version = versionOf(w);
    if (version === undefined) return flipWeights(g, w);
    const f = flips.get(w), key = `${g.fH}x${g.fW}x${g.cIn}`;
    if (f && f.key === key && f.version === version && sameSample(f.sample, w)) return f.out;
    const out = flipWeights(g, w, f?.key === key ? f.out : undefined);
    if (out === f?.out) markChanged(out);
    else track(out);
    flips.set(w, { key, version, sample: sampleOf(w), out });
    return out;
  }

  /** w [fH, fW, cIn, cOut] turned half a turn, channels swapped: [fH, fW, cOut, cIn]. */
  function flipWeights(g: ConvGeometry, w: Float32Array, into?: Float32Array): Float32Array {
    const { fH, fW, cIn, cOut } = g;
    const out = into ?? new Float32Array(w.length);
    for (let kh = 0; kh < fH; kh++) {
      for (let kw = 0; kw < fW; kw++) {
        const src = ((fH - 1 - kh) * fW + (fW - 1 - kw)) * cIn * cOut;
        const dst = (kh * fW + kw) * cOut * cIn;
        for (let ci = 0; ci < cIn; ci++) {
          for (let co = 0; co < cOut; co++) out[dst + co * cIn + ci] = w[src + ci * cOut + co]!;
        }
      }
    }
    return out;
  }

  /** Floats per image of the padded input. */
  function paddedImage(g: ConvGeometry): number {
    return (g.inH + g.padTop + g.padBottom) * (g.inW + g.padLeft + g.padRight) * g.cIn;
  }

  /**
   * Tasks over the output rows of each image of a convolution, `R` parts an
   * image: `make(p, image, firstRow, rows)`, for kernels that compute each
   * output pixel alone from the padded input (so a part is an image of fewer
   * rows; see `rowGeo`).
   */
  function rowTasks(
    g: ConvGeometry,
    R: number,
    make: (p: number, image: number, r0: number, rows: number) => Task,
  ): Task[] {
    const tasks: Task[] = [];
    for (let i = 0; i < g.m; i++) {
      for (let r = 0; r < R; r++) {
        const [r0, r1] = range(g.outH, R, r);
        if (r1 > r0) tasks.push(make(tasks.length, i, r0, r1 - r0));
      }
    }
    return tasks;
  }

  /** The geometry block at GEO for part `p` of one image's output, `rows` rows from the padded input's row where they start. */
  function rowGeo(p: number, rows: number, outW: number): number {
    return taskGeo(p, { m: 1, outH: rows, M: rows * outW });
  }

  /**
   * `padInput` of the call's geometry (x at `src` into its padded copy at
   * `dst`) as tasks: whole images, or parts of rows when the images are fewer
   * than the parts. A part zeroes and fills only its own padded rows (the
   * first part the rows above, the last the rows below), so the parts tile
   * the padded copy exactly; every value is a copy, so any split gives the
   * same bits.
   */
  function padTasks(g: ConvGeometry, src: number, dst: number): Task[] {
    const Hp = g.inH + g.padTop + g.padBottom, Wp = g.inW + g.padLeft + g.padRight, c = g.cIn;
    const P = parts(g.m * g.inH, g.m * Hp * Wp * c);
    if (P <= 1) return [["padInput", GEO, src, dst]];
    if (P <= g.m) {
      return rangeTasks(g.m, P, (p, i0, n) => [
        "padInput",
        partGeo(p, n, 0, false),
        src + i0 * g.inH * g.inW * c * 4,
        dst + i0 * Hp * Wp * c * 4,
      ]);
    }
    const R = Math.min(g.inH, Math.floor(P / g.m)), tasks: Task[] = [];
    for (let i = 0; i < g.m; i++) {
      for (let r = 0; r < R; r++) {
        const [h0, h1] = range(g.inH, R, r);
        if (h1 <= h0) continue;
        const top = h0 === 0 ? g.padTop : 0, bottom = h1 === g.inH ? g.padBottom : 0;
        const row0 = h0 === 0 ? 0 : h0 + g.padTop; // the part's first padded row
        tasks.push([
          "padInput",
          taskGeo(tasks.length, { m: 1, inH: h1 - h0, pT: top, pB: bottom }),
          src + (i * g.inH + h0) * g.inW * c * 4,
          dst + (i * Hp + row0) * Wp * c * 4,
        ]);
      }
    }
    return tasks;
  }

  /** A copy of the geometry block at GEO for task `p`, with the fields given changed. */
  function taskGeo(p: number, fields: Partial<Record<keyof typeof CONV_AT, number>>): number {
    const at = TASK_GEOS + p * GEO_BYTES;
    const v = new Int32Array(ex.memory.buffer);
    v.copyWithin(at >> 2, GEO >> 2, (GEO + GEO_BYTES) >> 2);
    for (const [k, value] of Object.entries(fields)) {
      v[(at >> 2) + CONV_AT[k as keyof typeof CONV_AT]] = value!;
    }
    return at;
  }

  /** One task per part of `m` units (images, rows, pixels): `make(p, firstUnit, units)`. */
  function rangeTasks(
    m: number,
    P: number,
    make: (p: number, i0: number, n: number) => Task,
  ): Task[] {
    const tasks: Task[] = [];
    for (let p = 0; p < P; p++) {
      const [i0, i1] = range(m, P, p);
      if (i1 > i0) tasks.push(make(p, i0, i1 - i0));
    }
    return tasks;
  }

  /** dst = Σ_p src[p] (n floats each, `P` parts), in vector-aligned slices. */
  function sumTasks(dst: number, src: number, n: number, P: number, strideBytes = n * 4): Task[] {
    const vecs = Math.ceil(n / 4), S = parts(vecs, n * P);
    const tasks: Task[] = [];
    for (let s = 0; s < S; s++) {
      const [v0, v1] = range(vecs, S, s);
      const e0 = v0 * 4, e1 = Math.min(n, v1 * 4);
      tasks.push(["addPartials", dst + e0 * 4, src + e0 * 4, e1 - e0, P, strideBytes / 4]);
    }
    return tasks;
  }

  /** dz [M, c·mult] written as [M, mult, c] at float index `at` (a copy when mult is 1). */
  function writeDzt(
    h: Float32Array,
    at: number,
    dz: Float32Array,
    M: number,
    c: number,
    mult: number,
  ): void {
    if (mult === 1) {
      h.set(dz, at);
      return;
    }
    const N = c * mult;
    for (let q = 0; q < M; q++) {
      for (let ch = 0; ch < c; ch++) {
        for (let j = 0; j < mult; j++) h[at + (q * mult + j) * c + ch] = dz[q * N + ch * mult + j]!;
      }
    }
  }
}

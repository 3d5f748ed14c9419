// This module is browser compatible.

/**
 * Which kernel backend the public functions use, and how the WebAssembly
 * kernels are loaded.
 *
 * - Deno, Node and browsers: nothing to do. On first use the embedded
 *   kernels are compiled, choosing relaxed SIMD where the runtime validates
 *   it, then plain SIMD, then plain TypeScript. (In a browser's main thread,
 *   `await initKernels()` first to compile asynchronously.)
 * - Cloudflare Workers forbid compiling WebAssembly at run time: import the
 *   `.wasm` file (it arrives as a `WebAssembly.Module`) and hand it to
 *   {@linkcode useKernels} before the first call.
 *
 * @module
 */

import { jsKernels } from "./js.ts";
import type { Backend, Kernels } from "./types.ts";
import type { WasmModule } from "../core/types.ts";
import { createWasmKernels } from "./wasm.ts";
import { checkOneOf, fail } from "../core/_validate.ts";
import {
  RELAXED_SIMD_THREADS_WASM_BASE64,
  RELAXED_SIMD_WASM_BASE64,
  SIMD_THREADS_WASM_BASE64,
  SIMD_WASM_BASE64,
} from "../wasm/kernels_bytes.ts";
import { MAX_THREADS } from "./_abi.ts";
import { coreCount, nodeBuiltin, nodeBuiltinSync, threadKind } from "./_threads.ts";

export type { Backend } from "./types.ts";
export { KernelMemoryError } from "./wasm.ts";
export { ThreadError } from "./_threads.ts";

type WasmBackend = Exclude<Backend, "js">;
type WasmKernels = ReturnType<typeof createWasmKernels>;

const BACKENDS: readonly Backend[] = ["wasm-relaxed-simd", "wasm-simd", "js"];
/** A build: the backend, on a shared memory for threads or not. */
type Build = WasmBackend | `${WasmBackend}+threads`;
const EMBEDDED: Record<Build, string> = {
  "wasm-relaxed-simd": RELAXED_SIMD_WASM_BASE64,
  "wasm-simd": SIMD_WASM_BASE64,
  "wasm-relaxed-simd+threads": RELAXED_SIMD_THREADS_WASM_BASE64,
  "wasm-simd+threads": SIMD_THREADS_WASM_BASE64,
};

/**
 * Thrown when the WebAssembly kernels cannot be compiled in this runtime
 * (as in Cloudflare Workers, which forbid run-time compilation).
 *
 * @example Usage
 * ```ts
 * import { KernelLoadError } from "@convnet/wasm";
 * const e = new KernelLoadError("Wasm code generation disallowed by embedder");
 * e.message.includes("useKernels"); // true
 * ```
 */
export class KernelLoadError extends Error {
  /**
   * Creates a KernelLoadError.
   *
   * @param detail What the runtime said.
   */
  constructor(detail: string) {
    super(
      `WebAssembly kernels could not be compiled here (${detail}). ` +
        `In a Cloudflare Worker, run-time compilation is forbidden: import the kernels file ` +
        `(import kernels from "./kernels-relaxed-simd.wasm") and call useKernels(kernels) ` +
        `before the first call. In a browser, await initKernels() first. ` +
        `Or call setBackend("js") to use the plain TypeScript kernels.`,
    );
    this.name = "KernelLoadError";
  }
}

const wasm = new Map<WasmBackend, WasmKernels>();
const bytesCache = new Map<Build, Uint8Array<ArrayBuffer>>();
let active: Kernels | null = null;
let memoryLimit = 256 * 2 ** 20;
/** Whether the user set the limit (then it is kept exactly); else a model may raise it for its calls. */
let memoryLimitSet = false;
/** The memory the running model says it needs (see {@linkcode withMemoryFloor}). */
let memoryFloor = 0;
/** The limit in force for a call. */
const limitNow = () => (memoryLimitSet ? memoryLimit : Math.max(memoryLimit, memoryFloor));

/**
 * Runs `fn` with the default memory limit raised to `bytes` (at most 2 GiB):
 * a model sizes the kernel memory from what its layers need, so a large
 * network (vgg11_bn's 103M-weight dense layer) runs with the defaults. A
 * limit set with `setMemoryLimit` is kept as set.
 */
export function withMemoryFloor<T>(bytes: number, fn: () => T): T {
  const before = memoryFloor;
  memoryFloor = Math.max(before, Math.min(2 ** 31, bytes));
  try {
    return fn();
  } finally {
    memoryFloor = before;
  }
}
const kind = threadKind();
/** The thread setting: every core where threads exist, until setThreads says otherwise. */
let threads = kind ? Math.min(MAX_THREADS, coreCount() ?? syncCoreCount() ?? 1) : 1;
/** Whether the user chose the backend (setBackend, useKernels): initKernels then keeps it. */
let chosen = false;

/** Node 20's core count, at once where `process.getBuiltinModule` exists. */
function syncCoreCount(): number | undefined {
  if (kind !== "node") return undefined;
  const os = nodeBuiltinSync<{ availableParallelism?(): number }>("node:os");
  const n = os?.availableParallelism?.();
  return typeof n === "number" && n >= 1 ? n : undefined;
}
let threadsSet = false;
/** Node 20 has no navigator: its core count arrives asynchronously. */
let cores: Promise<void> | null = null;
function countCores(): Promise<void> {
  cores ??= kind === "node" && coreCount() === undefined
    ? nodeBuiltin<{ availableParallelism(): number }>("node:os").then((os) => {
      if (!threadsSet) threads = Math.max(1, Math.min(MAX_THREADS, os.availableParallelism()));
    }, () => {})
    : Promise.resolve();
  return cores;
}

/** The build to compile for backend `b`: the threaded one where threads can run. */
function buildOf(b: WasmBackend): Build {
  if (kind) {
    const t = `${b}+threads` as const;
    try {
      if (WebAssembly.validate(bytesOf(t))) return t;
    } catch {
      // No threads in this engine: the plain build.
    }
  }
  return b;
}

function bytesOf(b: Build): Uint8Array<ArrayBuffer> {
  let bytes = bytesCache.get(b);
  if (!bytes) {
    const bin = atob(EMBEDDED[b]);
    bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    bytesCache.set(b, bytes);
  }
  return bytes;
}

/** Whether this runtime accepts the instructions of build `b`. */
function validates(b: WasmBackend): boolean {
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(bytesOf(b));
  } catch {
    return false;
  }
}

function adopt(module: WebAssembly.Module, single?: WebAssembly.Module): WasmKernels {
  void countCores();
  const k = createWasmKernels(module, {
    memoryLimit: limitNow,
    threads: () => threads,
    threadKind: kind,
    ...(single ? { single: createWasmKernels(single, { memoryLimit: limitNow }) } : {}),
  });
  wasm.set(k.backend as WasmBackend, k);
  return k;
}

/** The kernels of build `b`, compiling the embedded bytes synchronously if needed. */
function load(b: WasmBackend): WasmKernels {
  const have = wasm.get(b);
  if (have) return have;
  let module: WebAssembly.Module, single: WebAssembly.Module | undefined;
  try {
    const build = buildOf(b);
    module = new WebAssembly.Module(bytesOf(build));
    // The threaded build also gets the plain one, for calls that run on one thread.
    if (build !== b) single = new WebAssembly.Module(bytesOf(b));
  } catch (e) {
    throw new KernelLoadError(e instanceof Error ? e.message : String(e));
  }
  return adopt(module, single);
}

/** The kernels the public functions call, choosing the best backend on first use. */
export function activeKernels(): Kernels {
  if (active) return active;
  for (const b of ["wasm-relaxed-simd", "wasm-simd"] as const) {
    const have = wasm.get(b);
    if (have) return (active = have);
  }
  for (const b of ["wasm-relaxed-simd", "wasm-simd"] as const) {
    if (validates(b)) return (active = load(b));
  }
  return (active = jsKernels);
}

/**
 * The name of the active kernel backend (choosing one if none is yet).
 *
 * @example Usage
 * ```ts
 * import { getBackend } from "@convnet/wasm";
 * const name = getBackend(); // "wasm-relaxed-simd" in Deno
 * ```
 *
 * @returns `"wasm-relaxed-simd"`, `"wasm-simd"` or `"js"`.
 */
export function getBackend(): Backend {
  return activeKernels().backend;
}

/**
 * Chooses the kernel backend. Tests and benchmarks use it to run all three;
 * `"js"` is always available.
 *
 * @example Usage
 * ```ts
 * import { getBackend, setBackend } from "@convnet/wasm";
 * setBackend("wasm-simd");
 * getBackend(); // "wasm-simd"
 * ```
 *
 * @param name The backend to use.
 * @throws {TypeError} If `name` is not a string.
 * @throws {RangeError} If the name is unknown or this runtime cannot run that build.
 * @throws {KernelLoadError} If the build validates but cannot be compiled here.
 */
export function setBackend(name: Backend): void {
  checkOneOf("setBackend", "name", name, BACKENDS);
  if (name === "js") {
    active = jsKernels;
    chosen = true;
    return;
  }
  if (!wasm.has(name) && !validates(name)) {
    throw new RangeError(
      `setBackend: backend "${name}" is not supported by this runtime (its WebAssembly does not validate)`,
    );
  }
  active = load(name);
  chosen = true;
}

/**
 * The backends that can run here, fastest first; `"js"` is always last.
 * Compiles the embedded kernels to find out, so in a runtime that forbids
 * compilation only the modules handed to {@linkcode useKernels} count.
 *
 * @example Usage
 * ```ts
 * import { availableBackends } from "@convnet/wasm";
 * availableBackends(); // ["wasm-relaxed-simd", "wasm-simd", "js"] in Deno
 * ```
 *
 * @returns The usable backends.
 */
export function availableBackends(): Backend[] {
  const out: Backend[] = [];
  for (const b of ["wasm-relaxed-simd", "wasm-simd"] as const) {
    if (wasm.has(b)) out.push(b);
    else if (validates(b)) {
      try {
        load(b);
        out.push(b);
      } catch {
        // Compilation is forbidden here; only handed-in modules count.
      }
    }
  }
  out.push("js");
  return out;
}

/**
 * Hands in a precompiled kernels module and makes it the active backend.
 * This is how a Cloudflare Worker, where compiling WebAssembly at run time
 * is forbidden, uses the kernels: the bundler turns the `.wasm` import into
 * a `WebAssembly.Module`.
 *
 * @example Usage
 * ```ts ignore
 * import kernels from "@convnet/wasm/kernels-relaxed-simd.wasm";
 * import { useKernels } from "@convnet/wasm";
 * useKernels(kernels); // "wasm-relaxed-simd"
 * ```
 *
 * @param module `src/wasm/kernels-relaxed-simd.wasm` or `src/wasm/kernels-simd.wasm`, compiled.
 * @returns The backend the module provides, now active.
 * @throws {TypeError} If `module` is not a `WebAssembly.Module` of these kernels.
 */
export function useKernels(module: WasmModule): Backend {
  if (!(module instanceof WebAssembly.Module)) {
    fail(TypeError, "useKernels", "module", "a WebAssembly.Module (import the .wasm file)", module);
  }
  const names = WebAssembly.Module.exports(module).map((e) => e.name);
  for (const need of ["tileRows", "convForward", "poolBackward", "memory"]) {
    if (!names.includes(need)) {
      throw new TypeError(
        `useKernels: module must be this library's kernels, but it lacks "${need}"`,
      );
    }
  }
  const k = adopt(module);
  active = k;
  chosen = true;
  return k.backend;
}

/**
 * Compiles the best kernels asynchronously and makes them active, and waits
 * for their worker threads. Needed only where synchronous compilation is
 * restricted (a browser's main thread); elsewhere the first call does it.
 * A backend chosen with {@linkcode setBackend} or {@linkcode useKernels}
 * stays: `initKernels` then only waits for its threads and returns it.
 *
 * @example Usage
 * ```ts
 * import { initKernels } from "@convnet/wasm";
 * const backend = await initKernels(); // "wasm-relaxed-simd" in Deno
 * ```
 *
 * @returns The backend now active.
 */
export async function initKernels(): Promise<Backend> {
  if (chosen && active) {
    // The user's choice stands: only wait for its threads.
    await countCores();
    await (active as Partial<WasmKernels>).threadsReady?.();
    return active.backend;
  }
  for (const b of ["wasm-relaxed-simd", "wasm-simd"] as const) {
    const have = wasm.get(b);
    if (have) {
      await countCores();
      await have.threadsReady();
      return (active = have).backend;
    }
    if (!validates(b)) continue;
    try {
      const build = buildOf(b);
      const k = adopt(
        await WebAssembly.compile(bytesOf(build)),
        build !== b ? await WebAssembly.compile(bytesOf(b)) : undefined,
      );
      await countCores();
      await k.threadsReady();
      return (active = k).backend;
    } catch (e) {
      throw new KernelLoadError(e instanceof Error ? e.message : String(e));
    }
  }
  return (active = jsKernels).backend;
}

/**
 * Sets how many threads the WebAssembly kernels use (the calling thread
 * included). The default is every core where threads exist: Deno, Node and
 * cross-origin-isolated browsers; in Cloudflare Workers and wherever
 * `SharedArrayBuffer` is missing there is one, whatever is set (see
 * {@linkcode getThreads}). Workers start at the first call and take work
 * as soon as they are up (about a millisecond), with no need to await
 * anything: a synchronous loop of `fit` or `predict` uses them. Calls made
 * before they are up run on the calling thread (`await initKernels()` waits
 * for them).
 *
 * Results are the same, bit for bit, for every thread count: calls are split
 * the same way whatever runs them, and sums over the batch are added in a
 * fixed order. A script that used threads still exits by itself.
 *
 * @example Usage
 * ```ts
 * import { getThreads, setThreads } from "@convnet/wasm";
 * setThreads(1); // one thread: the calling one
 * getThreads(); // 1
 * ```
 *
 * @param n Threads, an integer from 1 to 16.
 * @throws {TypeError} If `n` is not a number.
 * @throws {RangeError} If `n` is not an integer in 1..16.
 */
export function setThreads(n: number): void {
  const want = `an integer from 1 to ${MAX_THREADS}`;
  if (typeof n !== "number") fail(TypeError, "setThreads", "n", want, n);
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    fail(RangeError, "setThreads", "n", want, n);
  }
  threads = n;
  threadsSet = true;
}

/**
 * How many threads the kernels use: the {@linkcode setThreads} setting
 * where threads exist and the active backend is a threaded WebAssembly
 * build, else 1 (the `"js"` backend, an unthreaded module given to
 * `useKernels`, Cloudflare Workers, pages that are not cross-origin
 * isolated). Workers start at the first call, inside synchronous code.
 *
 * @example Usage
 * ```ts
 * import { getThreads } from "@convnet/wasm";
 * getThreads(); // 2 in Deno on a two-core machine
 * ```
 *
 * @returns The thread count, at least 1.
 */
export function getThreads(): number {
  if (!kind) return 1;
  // What is actually used: the "js" backend and an unthreaded build (a plain module handed to
  // useKernels) run on the calling thread whatever the setting.
  if (active === jsKernels) return 1;
  if (active && (active as Partial<WasmKernels>).threaded === false) return 1;
  return threads;
}

/** What {@linkcode kernelMemoryStats} reports, in bytes. */
export interface KernelMemoryStats {
  /** The kernels' linear memory in all (what {@linkcode kernelMemoryBytes} says). */
  readonly bytes: number;
  /** Weights kept packed in kernel memory between predictions. */
  readonly weightBytes: number;
  /** The largest prediction's activations on the arena (the values alive at once, as laid out). */
  readonly arenaBytes: number;
  /** The largest single call's own buffers (padded inputs, scratch, outputs not on the arena). */
  readonly callBytes: number;
}

/**
 * How the kernels' memory is used: the weights kept packed, the
 * activations a prediction keeps on the arena, and the largest call's own
 * buffers. Their sum is about what a model needs; `bytes` is what the
 * memory has grown to (it never shrinks). Zero on the JavaScript backend.
 *
 * @example Usage
 * ```ts
 * import { kernelMemoryStats } from "@convnet/wasm";
 * const { bytes, weightBytes, arenaBytes, callBytes } = kernelMemoryStats();
 * weightBytes + arenaBytes + callBytes <= bytes + 65536; // true
 * ```
 *
 * @returns The parts, in bytes.
 */
export function kernelMemoryStats(): KernelMemoryStats {
  let bytes = 0, weightBytes = 0, arenaBytes = 0, callBytes = 0;
  for (const k of wasm.values()) {
    const u = k.memoryUse();
    bytes += u.bytes;
    weightBytes += u.weightBytes;
    arenaBytes += u.arenaBytes;
    callBytes = Math.max(callBytes, u.callBytes);
  }
  return { bytes, weightBytes, arenaBytes, callBytes };
}

/** What {@linkcode kernelThreadStats} reports. */
export interface KernelThreadStats {
  /** The threads calls may use ({@linkcode getThreads}). */
  readonly threads: number;
  /** Worker threads of the active kernels that are up now (the calling thread is not counted). */
  readonly workers: number;
  /** Slices of calls that workers (not the calling thread) have run so far. */
  readonly workerTasks: number;
}

/**
 * What the active kernels' threads are doing: how many workers are up and
 * how much work they have taken. Useful to check that threads are in use
 * (a browser page that is not cross-origin isolated gets none).
 *
 * @example Usage
 * ```ts
 * import { kernelThreadStats } from "@convnet/wasm";
 * const { threads, workers } = kernelThreadStats();
 * workers <= threads - 1; // true
 * ```
 *
 * @returns Thread count, live workers and the tasks they ran.
 */
export function kernelThreadStats(): KernelThreadStats {
  const k = activeKernels() as Partial<WasmKernels>;
  return {
    threads: getThreads(),
    workers: k.pool?.readyWorkers ?? 0,
    workerTasks: k.workerTasks?.() ?? 0,
  };
}

/** Test hook: the active WebAssembly kernels' pool statistics and hooks (null for "js"). */
export function _threadState(): { workerTasks: number; kernels: WasmKernels } | null {
  const k = activeKernels();
  if (k.backend === "js") return null;
  const w = k as WasmKernels;
  return { workerTasks: w.workerTasks(), kernels: w };
}

/**
 * Sets the ceiling on each kernel instance's WebAssembly memory. A call that
 * would need more throws a {@linkcode KernelMemoryError} and leaves the
 * memory as it was. Memory never shrinks. The default is 256 MiB, which a
 * model's calls raise to what its layers need (up to 2 GiB) so that large
 * networks run with the defaults; a limit set here is kept exactly.
 *
 * @example Usage
 * ```ts
 * import { setMemoryLimit } from "@convnet/wasm";
 * setMemoryLimit(64 * 2 ** 20); // 64 MiB
 * ```
 *
 * @param bytes The ceiling in bytes, a positive integer at most 2 GiB.
 * @throws {RangeError} If `bytes` is not an integer in 1..2 GiB.
 */
export function setMemoryLimit(bytes: number): void {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 2 ** 31) {
    throw new RangeError(
      `setMemoryLimit: bytes must be an integer from 1 to 2^31 (2 GiB), got ${bytes}`,
    );
  }
  memoryLimit = bytes;
  memoryLimitSet = true;
}

/**
 * The ceiling set by {@linkcode setMemoryLimit}.
 *
 * @example Usage
 * ```ts
 * import { getMemoryLimit } from "@convnet/wasm";
 * getMemoryLimit(); // 268435456 by default
 * ```
 *
 * @returns The ceiling in bytes.
 */
export function getMemoryLimit(): number {
  return memoryLimit;
}

/**
 * The WebAssembly memory the loaded kernels hold now, in bytes (summed over
 * the builds loaded). It grows to the largest call made and stays there.
 *
 * @example Usage
 * ```ts
 * import { kernelMemoryBytes } from "@convnet/wasm";
 * kernelMemoryBytes(); // 0 before any WebAssembly call
 * ```
 *
 * @returns Bytes of linear memory.
 */
export function kernelMemoryBytes(): number {
  let n = 0;
  for (const k of wasm.values()) n += k.memoryBytes();
  return n;
}

// This module is browser compatible.

/**
 * The threads behind the WebAssembly kernels: a pool of workers that share
 * one kernels instance's memory and run slices of a call (tasks) handed out
 * through a few control words in that memory.
 *
 * A call is split into tasks by the host (`wasm.ts`) before it comes here,
 * in a way that does not depend on how many threads run them: a task writes
 * only its own part of the output, and sums over tasks are added in task
 * order afterwards. So the same call gives the same bits on 1, 2 or 16
 * threads, and the calling thread can run every task itself when the
 * workers are not there yet (they start asynchronously), are busy dying, or
 * the call is too small to be worth waking them.
 *
 * Protocol (Int32 words at {@linkcode CTL}): the caller writes the task
 * table, sets COUNT, TABLE, DONE = 0 and CLAIM = tag·4096, then bumps GEN
 * and wakes the workers. Everyone (the caller included) claims the next task
 * with a compare-exchange on CLAIM, which only succeeds while the tag is the
 * current call's, runs it, and adds one to DONE. The caller returns when
 * DONE reaches COUNT.
 *
 * Workers are `node:worker_threads` workers in Deno and Node (unreferenced,
 * so a script that used them still exits by itself) and Web Workers in
 * cross-origin-isolated browsers. workerd and runtimes without
 * `SharedArrayBuffer` get no threads.
 *
 * @module
 */

import type { WasmModule } from "../core/types.ts";
import {
  CTL,
  type KernelExports,
  MAX_THREADS,
  SCRATCH,
  TASK_FNS,
  TASK_INTS,
  TASK_TABLE,
  type TaskFn,
} from "./_abi.ts";

/** One slice of a call: the function and its (i32) arguments, as many as it declares. */
export type Task = { [K in TaskFn]: readonly [K, ...Parameters<KernelExports[K]>] }[TaskFn];

const GEN = 0, CLAIM = 1, COUNT = 2, TABLE = 3, DONE = 4, FAILED = 5, WORKER_TASKS = 6;
/** Word STOP + slot: 0 while a worker runs, 1 when it is asked to stop, 2 once it has. */
const STOP = 16;
/**
 * Word OWNER + slot: the spawn number of the worker that owns the slot. A
 * worker that finds another number there (its slot was given to a
 * replacement while it was stuck) leaves at once: two workers never share a
 * slot's scratch.
 */
const OWNER = STOP + MAX_THREADS;
/** A worker writes its epoch here once it waits for tasks: the handshake needs no message event. */
const READY = OWNER + MAX_THREADS;
const CTL_WORDS = READY + MAX_THREADS;
/** Test hooks: a task that never ends, and one that throws. */
const HANG = -1, THROW = -2;

/**
 * The error thrown when a kernel thread fails during a call (its task threw,
 * or it stopped making progress). The call's result is lost; the pool is
 * rebuilt, and the next call works.
 *
 * @example Usage
 * ```ts
 * import { ThreadError } from "@convnet/wasm";
 * const e = new ThreadError("a kernel thread stopped responding");
 * e.name; // "ThreadError"
 * ```
 */
export class ThreadError extends Error {
  /**
   * Creates a ThreadError.
   *
   * @param message What went wrong.
   */
  constructor(message: string) {
    super(message);
    this.name = "ThreadError";
  }
}

/** The worker's program: plain JavaScript, the same for both kinds of worker. */
const SERVE = `
const FN = ${JSON.stringify(TASK_FNS)};
function serve(d, post) {
  const mem = d.memory;
  const ex = new WebAssembly.Instance(d.module, { env: { memory: mem } }).exports;
  ex.setScratch(d.scratch);
  const fns = FN.map((n) => ex[n]);
  const ctl = new Int32Array(mem.buffer, ${CTL}, ${CTL_WORDS});
  const stop = ${STOP} + d.slot, owner = ${OWNER} + d.slot;
  const live = () => Atomics.load(ctl, stop) === 0 && Atomics.load(ctl, owner) === d.epoch;
  // The generation is read before saying ready: a call made as soon as the caller hears it
  // bumps GEN past this value, so the worker takes part in it.
  let seen = Atomics.load(ctl, ${GEN});
  Atomics.store(ctl, ${READY} + d.slot, d.epoch);
  post("ready");
  for (;;) {
    let s = 0;
    while (Atomics.load(ctl, ${GEN}) === seen && s < 400000) s++;
    while (Atomics.load(ctl, ${GEN}) === seen && live()) Atomics.wait(ctl, ${GEN}, seen, 1000);
    if (!live()) {
      if (Atomics.load(ctl, owner) === d.epoch) Atomics.store(ctl, stop, 2);
      return;
    }
    seen = Atomics.load(ctl, ${GEN});
    const tag = seen & 0xfffff;
    for (;;) {
      const cur = Atomics.load(ctl, ${CLAIM});
      if ((cur >>> 12) !== tag) break;
      const i = cur & 4095;
      const count = Atomics.load(ctl, ${COUNT}), table = Atomics.load(ctl, ${TABLE});
      if (i >= count) break;
      if (Atomics.compareExchange(ctl, ${CLAIM}, cur, cur + 1) !== cur) continue;
      const t = new Int32Array(mem.buffer, table + i * ${TASK_INTS * 4}, ${TASK_INTS});
      try {
        const f = t[0];
        if (f === ${HANG}) while (live());
        if (f === ${THROW}) throw new Error("test task");
        fns[f](${Array.from({ length: TASK_INTS - 2 }, (_, k) => `t[${k + 2}]`).join(", ")});
      } catch (e) {
        Atomics.store(ctl, ${FAILED}, i + 1);
      }
      Atomics.add(ctl, ${WORKER_TASKS}, 1);
      Atomics.add(ctl, ${DONE}, 1);
      Atomics.notify(ctl, ${DONE});
    }
  }
}
`;
const NODE_MAIN = SERVE +
  `const { parentPort } = require("node:worker_threads");
parentPort.once("message", (d) => serve(d, (m) => parentPort.postMessage(m)));`;
const WEB_MAIN = SERVE + `self.onmessage = (e) => serve(e.data, (m) => postMessage(m));`;

/** How this runtime runs threads: `node:worker_threads`, Web Workers, or not at all. */
export type ThreadKind = "node" | "web" | null;

/** Works out whether (and how) this runtime can run kernel threads. */
export function threadKind(): ThreadKind {
  const g = globalThis as {
    SharedArrayBuffer?: unknown;
    Deno?: unknown;
    process?: { versions?: { node?: string } };
    navigator?: { userAgent?: string };
    crossOriginIsolated?: boolean;
    Worker?: unknown;
  };
  if (typeof g.SharedArrayBuffer !== "function") return null;
  if (g.navigator?.userAgent === "Cloudflare-Workers") return null;
  if (g.Deno !== undefined || g.process?.versions?.node !== undefined) return "node";
  if (typeof g.Worker === "function" && g.crossOriginIsolated === true) return "web";
  return null;
}

/**
 * Loads a Node built-in (Deno and Node only). The name goes through a
 * variable so that browser bundlers and type checkers without Node's types
 * leave it alone: the library has no dependencies, only these runtime parts.
 */
export function nodeBuiltin<T>(name: "node:worker_threads" | "node:os"): Promise<T> {
  const now = nodeBuiltinSync<T>(name);
  if (now) return Promise.resolve(now);
  const specifier: string = name;
  return import(specifier) as Promise<T>;
}

/**
 * A Node built-in module at once, where the runtime offers
 * `process.getBuiltinModule` (Deno 2, Node ≥ 20.16), else undefined: workers
 * can then start inside a synchronous call, without waiting for the event loop.
 */
export function nodeBuiltinSync<T>(name: "node:worker_threads" | "node:os"): T | undefined {
  const p = (globalThis as { process?: { getBuiltinModule?: (n: string) => unknown } }).process;
  try {
    return p?.getBuiltinModule?.(name) as T | undefined;
  } catch {
    return undefined;
  }
}

/** The number of cores, where the runtime says so synchronously (else undefined). */
export function coreCount(): number | undefined {
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency;
  return typeof n === "number" && n >= 1 ? Math.floor(n) : undefined;
}

interface NodeWorker {
  postMessage(m: unknown): void;
  once(ev: string, f: (v: unknown) => void): void;
  on(ev: string, f: (v: unknown) => void): void;
  unref(): void;
  terminate(): unknown;
}
interface WorkerLike {
  terminate(): unknown;
}

interface Slot {
  worker: WorkerLike | null;
  /** The epoch the worker was started with (its ready word holds it once it is up). */
  epoch: number;
  /** Up and taking tasks. */
  ready: boolean;
  /** Was ever up (a worker that never started holds no scratch). */
  started: boolean;
  dead: boolean;
}

type NodeWorkerCtor = new (src: string, o: { eval: true }) => NodeWorker;
let nodeWorkerCtor: Promise<NodeWorkerCtor> | null = null;
let nodeWorkerSync: NodeWorkerCtor | null = null;
let webUrl: string | null = null;

/**
 * A pool of kernel threads for one kernels instance. The caller is thread 0;
 * `resize(n)` keeps n − 1 workers alive (started asynchronously).
 */
export class ThreadPool {
  readonly #module: WebAssembly.Module;
  readonly #memory: WebAssembly.Memory;
  readonly #kind: Exclude<ThreadKind, null>;
  /** Scratch slots 1..15; index = slot. */
  readonly #slots: (Slot | null)[] = new Array(MAX_THREADS).fill(null);
  #wanted = 1;
  #gen = 0;
  #canBlock: boolean | null = null;
  #starting: Promise<void>[] = [];
  #spawned = 0;
  /** Milliseconds without progress before a call gives up on its threads. */
  stallMs = 60_000;
  /**
   * Test hook: when false, the calling thread leaves every task of a split
   * call to the workers (so tests can check their results whatever the
   * timing). Calls the threads would not split still run on the caller.
   */
  callerTakesTasks = true;

  /**
   * @param module The threaded kernels, compiled.
   * @param memory The shared memory of the caller's instance.
   * @param kind How to start workers here.
   */
  constructor(
    module: WasmModule,
    memory: { readonly buffer: ArrayBufferLike },
    kind: "node" | "web",
  ) {
    this.#module = module as WebAssembly.Module;
    this.#memory = memory as WebAssembly.Memory;
    this.#kind = kind;
  }

  /** How many tasks workers (not the caller) have run so far: tests check threads really ran. */
  get workerTasks(): number {
    return Atomics.load(new Int32Array(this.#memory.buffer, CTL, CTL_WORDS), WORKER_TASKS);
  }

  /** Workers that have started and wait for tasks. */
  get readyWorkers(): number {
    const ctl = new Int32Array(this.#memory.buffer, CTL, CTL_WORDS);
    let n = 0;
    this.#slots.forEach((s, slot) => {
      if (!s || s.dead) return;
      if (!s.ready && s.epoch > 0 && Atomics.load(ctl, READY + slot) === s.epoch) {
        s.ready = s.started = true; // said so in the shared memory, before any message event
      }
      if (s.ready) n++;
    });
    return n;
  }

  /** Keeps `threads − 1` workers (starting or stopping some). */
  resize(threads: number): void {
    this.#wanted = threads;
    let live = 0;
    this.#slots.forEach((s, slot) => {
      if (!s || s.dead) return;
      if (++live > threads - 1) this.#stop(slot, s);
    });
    this.#fill();
  }

  /** Resolves when every wanted worker has started (or failed to). */
  async whenReady(): Promise<void> {
    while (this.#starting.length) {
      const now = this.#starting;
      this.#starting = [];
      await Promise.all(now);
    }
  }

  /** Stops every worker (the pool can be resized again later). */
  close(): void {
    this.#wanted = 1;
    this.#slots.forEach((s, slot) => {
      if (s && !s.dead) this.#stop(slot, s);
    });
  }

  /**
   * Asks a worker to stop: it leaves its loop at the next wake-up and exits.
   * `kill` also terminates it, for a worker stuck in a task (Node stops it;
   * Deno's worker_threads cannot interrupt a running loop, so there a stuck
   * worker keeps its slot, and its scratch, until it returns).
   */
  #stop(slot: number, s: Slot, kill = false): void {
    s.dead = true;
    s.ready = false;
    const ctl = new Int32Array(this.#memory.buffer, CTL, CTL_WORDS);
    if (Atomics.load(ctl, STOP + slot) === 0) Atomics.store(ctl, STOP + slot, 1);
    Atomics.notify(ctl, GEN);
    if (kill || this.#kind === "web") {
      try {
        s.worker?.terminate();
      } catch {
        // Already gone.
      }
      if (this.#kind === "web") this.#free(slot, s);
    }
  }

  /** Frees a slot (its worker is gone) and starts a replacement if one is wanted. */
  #free(slot: number, s: Slot): void {
    s.dead = true;
    s.ready = false;
    if (this.#slots[slot] === s) this.#slots[slot] = null;
    this.#fill();
  }

  /** Starts workers until `wanted − 1` are alive or starting. */
  #fill(): void {
    const ctl = new Int32Array(this.#memory.buffer, CTL, CTL_WORDS);
    this.#slots.forEach((s, slot) => {
      // A stopped worker that has said so no longer uses its scratch.
      if (s && s.dead && Atomics.load(ctl, STOP + slot) === 2) this.#slots[slot] = null;
    });
    let live = 0;
    for (const s of this.#slots) if (s && !s.dead) live++;
    for (let slot = 1; slot < MAX_THREADS && live < this.#wanted - 1; slot++) {
      if (this.#slots[slot] !== null) continue;
      const s: Slot = { worker: null, epoch: 0, ready: false, started: false, dead: false };
      this.#slots[slot] = s;
      live++;
      this.#starting.push(this.#spawn(slot, s));
    }
  }

  /**
   * A worker's exit event. Deno reports it for a terminated worker whose
   * thread is in fact still running, so there the slot is freed only once
   * the worker has said it stopped.
   */
  #exited(slot: number, s: Slot): void {
    const ctl = new Int32Array(this.#memory.buffer, CTL, CTL_WORDS);
    const deno = (globalThis as { Deno?: unknown }).Deno !== undefined;
    if (!s.started || !deno || Atomics.load(ctl, STOP + slot) === 2) this.#free(slot, s);
    else {
      s.dead = true;
      s.ready = false;
    }
  }

  async #spawn(slot: number, s: Slot): Promise<void> {
    const ctl = new Int32Array(this.#memory.buffer, CTL, CTL_WORDS);
    const epoch = ++this.#spawned;
    Atomics.store(ctl, OWNER + slot, epoch);
    Atomics.store(ctl, STOP + slot, 0);
    Atomics.store(ctl, READY + slot, 0);
    s.epoch = epoch;
    const init = {
      module: this.#module,
      memory: this.#memory,
      scratch: SCRATCH + slot * 256,
      slot,
      epoch,
    };
    try {
      if (this.#kind === "node") {
        // Synchronously where the runtime allows it, so that a synchronous loop of calls gets
        // its workers without ever yielding to the event loop.
        nodeWorkerSync ??= nodeBuiltinSync<{ Worker: NodeWorkerCtor }>("node:worker_threads")
          ?.Worker ?? null;
        nodeWorkerCtor ??= nodeWorkerSync
          ? Promise.resolve(nodeWorkerSync)
          : nodeBuiltin<{ Worker: unknown }>("node:worker_threads").then((m) =>
            m.Worker as NodeWorkerCtor
          );
        const Ctor = nodeWorkerSync ?? await nodeWorkerCtor;
        if (s.dead) {
          this.#free(slot, s);
          return;
        }
        const w = new Ctor(NODE_MAIN, { eval: true });
        s.worker = w;
        // Referenced while it starts (so awaiting it keeps the event loop alive), then not:
        // an idle pool never keeps a script from exiting.
        await new Promise<void>((resolve) => {
          w.once("message", () => {
            w.unref();
            s.started = true;
            if (!s.dead) s.ready = true;
            resolve();
          });
          w.on("error", () => {
            w.unref();
            resolve();
          });
          w.on("exit", () => {
            this.#exited(slot, s);
            resolve();
          });
          w.postMessage(init);
        });
      } else {
        webUrl ??= URL.createObjectURL(new Blob([WEB_MAIN], { type: "text/javascript" }));
        const w = new Worker(webUrl);
        s.worker = w;
        await new Promise<void>((resolve) => {
          w.onmessage = () => {
            s.started = true;
            if (!s.dead) s.ready = true;
            resolve();
          };
          w.onerror = () => {
            w.terminate();
            this.#free(slot, s);
            resolve();
          };
          w.postMessage(init);
        });
      }
    } catch {
      this.#free(slot, s);
    }
  }

  /**
   * Runs `tasks` (already written at `table`, `count` of them) on the pool
   * and the calling thread, returning when all are done.
   *
   * @param table Byte offset of the task table.
   * @param count Number of tasks.
   * @param runHere Runs task `i` on the calling thread.
   * @param claim Whether the calling thread takes tasks too (tests turn it off).
   * @throws {ThreadError} If a task failed in a worker, or the workers stopped making progress.
   */
  run(table: number, count: number, runHere: (i: number) => void, claim = true): void {
    const ctl = new Int32Array(this.#memory.buffer, CTL, CTL_WORDS);
    const tag = (this.#gen = (this.#gen + 1) & 0xfffff);
    Atomics.store(ctl, COUNT, count);
    Atomics.store(ctl, TABLE, table);
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, FAILED, 0);
    Atomics.store(ctl, CLAIM, tag * 4096 | 0);
    Atomics.store(ctl, GEN, tag);
    Atomics.notify(ctl, GEN);
    let error: unknown = null;
    while (claim) {
      const cur = Atomics.load(ctl, CLAIM);
      const i = cur & 4095;
      if (i >= count) break;
      if (Atomics.compareExchange(ctl, CLAIM, cur, cur + 1) !== cur) continue;
      try {
        runHere(i);
      } catch (e) {
        error ??= e;
      }
      Atomics.add(ctl, DONE, 1);
    }
    this.#await(ctl, count);
    if (error !== null) throw error;
    const failed = Atomics.load(ctl, FAILED);
    if (failed !== 0) {
      this.#rebuild();
      throw new ThreadError(
        `a kernel thread failed while running task ${failed - 1} of ${count}; ` +
          `the call's result is lost (the threads have been restarted)`,
      );
    }
  }

  /** Waits until DONE reaches `count`, or gives up after `stallMs` without progress. */
  #await(ctl: Int32Array, count: number): void {
    let last = Atomics.load(ctl, DONE);
    if (last >= count) return;
    let since = performance.now();
    let spins = 0;
    for (;;) {
      const d = Atomics.load(ctl, DONE);
      if (d >= count) return;
      if (d !== last) {
        last = d;
        since = performance.now();
      }
      if (++spins > 2000) {
        if (this.#canBlock === null) {
          try {
            Atomics.wait(ctl, DONE, d, 0);
            this.#canBlock = true;
          } catch {
            this.#canBlock = false;
          }
        }
        if (this.#canBlock) Atomics.wait(ctl, DONE, d, 5);
        if (performance.now() - since > this.stallMs) {
          this.#rebuild();
          throw new ThreadError(
            `kernel threads made no progress for ${this.stallMs} ms (${d} of ${count} tasks ` +
              `done); the call's result is lost (the threads have been restarted)`,
          );
        }
      }
    }
  }

  /** Stops every worker and starts fresh ones (stale ones may still be running). */
  #rebuild(): void {
    const ctl = new Int32Array(this.#memory.buffer, CTL, CTL_WORDS);
    // A new tag no worker can match until the next call.
    this.#gen = (this.#gen + 1) & 0xfffff;
    Atomics.store(ctl, CLAIM, this.#gen * 4096 | 4095);
    this.#slots.forEach((s, slot) => {
      if (s && !s.dead) this.#stop(slot, s, true);
    });
    this.#fill();
  }

  /** Test hook: runs a task that never ends (`"hang"`) or throws (`"throw"`) on a worker. */
  _poison(kind: "hang" | "throw"): void {
    const table = TASK_TABLE;
    const h = new Int32Array(this.#memory.buffer, table, TASK_INTS * 2);
    h.fill(0);
    h[0] = kind === "hang" ? HANG : THROW;
    h[TASK_INTS] = kind === "hang" ? HANG : THROW;
    this.run(table, 2, () => {}, false);
  }
}

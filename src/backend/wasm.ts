// This module is browser compatible.

/**
 * The WebAssembly backends: a thin host around the AssemblyScript kernels in
 * `src/wasm/assembly/`. One linear memory per instance; each call lays out
 * its buffers from a fixed base, grows the memory only when a call needs more
 * than any call before it, and copies results out into fresh arrays.
 *
 * @module
 */

import type { Backend, ConvGeometry, Kernels, PoolGeometry, PoolMode } from "./types.ts";
import type { WasmModule } from "../core/types.ts";
import { jsKernels } from "./js.ts";

/** What the kernels module exports. Pointers are byte offsets into `memory`. */
interface KernelExports {
  memory: WebAssembly.Memory;
  tileRows(): number;
  setConvGeometry(
    m: number,
    inH: number,
    inW: number,
    cIn: number,
    f: number,
    cOut: number,
    stride: number,
    pad: number,
    outH: number,
    outW: number,
  ): void;
  padInput(x: number, xp: number): void;
  convForward(xp: number, w: number, bias: number, z: number, relu: number): void;
  convBackwardFilter(
    x: number,
    dz: number,
    dwt: number,
    db: number,
    col: number,
    rows: number,
  ): void;
  transposeOut(src: number, out: number, k: number, n: number, kp: number): void;
  convBackwardData(
    dz: number,
    w: number,
    dx: number,
    wt: number,
    panel: number,
    dcol: number,
  ): void;
  setPoolGeometry(
    m: number,
    inH: number,
    inW: number,
    c: number,
    f: number,
    stride: number,
    outH: number,
    outW: number,
  ): void;
  poolForward(x: number, y: number, mode: number): void;
  poolBackward(x: number, dy: number, dx: number, mode: number): void;
}

/** Whether the square-filter, one-stride, symmetric-padding kernels handle `g`. */
function simpleConv(g: ConvGeometry): boolean {
  return g.fH === g.fW && g.strideH === g.strideW && g.dilationH === 1 && g.dilationW === 1 &&
    g.groups === 1 && g.padTop === g.padBottom && g.padTop === g.padLeft &&
    g.padTop === g.padRight;
}

/** Whether the square-window, unpadded pooling kernels handle `g`. */
function simplePool(g: PoolGeometry): boolean {
  return g.fH === g.fW && g.strideH === g.strideW && g.dilationH === 1 && g.dilationW === 1 &&
    g.padTop + g.padBottom + g.padLeft + g.padRight === 0 &&
    (g.outH - 1) * g.strideH + g.fH <= g.inH && (g.outW - 1) * g.strideW + g.fW <= g.inW;
}

/** Bytes below this offset belong to the kernels (tile staging). */
const BASE = 1024;
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
  #next = BASE;
  /** Reserves `floats` floats and returns their byte offset. */
  take(floats: number): number {
    const at = this.#next;
    // Plain arithmetic, not `& ~15`: bitwise operators would wrap sizes beyond 2^32 to small ones.
    this.#next = Math.ceil((at + floats * 4 + SLACK) / 16) * 16;
    return at;
  }
  /** Bytes in use so far. */
  get end(): number {
    return this.#next;
  }
}

/** Options for {@linkcode createWasmKernels}. */
export interface WasmKernelOptions {
  /** Called before each call's memory is laid out; returns the ceiling in bytes. */
  memoryLimit(): number;
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
): Kernels & { memoryBytes(): number } {
  const ex = new WebAssembly.Instance(module as WebAssembly.Module, {})
    .exports as unknown as KernelExports;
  const mr = ex.tileRows();
  const backend: Backend = mr === 6 ? "wasm-relaxed-simd" : "wasm-simd";
  let heap = new Float32Array(ex.memory.buffer);

  /** Makes sure the memory holds `bytes`, growing it (never shrinking) within the limit. */
  function reserve(fn: string, bytes: number): Float32Array {
    const have = ex.memory.buffer.byteLength;
    if (bytes > have) {
      const limit = options.memoryLimit();
      if (bytes > limit) throw new KernelMemoryError(fn, bytes, limit);
      ex.memory.grow(Math.ceil((bytes - have) / PAGE));
    }
    if (heap.buffer !== ex.memory.buffer) heap = new Float32Array(ex.memory.buffer);
    return heap;
  }

  function setConv(g: ConvGeometry): void {
    ex.setConvGeometry(g.m, g.inH, g.inW, g.cIn, g.fH, g.cOut, g.strideH, g.padTop, g.outH, g.outW);
  }

  function setPool(g: PoolGeometry): void {
    ex.setPoolGeometry(g.m, g.inH, g.inW, g.c, g.fH, g.strideH, g.outH, g.outW);
  }

  /** Rows of im2col per block in the filter gradient: about 256 KiB of scratch. */
  const blockRows = (k: number) => Math.max(16, Math.min(512, Math.floor(65536 / k)));

  return {
    backend,
    memoryBytes: () => ex.memory.buffer.byteLength,

    convForward(g, x, w, b, relu = false) {
      if (!simpleConv(g)) return jsKernels.convForward(g, x, w, b, relu);
      const M = g.m * g.outH * g.outW, N = g.cOut;
      const pad = g.padTop;
      const padded = pad > 0;
      const nxp = g.m * (g.inH + 2 * pad) * (g.inW + 2 * pad) * g.cIn;
      const L = new Layout();
      const px = L.take(x.length), pxp = padded ? L.take(nxp) : px;
      const pw = L.take(w.length), pb = L.take(N + 8), pz = L.take(M * N);
      const h = reserve("convForward", L.end);
      h.set(x, px >> 2);
      h.set(w, pw >> 2);
      h.set(b, pb >> 2);
      setConv(g);
      if (padded) ex.padInput(px, pxp);
      ex.convForward(pxp, pw, pb, pz, relu ? 1 : 0);
      return h.slice(pz >> 2, (pz >> 2) + M * N);
    },

    convBackwardFilter(g, x, dz) {
      if (!simpleConv(g)) return jsKernels.convBackwardFilter(g, x, dz);
      const K = g.fH * g.fW * g.cIn, N = g.cOut;
      const Np = Math.ceil(N / mr) * mr, Kp = Math.ceil(K / 8) * 8, rows = blockRows(K);
      const L = new Layout();
      const px = L.take(x.length), pdz = L.take(dz.length), pdwt = L.take(Np * Kp);
      const pdb = L.take(N), col = L.take(rows * K), pdw = L.take(K * N);
      const h = reserve("convBackward", L.end);
      h.set(x, px >> 2);
      h.set(dz, pdz >> 2);
      setConv(g);
      ex.convBackwardFilter(px, pdz, pdwt, pdb, col, rows);
      ex.transposeOut(pdwt, pdw, K, N, Kp);
      return {
        dW: h.slice(pdw >> 2, (pdw >> 2) + K * N),
        db: h.slice(pdb >> 2, (pdb >> 2) + N),
      };
    },

    convBackwardData(g, dz, w) {
      if (!simpleConv(g)) return jsKernels.convBackwardData(g, dz, w);
      const K = g.fH * g.fW * g.cIn, N = g.cOut, Kp = Math.ceil(K / 8) * 8;
      const nx = g.m * g.inH * g.inW * g.cIn;
      const L = new Layout();
      const pdz = L.take(dz.length), pw = L.take(w.length), pdx = L.take(nx);
      const pwt = L.take(N * K), panel = L.take(mr * N), dcol = L.take(mr * Kp);
      const h = reserve("convBackward", L.end);
      h.set(dz, pdz >> 2);
      h.set(w, pw >> 2);
      setConv(g);
      ex.convBackwardData(pdz, pw, pdx, pwt, panel, dcol);
      return h.slice(pdx >> 2, (pdx >> 2) + nx);
    },

    poolForward(g, x, mode: PoolMode) {
      if (!simplePool(g)) return jsKernels.poolForward(g, x, mode);
      const ny = g.m * g.outH * g.outW * g.c;
      const L = new Layout();
      const px = L.take(x.length), py = L.take(ny);
      const h = reserve("poolForward", L.end);
      h.set(x, px >> 2);
      setPool(g);
      ex.poolForward(px, py, mode === "max" ? 0 : 1);
      return h.slice(py >> 2, (py >> 2) + ny);
    },

    poolBackward(g, x, dy, mode: PoolMode) {
      if (!simplePool(g)) return jsKernels.poolBackward(g, x, dy, mode);
      const L = new Layout();
      const max = mode === "max";
      const px = max ? L.take(x.length) : 0, pdy = L.take(dy.length), pdx = L.take(x.length);
      const h = reserve("poolBackward", L.end);
      if (max) h.set(x, px >> 2);
      h.set(dy, pdy >> 2);
      setPool(g);
      ex.poolBackward(px, pdy, pdx, max ? 0 : 1);
      return h.slice(pdx >> 2, (pdx >> 2) + x.length);
    },
  };
}

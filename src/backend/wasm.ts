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

/** What the kernels module exports. Pointers are byte offsets into `memory`; `geo` is the geometry block. */
interface KernelExports {
  memory: WebAssembly.Memory;
  tileRows(): number;
  convForward(geo: number, xp: number, w: number, bias: number, z: number, relu: number): void;
  convBackwardFilter(
    geo: number,
    x: number,
    dz: number,
    dw: number,
    db: number,
    dwt: number,
    col: number,
    rows: number,
  ): void;
  convBackwardData(
    geo: number,
    dz: number,
    w: number,
    dx: number,
    wt: number,
    panel: number,
    dcol: number,
  ): void;
  columnSums(dz: number, db: number, m: number, n: number): void;
  padInput(geo: number, x: number, xp: number): void;
  dwForward(
    geo: number,
    xp: number,
    wp: number,
    bp: number,
    zt: number,
    relu: number,
    mult: number,
  ): void;
  dwBackwardData(geo: number, dzt: number, wp: number, dxp: number, mult: number): void;
  dwBackwardFilter(geo: number, xp: number, dzt: number, dwp: number, mult: number): void;
  poolForward(geo: number, x: number, y: number, mode: number): void;
  poolBackward(geo: number, x: number, dy: number, dx: number, mode: number): void;
  activate(x: number, y: number, n: number, kind: number): void;
}

/** Where the host writes each call's geometry (below BASE; the tile staging area ends at 192). */
const GEO = 256;

/** Whether `g` is a depthwise convolution (one input channel per group, several groups). */
function isDepthwise(g: ConvGeometry): boolean {
  return g.groups > 1 && g.groups === g.cIn;
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

  /** Writes a convolution's geometry block (see conv.ts `Geo`). */
  function writeConv(g: ConvGeometry): void {
    const v = geoView();
    const cInG = g.cIn / g.groups, cOutG = g.cOut / g.groups;
    v.set([
      g.m,
      g.inH,
      g.inW,
      g.cIn,
      g.fH,
      g.fW,
      g.cOut,
      g.strideH,
      g.strideW,
      g.padTop,
      g.padBottom,
      g.padLeft,
      g.padRight,
      g.dilationH,
      g.dilationW,
      g.groups,
      g.outH,
      g.outW,
      cInG,
      cOutG,
      g.fH * g.fW * cInG,
      g.m * g.outH * g.outW,
    ]);
  }
  /** Writes a pooling's geometry block (see pool.ts `PoolGeo`). */
  function writePool(g: PoolGeometry): void {
    geoView().set([
      g.m,
      g.inH,
      g.inW,
      g.c,
      g.fH,
      g.fW,
      g.strideH,
      g.strideW,
      g.padTop,
      g.padBottom,
      g.padLeft,
      g.padRight,
      g.dilationH,
      g.dilationW,
      g.countIncludePad ? 1 : 0,
      g.outH,
      g.outW,
    ]);
  }
  let geoBuf: Int32Array | null = null;
  /** The geometry block (after `reserve`, so the memory holds it). */
  function geoView(): Int32Array {
    if (!geoBuf || geoBuf.buffer !== ex.memory.buffer) {
      geoBuf = new Int32Array(ex.memory.buffer, GEO, 22);
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
    const c = g.cIn, row = g.inW * c;
    const pxp = L.take(g.m * Hp * Wp * c);
    if (Hp === g.inH && Wp === g.inW) return { pxp, scratch: -1 };
    return { pxp, scratch: row < 512 ? L.take(x.length) : -1 };
  }
  function fillPadded(
    h: Float32Array,
    at: { pxp: number; scratch: number },
    x: Float32Array,
    g: ConvGeometry,
  ): void {
    const Hp = g.inH + g.padTop + g.padBottom, Wp = g.inW + g.padLeft + g.padRight;
    const c = g.cIn, row = g.inW * c, base = at.pxp >> 2;
    if (Hp === g.inH && Wp === g.inW) {
      h.set(x, base);
    } else if (at.scratch >= 0) {
      h.set(x, at.scratch >> 2);
      ex.padInput(GEO, at.scratch, at.pxp);
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

  /** Rows of im2col per block in the filter gradient: about 256 KiB of scratch. */
  const blockRows = (k: number) => Math.max(16, Math.min(512, Math.floor(65536 / k)));

  return {
    backend,
    memoryBytes: () => ex.memory.buffer.byteLength,

    convForward(g, x, w, b, relu = false) {
      const act = relu === true ? 1 : relu === false ? 0 : relu;
      const M = g.m * g.outH * g.outW, N = g.cOut;
      const L = new Layout();
      const xAt = reservePadded(L, x, g), pxp = xAt.pxp;
      const pw = L.take(w.length), pb = L.take(N + 8), pz = L.take(M * N);
      const h = reserve("convForward", L.end);
      writeConv(g);
      fillPadded(h, xAt, x, g);
      if (isDepthwise(g)) {
        const c = g.cIn, mult = N / c;
        if (mult === 1) {
          h.set(w, pw >> 2);
          h.set(b, pb >> 2);
        } else {
          packDw(w, g.fH * g.fW, c, mult, h, pw >> 2);
          for (let j = 0; j < mult; j++) {
            for (let ch = 0; ch < c; ch++) h[(pb >> 2) + j * c + ch] = b[ch * mult + j]!;
          }
        }
        ex.dwForward(GEO, pxp, pw, pb, pz, act, mult);
        if (mult === 1) return h.slice(pz >> 2, (pz >> 2) + M * N);
        const z = new Float32Array(M * N), at = pz >> 2;
        for (let q = 0; q < M; q++) {
          for (let j = 0; j < mult; j++) {
            for (let ch = 0; ch < c; ch++) {
              z[q * N + ch * mult + j] = h[at + (q * mult + j) * c + ch]!;
            }
          }
        }
        return z;
      }
      h.set(w, pw >> 2);
      h.set(b, pb >> 2);
      ex.convForward(GEO, pxp, pw, pb, pz, act);
      return h.slice(pz >> 2, (pz >> 2) + M * N);
    },

    convBackwardFilter(g, x, dz) {
      const N = g.cOut;
      if (isDepthwise(g)) {
        const c = g.cIn, mult = N / c, M = g.m * g.outH * g.outW, taps = g.fH * g.fW;
        const L = new Layout();
        const xAt = reservePadded(L, x, g), pxp = xAt.pxp;
        const pdz = L.take(dz.length), pdw = L.take(taps * N), pdb = L.take(N);
        const h = reserve("convBackward", L.end);
        writeConv(g);
        fillPadded(h, xAt, x, g);
        writeDzt(h, pdz >> 2, dz, M, c, mult);
        ex.dwBackwardFilter(GEO, pxp, pdz, pdw, mult);
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
      const cOutG = N / g.groups, K = g.fH * g.fW * (g.cIn / g.groups);
      const Np = Math.ceil(cOutG / mr) * mr, Kp = Math.ceil(K / 8) * 8, rows = blockRows(K);
      const L = new Layout();
      const px = L.take(x.length), pdz = L.take(dz.length), pdw = L.take(K * N);
      const pdb = L.take(N), pdwt = L.take(Np * Kp), col = L.take(rows * K);
      const h = reserve("convBackward", L.end);
      h.set(x, px >> 2);
      h.set(dz, pdz >> 2);
      writeConv(g);
      ex.convBackwardFilter(GEO, px, pdz, pdw, pdb, pdwt, col, rows);
      return {
        dW: h.slice(pdw >> 2, (pdw >> 2) + K * N),
        db: h.slice(pdb >> 2, (pdb >> 2) + N),
      };
    },

    convBackwardData(g, dz, w) {
      const N = g.cOut, nx = g.m * g.inH * g.inW * g.cIn;
      if (isDepthwise(g)) {
        const c = g.cIn, mult = N / c, M = g.m * g.outH * g.outW;
        const nxp = g.m * (g.inH + g.padTop + g.padBottom) * (g.inW + g.padLeft + g.padRight) * c;
        const L = new Layout();
        const pdz = L.take(dz.length), pw = L.take(w.length), pdx = L.take(nxp);
        const h = reserve("convBackward", L.end);
        writeDzt(h, pdz >> 2, dz, M, c, mult);
        if (mult === 1) h.set(w, pw >> 2);
        else packDw(w, g.fH * g.fW, c, mult, h, pw >> 2);
        writeConv(g);
        ex.dwBackwardData(GEO, pdz, pw, pdx, mult);
        return readUnpadded(h, pdx >> 2, g);
      }
      const cOutG = N / g.groups, K = g.fH * g.fW * (g.cIn / g.groups), Kp = Math.ceil(K / 8) * 8;
      const L = new Layout();
      const pdz = L.take(dz.length), pw = L.take(w.length), pdx = L.take(nx);
      const pwt = L.take(cOutG * K), panel = L.take(mr * cOutG), dcol = L.take(mr * Kp);
      const h = reserve("convBackward", L.end);
      h.set(dz, pdz >> 2);
      h.set(w, pw >> 2);
      writeConv(g);
      ex.convBackwardData(GEO, pdz, pw, pdx, pwt, panel, dcol);
      return h.slice(pdx >> 2, (pdx >> 2) + nx);
    },

    poolForward(g, x, mode: PoolMode) {
      const ny = g.m * g.outH * g.outW * g.c;
      const L = new Layout();
      const px = L.take(x.length), py = L.take(ny);
      const h = reserve("poolForward", L.end);
      h.set(x, px >> 2);
      writePool(g);
      ex.poolForward(GEO, px, py, mode === "max" ? 0 : 1);
      return h.slice(py >> 2, (py >> 2) + ny);
    },

    activation(kind, x) {
      const L = new Layout();
      const px = L.take(x.length), py = L.take(x.length);
      const h = reserve("activation", L.end);
      h.set(x, px >> 2);
      ex.activate(px, py, x.length, kind === "sigmoid" ? 0 : 1);
      return h.slice(py >> 2, (py >> 2) + x.length);
    },

    poolBackward(g, x, dy, mode: PoolMode) {
      const L = new Layout();
      const max = mode === "max";
      const nx = g.m * g.inH * g.inW * g.c;
      const px = max ? L.take(x.length) : 0, pdy = L.take(dy.length), pdx = L.take(nx);
      const h = reserve("poolBackward", L.end);
      if (max) h.set(x, px >> 2);
      h.set(dy, pdy >> 2);
      writePool(g);
      ex.poolBackward(GEO, px, pdy, pdx, max ? 0 : 1);
      return h.slice(pdx >> 2, (pdx >> 2) + nx);
    },
  };

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

// This module is browser compatible.

/**
 * The plain TypeScript backend: direct loops, float64 accumulation. It is the
 * reference twin of the WebAssembly kernels and the fallback where
 * WebAssembly SIMD is unavailable. Every geometry (strides, asymmetric
 * padding, dilation, groups, pooling padding and ceil mode) is handled here
 * by the same loops.
 *
 * @module
 */

import type { ActivationKind, ConvGeometry, Kernels, PoolGeometry, PoolMode } from "./types.ts";
import { erf, mish, softplus } from "../core/_math.ts";

/**
 * Calls `visit(xBase, wBase)` for every in-bounds tap of output pixel
 * `(i, oh, ow)`: `xBase` indexes the input pixel's channel 0 and `wBase` the
 * filter row `(kh, kw, 0, 0)`.
 */
function forEachTap(
  g: ConvGeometry,
  i: number,
  oh: number,
  ow: number,
  visit: (xBase: number, wBase: number) => void,
): void {
  const cInG = g.cIn / g.groups;
  for (let kh = 0; kh < g.fH; kh++) {
    const ih = oh * g.strideH - g.padTop + kh * g.dilationH;
    if (ih < 0 || ih >= g.inH) continue;
    for (let kw = 0; kw < g.fW; kw++) {
      const iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
      if (iw < 0 || iw >= g.inW) continue;
      visit(((i * g.inH + ih) * g.inW + iw) * g.cIn, (kh * g.fW + kw) * cInG * g.cOut);
    }
  }
}

function convForward(
  g: ConvGeometry,
  x: Float32Array,
  w: Float32Array,
  b: Float32Array,
  relu: boolean | 0 | 1 | 2 = false,
): Float32Array {
  const { m, cOut, outH, outW, groups } = g;
  const cInG = g.cIn / groups, cOutG = cOut / groups;
  const z = new Float32Array(m * outH * outW * cOut);
  const acc = new Float64Array(cOut);
  for (let i = 0; i < m; i++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        for (let co = 0; co < cOut; co++) acc[co] = b[co]!;
        forEachTap(g, i, oh, ow, (xBase, wBase) => {
          for (let gr = 0; gr < groups; gr++) {
            for (let ci = 0; ci < cInG; ci++) {
              const xv = x[xBase + gr * cInG + ci]!;
              const wRow = wBase + ci * cOut;
              for (let co = gr * cOutG; co < (gr + 1) * cOutG; co++) {
                acc[co]! += xv * w[wRow + co]!;
              }
            }
          }
        });
        if (relu) { for (let co = 0; co < cOut; co++) acc[co] = acc[co]! < 0 ? 0 : acc[co]!; }
        if (relu === 2) { for (let co = 0; co < cOut; co++) acc[co] = acc[co]! > 6 ? 6 : acc[co]!; }
        z.set(acc, ((i * outH + oh) * outW + ow) * cOut);
      }
    }
  }
  return z;
}

function convBackwardData(g: ConvGeometry, dz: Float32Array, w: Float32Array): Float32Array {
  const { m, cOut, outH, outW, groups } = g;
  const cInG = g.cIn / groups, cOutG = cOut / groups;
  const dx = new Float64Array(m * g.inH * g.inW * g.cIn);
  for (let i = 0; i < m; i++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const dzBase = ((i * outH + oh) * outW + ow) * cOut;
        forEachTap(g, i, oh, ow, (xBase, wBase) => {
          for (let gr = 0; gr < groups; gr++) {
            for (let ci = 0; ci < cInG; ci++) {
              const wRow = wBase + ci * cOut;
              let s = 0;
              for (let co = gr * cOutG; co < (gr + 1) * cOutG; co++) {
                s += w[wRow + co]! * dz[dzBase + co]!;
              }
              dx[xBase + gr * cInG + ci]! += s;
            }
          }
        });
      }
    }
  }
  return Float32Array.from(dx);
}

function convBackwardFilter(
  g: ConvGeometry,
  x: Float32Array,
  dz: Float32Array,
): { dW: Float32Array; db: Float32Array } {
  const { m, cOut, outH, outW, groups } = g;
  const cInG = g.cIn / groups, cOutG = cOut / groups;
  const dW = new Float64Array(g.fH * g.fW * cInG * cOut);
  const db = new Float64Array(cOut);
  for (let i = 0; i < m; i++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const dzBase = ((i * outH + oh) * outW + ow) * cOut;
        for (let co = 0; co < cOut; co++) db[co]! += dz[dzBase + co]!;
        forEachTap(g, i, oh, ow, (xBase, wBase) => {
          for (let gr = 0; gr < groups; gr++) {
            for (let ci = 0; ci < cInG; ci++) {
              const xv = x[xBase + gr * cInG + ci]!;
              const wRow = wBase + ci * cOut;
              for (let co = gr * cOutG; co < (gr + 1) * cOutG; co++) {
                dW[wRow + co]! += xv * dz[dzBase + co]!;
              }
            }
          }
        });
      }
    }
  }
  return { dW: Float32Array.from(dW), db: Float32Array.from(db) };
}

/**
 * The tap indices `[k0, k1)` along one axis whose positions `start + k·d`
 * fall in `[lo, hi)`, found arithmetically (a window may be far larger than
 * the input: only its in-bounds taps are ever visited).
 */
function tapRange(start: number, d: number, f: number, lo: number, hi: number): [number, number] {
  const k0 = start >= lo ? 0 : Math.min(f, Math.ceil((lo - start) / d));
  const k1 = start >= hi ? 0 : Math.min(f, Math.floor((hi - 1 - start) / d) + 1);
  return [k0, Math.max(k0, k1)];
}

/** The in-bounds taps of one pooling window, as offsets of pixel (·, ·, channel 0), row-major. */
function windowTaps(g: PoolGeometry, i: number, oh: number, ow: number): number[] {
  const taps: number[] = [];
  const sh = oh * g.strideH - g.padTop, sw = ow * g.strideW - g.padLeft;
  const [h0, h1] = tapRange(sh, g.dilationH, g.fH, 0, g.inH);
  const [w0, w1] = tapRange(sw, g.dilationW, g.fW, 0, g.inW);
  for (let kh = h0; kh < h1; kh++) {
    const ih = sh + kh * g.dilationH;
    for (let kw = w0; kw < w1; kw++) {
      taps.push(((i * g.inH + ih) * g.inW + sw + kw * g.dilationW) * g.c);
    }
  }
  return taps;
}

/** The divisor of an average window: its in-bounds taps, or with `countIncludePad` those inside the padded input. */
function windowCount(g: PoolGeometry, oh: number, ow: number, inBounds: number): number {
  if (!g.countIncludePad) return inBounds;
  const sh = oh * g.strideH - g.padTop, sw = ow * g.strideW - g.padLeft;
  const [h0, h1] = tapRange(sh, g.dilationH, g.fH, -g.padTop, g.inH + g.padBottom);
  const [w0, w1] = tapRange(sw, g.dilationW, g.fW, -g.padLeft, g.inW + g.padRight);
  return (h1 - h0) * (w1 - w0);
}

/** The index of the first maximum among `taps` (channel `ch`), or -1 if one is NaN. */
function argMax(x: Float32Array, taps: readonly number[], ch: number): number {
  let best = -Infinity, at = -1;
  for (const t of taps) {
    const v = x[t + ch]!;
    if (v !== v) return -1;
    if (v > best || at < 0) {
      best = v;
      at = t + ch;
    }
  }
  return at;
}

function poolForward(g: PoolGeometry, x: Float32Array, mode: PoolMode): Float32Array {
  const { m, c, outH, outW } = g;
  const y = new Float32Array(m * outH * outW * c);
  let o = 0;
  for (let i = 0; i < m; i++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const taps = windowTaps(g, i, oh, ow);
        const scale = 1 / windowCount(g, oh, ow, taps.length);
        for (let ch = 0; ch < c; ch++, o++) {
          if (mode === "max") {
            const at = argMax(x, taps, ch);
            y[o] = at < 0 ? NaN : x[at]!;
          } else {
            let s = 0;
            for (const t of taps) s += x[t + ch]!;
            y[o] = s * scale;
          }
        }
      }
    }
  }
  return y;
}

function poolBackward(
  g: PoolGeometry,
  x: Float32Array,
  dy: Float32Array,
  mode: PoolMode,
): Float32Array {
  const { m, c, outH, outW } = g;
  const dx = new Float64Array(m * g.inH * g.inW * c);
  let o = 0;
  for (let i = 0; i < m; i++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const taps = windowTaps(g, i, oh, ow);
        const scale = 1 / windowCount(g, oh, ow, taps.length);
        for (let ch = 0; ch < c; ch++, o++) {
          if (mode === "max") {
            const at = argMax(x, taps, ch);
            if (at >= 0) dx[at]! += dy[o]!;
          } else {
            const share = dy[o]! * scale;
            for (const t of taps) dx[t + ch]! += share;
          }
        }
      }
    }
  }
  return Float32Array.from(dx);
}

/**
 * The plain TypeScript kernels.
 *
 * @example Usage
 * ```ts
 * import { jsKernels } from "./js.ts";
 * jsKernels.backend; // "js"
 * ```
 */
/** The element-wise function `kind` of every element, with the platform's Math functions. */
function activation(kind: ActivationKind, x: Float32Array): Float32Array {
  const y = new Float32Array(x.length);
  switch (kind) {
    case "sigmoid":
      for (let i = 0; i < x.length; i++) y[i] = 1 / (1 + Math.exp(-x[i]!));
      break;
    case "tanh":
      for (let i = 0; i < x.length; i++) y[i] = Math.tanh(x[i]!);
      break;
    case "erf":
      for (let i = 0; i < x.length; i++) y[i] = erf(x[i]!);
      break;
    case "gelu":
      for (let i = 0; i < x.length; i++) y[i] = 0.5 * x[i]! * (1 + erf(x[i]! * Math.SQRT1_2));
      break;
    case "silu":
      for (let i = 0; i < x.length; i++) y[i] = x[i]! * Math.fround(1 / (1 + Math.exp(-x[i]!)));
      break;
    case "exp":
      for (let i = 0; i < x.length; i++) y[i] = Math.exp(x[i]!);
      break;
    case "log":
      for (let i = 0; i < x.length; i++) y[i] = Math.log(x[i]!);
      break;
    case "softplus":
      for (let i = 0; i < x.length; i++) y[i] = softplus(x[i]!);
      break;
    case "mish":
      for (let i = 0; i < x.length; i++) y[i] = mish(x[i]!);
      break;
    case "gelu_tanh": {
      const k = Math.sqrt(2 / Math.PI);
      for (let i = 0; i < x.length; i++) {
        const v = x[i]!;
        y[i] = 0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v * v * v)));
      }
    }
  }
  return y;
}

/** Concatenation along the last axis (see `Kernels.concatLast`): the twin of copy.ts `copyRows`. */
function concatLast(
  xs: readonly Float32Array[],
  widths: readonly number[],
  rows: number,
): Float32Array {
  const c = widths.reduce((a, b) => a + b, 0), out = new Float32Array(rows * c);
  let at = 0;
  xs.forEach((src, k) => {
    const w = widths[k]!;
    // A plain loop: subarray() per row costs more than copying a few channels.
    for (let r = 0; r < rows; r++) {
      const i0 = r * w, o0 = r * c + at;
      for (let j = 0; j < w; j++) out[o0 + j] = src[i0 + j]!;
    }
    at += w;
  });
  return out;
}

/** A block of each row's values (see `Kernels.sliceLast`). */
function sliceLast(x: Float32Array, c: number, begin: number, width: number): Float32Array {
  const rows = x.length / c, y = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const i0 = r * c + begin, o0 = r * width;
    for (let j = 0; j < width; j++) y[o0 + j] = x[i0 + j]!;
  }
  return y;
}

/** A residual sum (see `Kernels.addSame`): the twin of sum.ts `addArrays`. */
function addSame(xs: readonly Float32Array[], relu: boolean): Float32Array {
  const out = xs[0]!.slice();
  for (let k = 1; k < xs.length; k++) {
    const x = xs[k]!;
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + x[i]!;
  }
  if (relu) { for (let i = 0; i < out.length; i++) out[i] = out[i]! < 0 ? 0 : out[i]!; }
  return out;
}

/** A permutation of each row (see `Kernels.permuteLast`): the twin of copy.ts `permuteRows`. */
function permuteLast(x: Float32Array, perm: Int32Array): Float32Array {
  const c = perm.length, y = new Float32Array(x.length);
  for (let r = 0; r < x.length; r += c) {
    for (let k = 0; k < c; k++) y[r + k] = x[r + perm[k]!]!;
  }
  return y;
}

/** BatchNorm's affine map (see `Kernels.channelAffine`): the twin of norm.ts `channelAffine`. */
function channelAffine(
  x: Float32Array,
  c: number,
  mean: Float64Array,
  scale: Float64Array,
  shift: Float64Array,
  act: 0 | 1 | 2,
): Float32Array {
  const y = new Float32Array(x.length);
  if (act === 0) {
    for (let i = 0; i < x.length; i += c) {
      for (let k = 0; k < c; k++) y[i + k] = (x[i + k]! - mean[k]!) * scale[k]! + shift[k]!;
    }
    return y;
  }
  // The value rounded to float32 first, then clipped (NaN stays NaN).
  const hi = act === 2 ? 6 : Infinity;
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) {
      const v = Math.fround((x[i + k]! - mean[k]!) * scale[k]! + shift[k]!);
      y[i + k] = v < 0 ? 0 : v > hi ? hi : v;
    }
  }
  return y;
}

export const jsKernels: Kernels = {
  backend: "js",
  convForward,
  convBackwardData,
  convBackwardFilter,
  poolForward,
  poolBackward,
  activation,
  channelAffine,
  concatLast,
  sliceLast,
  permuteLast,
  addSame,
};

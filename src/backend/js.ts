// This module is browser compatible.

/**
 * The plain TypeScript backend: direct loops, float64 accumulation. It is the
 * reference twin of the WebAssembly kernels and the fallback where
 * WebAssembly SIMD is unavailable.
 *
 * @module
 */

import type { ConvGeometry, Kernels, PoolGeometry, PoolMode } from "./types.ts";

function convForward(
  g: ConvGeometry,
  x: Float32Array,
  w: Float32Array,
  b: Float32Array,
  relu = false,
): Float32Array {
  const { m, inH, inW, cIn, f, cOut, stride, pad, outH, outW } = g;
  const z = new Float32Array(m * outH * outW * cOut);
  const acc = new Float64Array(cOut);
  for (let i = 0; i < m; i++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        for (let co = 0; co < cOut; co++) acc[co] = b[co]!;
        for (let kh = 0; kh < f; kh++) {
          const ih = oh * stride + kh - pad;
          if (ih < 0 || ih >= inH) continue;
          for (let kw = 0; kw < f; kw++) {
            const iw = ow * stride + kw - pad;
            if (iw < 0 || iw >= inW) continue;
            const xBase = ((i * inH + ih) * inW + iw) * cIn;
            const wBase = (kh * f + kw) * cIn * cOut;
            for (let ci = 0; ci < cIn; ci++) {
              const xv = x[xBase + ci]!;
              const wRow = wBase + ci * cOut;
              for (let co = 0; co < cOut; co++) acc[co]! += xv * w[wRow + co]!;
            }
          }
        }
        if (relu) { for (let co = 0; co < cOut; co++) acc[co] = acc[co]! > 0 ? acc[co]! : 0; }
        z.set(acc, ((i * outH + oh) * outW + ow) * cOut);
      }
    }
  }
  return z;
}

function convBackwardData(g: ConvGeometry, dz: Float32Array, w: Float32Array): Float32Array {
  const { m, inH, inW, cIn, f, cOut, stride, pad, outH, outW } = g;
  const dx = new Float64Array(m * inH * inW * cIn);
  for (let i = 0; i < m; i++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const dzBase = ((i * outH + oh) * outW + ow) * cOut;
        for (let kh = 0; kh < f; kh++) {
          const ih = oh * stride + kh - pad;
          if (ih < 0 || ih >= inH) continue;
          for (let kw = 0; kw < f; kw++) {
            const iw = ow * stride + kw - pad;
            if (iw < 0 || iw >= inW) continue;
            const xBase = ((i * inH + ih) * inW + iw) * cIn;
            const wBase = (kh * f + kw) * cIn * cOut;
            for (let ci = 0; ci < cIn; ci++) {
              const wRow = wBase + ci * cOut;
              let s = 0;
              for (let co = 0; co < cOut; co++) s += w[wRow + co]! * dz[dzBase + co]!;
              dx[xBase + ci]! += s;
            }
          }
        }
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
  const { m, inH, inW, cIn, f, cOut, stride, pad, outH, outW } = g;
  const dW = new Float64Array(f * f * cIn * cOut);
  const db = new Float64Array(cOut);
  for (let i = 0; i < m; i++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const dzBase = ((i * outH + oh) * outW + ow) * cOut;
        for (let co = 0; co < cOut; co++) db[co]! += dz[dzBase + co]!;
        for (let kh = 0; kh < f; kh++) {
          const ih = oh * stride + kh - pad;
          if (ih < 0 || ih >= inH) continue;
          for (let kw = 0; kw < f; kw++) {
            const iw = ow * stride + kw - pad;
            if (iw < 0 || iw >= inW) continue;
            const xBase = ((i * inH + ih) * inW + iw) * cIn;
            const wBase = (kh * f + kw) * cIn * cOut;
            for (let ci = 0; ci < cIn; ci++) {
              const xv = x[xBase + ci]!;
              const wRow = wBase + ci * cOut;
              for (let co = 0; co < cOut; co++) dW[wRow + co]! += xv * dz[dzBase + co]!;
            }
          }
        }
      }
    }
  }
  return { dW: Float32Array.from(dW), db: Float32Array.from(db) };
}

/** The index (within `x`) of the first maximum of one channel's window, or -1 if it is NaN. */
function windowArgMax(g: PoolGeometry, x: Float32Array, base: number): number {
  const { inW, c, f } = g;
  let best = -Infinity;
  let at = -1;
  for (let kh = 0; kh < f; kh++) {
    for (let kw = 0; kw < f; kw++) {
      const k = base + (kh * inW + kw) * c;
      const v = x[k]!;
      if (v !== v) return -1;
      if (v > best || at < 0) {
        best = v;
        at = k;
      }
    }
  }
  return at;
}

function poolForward(g: PoolGeometry, x: Float32Array, mode: PoolMode): Float32Array {
  const { m, inH, inW, c, f, stride, outH, outW } = g;
  const y = new Float32Array(m * outH * outW * c);
  const scale = 1 / (f * f);
  let o = 0;
  for (let i = 0; i < m; i++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const corner = ((i * inH + oh * stride) * inW + ow * stride) * c;
        for (let ch = 0; ch < c; ch++, o++) {
          if (mode === "max") {
            const at = windowArgMax(g, x, corner + ch);
            y[o] = at < 0 ? NaN : x[at]!;
          } else {
            let s = 0;
            for (let kh = 0; kh < f; kh++) {
              for (let kw = 0; kw < f; kw++) s += x[corner + ch + (kh * inW + kw) * c]!;
            }
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
  const { m, inH, inW, c, f, stride, outH, outW } = g;
  const dx = new Float64Array(x.length);
  const scale = 1 / (f * f);
  let o = 0;
  for (let i = 0; i < m; i++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const corner = ((i * inH + oh * stride) * inW + ow * stride) * c;
        for (let ch = 0; ch < c; ch++, o++) {
          if (mode === "max") {
            const at = windowArgMax(g, x, corner + ch);
            if (at >= 0) dx[at]! += dy[o]!;
          } else {
            const share = dy[o]! * scale;
            for (let kh = 0; kh < f; kh++) {
              for (let kw = 0; kw < f; kw++) dx[corner + ch + (kh * inW + kw) * c]! += share;
            }
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
export const jsKernels: Kernels = {
  backend: "js",
  convForward,
  convBackwardData,
  convBackwardFilter,
  poolForward,
  poolBackward,
};

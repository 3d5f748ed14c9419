/**
 * An independent float64 implementation of the seed's functions, written
 * from the definitions (explicit zero padding, index arithmetic spelled
 * out) rather than from the library, to serve as the oracle.
 *
 * @module
 */

/** A float64 NHWC array with its dims. */
export interface F64 {
  shape: number[];
  data: Float64Array;
}

const at4 = (s: number[], a: number, b: number, c: number, d: number) =>
  ((a * s[1]! + b) * s[2]! + c) * s[3]! + d;

/** Zero-pads height and width. */
export function pad64(x: F64, pad: number): F64 {
  const [m, h, w, c] = x.shape as unknown as readonly [number, number, number, number];
  const s = [m, h + 2 * pad, w + 2 * pad, c];
  const out = new Float64Array(s[0]! * s[1]! * s[2]! * s[3]!);
  for (let i = 0; i < m; i++) {
    for (let r = 0; r < h; r++) {
      for (let q = 0; q < w; q++) {
        for (let k = 0; k < c; k++) {
          out[at4(s, i, r + pad, q + pad, k)] = x.data[at4(x.shape, i, r, q, k)]!;
        }
      }
    }
  }
  return { shape: s, data: out };
}

/** Convolution forward, float64. */
export function convForward64(
  x: F64,
  w: F64,
  b: ArrayLike<number>,
  stride: number,
  pad: number,
): F64 {
  const xp = pad64(x, pad);
  const [m, hp, wp] = xp.shape as unknown as readonly [number, number, number];
  const [f, , cIn, cOut] = w.shape as unknown as readonly [number, number, number, number];
  // Output sizes computed here on purpose, not by the library: the oracle stays independent.
  const nH = Math.floor((hp - f) / stride) + 1;
  const nW = Math.floor((wp - f) / stride) + 1;
  const s = [m, nH, nW, cOut];
  const z = new Float64Array(m * nH * nW * cOut);
  for (let i = 0; i < m; i++) {
    for (let h = 0; h < nH; h++) {
      for (let q = 0; q < nW; q++) {
        for (let co = 0; co < cOut; co++) {
          let acc = b[co]!;
          for (let a = 0; a < f; a++) {
            for (let bb = 0; bb < f; bb++) {
              for (let ci = 0; ci < cIn; ci++) {
                acc += xp.data[at4(xp.shape, i, h * stride + a, q * stride + bb, ci)]! *
                  w.data[at4(w.shape, a, bb, ci, co)]!;
              }
            }
          }
          z[at4(s, i, h, q, co)] = acc;
        }
      }
    }
  }
  return { shape: s, data: z };
}

/** Convolution backward, float64: windows at h·stride, padding stripped. */
export function convBackward64(
  dZ: F64,
  x: F64,
  w: F64,
  stride: number,
  pad: number,
): { dA: F64; dW: F64; db: Float64Array } {
  const xp = pad64(x, pad);
  const dAp = { shape: xp.shape, data: new Float64Array(xp.data.length) };
  const [f, , cIn, cOut] = w.shape as unknown as readonly [number, number, number, number];
  const dW = { shape: w.shape, data: new Float64Array(w.data.length) };
  const db = new Float64Array(cOut);
  const [m, nH, nW] = dZ.shape as unknown as readonly [number, number, number];
  for (let i = 0; i < m; i++) {
    for (let h = 0; h < nH; h++) {
      for (let q = 0; q < nW; q++) {
        for (let co = 0; co < cOut; co++) {
          const g = dZ.data[at4(dZ.shape, i, h, q, co)]!;
          db[co]! += g;
          for (let a = 0; a < f; a++) {
            for (let bb = 0; bb < f; bb++) {
              for (let ci = 0; ci < cIn; ci++) {
                const pi = at4(xp.shape, i, h * stride + a, q * stride + bb, ci);
                const wi = at4(w.shape, a, bb, ci, co);
                dAp.data[pi]! += w.data[wi]! * g;
                dW.data[wi]! += xp.data[pi]! * g;
              }
            }
          }
        }
      }
    }
  }
  const [, H, W] = x.shape as unknown as readonly [number, number, number];
  const dA = { shape: x.shape, data: new Float64Array(x.data.length) };
  for (let i = 0; i < m; i++) {
    for (let r = 0; r < H; r++) {
      for (let q = 0; q < W; q++) {
        for (let k = 0; k < cIn; k++) {
          dA.data[at4(x.shape, i, r, q, k)] = dAp.data[at4(xp.shape, i, r + pad, q + pad, k)]!;
        }
      }
    }
  }
  return { dA, dW, db };
}

/** Pool forward, float64. */
export function poolForward64(x: F64, f: number, stride: number, mode: "max" | "average"): F64 {
  const [m, H, W, c] = x.shape as unknown as readonly [number, number, number, number];
  const nH = Math.floor((H - f) / stride) + 1;
  const nW = Math.floor((W - f) / stride) + 1;
  const s = [m, nH, nW, c];
  const out = new Float64Array(m * nH * nW * c);
  for (let i = 0; i < m; i++) {
    for (let h = 0; h < nH; h++) {
      for (let q = 0; q < nW; q++) {
        for (let k = 0; k < c; k++) {
          const vals: number[] = [];
          for (let a = 0; a < f; a++) {
            for (let bb = 0; bb < f; bb++) {
              vals.push(x.data[at4(x.shape, i, h * stride + a, q * stride + bb, k)]!);
            }
          }
          out[at4(s, i, h, q, k)] = mode === "max"
            ? Math.max(...vals)
            : vals.reduce((p, v) => p + v, 0) / vals.length;
        }
      }
    }
  }
  return { shape: s, data: out };
}

/** Pool backward, float64; max routes to the first maximum in row-major window order. */
export function poolBackward64(
  dA: F64,
  x: F64,
  f: number,
  stride: number,
  mode: "max" | "average",
): F64 {
  const [m, nH, nW, c] = dA.shape as unknown as readonly [number, number, number, number];
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < m; i++) {
    for (let h = 0; h < nH; h++) {
      for (let q = 0; q < nW; q++) {
        for (let k = 0; k < c; k++) {
          const g = dA.data[at4(dA.shape, i, h, q, k)]!;
          let best = -Infinity;
          let bestAt = -1;
          for (let a = 0; a < f; a++) {
            for (let bb = 0; bb < f; bb++) {
              const idx = at4(x.shape, i, h * stride + a, q * stride + bb, k);
              if (mode === "average") out[idx]! += g / (f * f);
              else if (bestAt < 0 || x.data[idx]! > best) {
                best = x.data[idx]!;
                bestAt = idx;
              }
            }
          }
          if (mode === "max") out[bestAt]! += g;
        }
      }
    }
  }
  return { shape: x.shape, data: out };
}

/** Widens a library tensor to float64. */
export function f64(t: { shape: readonly number[]; data: Float32Array }): F64 {
  return { shape: [...t.shape], data: Float64Array.from(t.data) };
}

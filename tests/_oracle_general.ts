/**
 * The float64 oracle for every 2-D geometry: per-axis strides, asymmetric
 * padding, dilation, groups, transposed convolution, and pooling with
 * padding, dilation, ceil mode and countIncludePad. Written from the
 * definitions (an explicitly padded input, output sizes found by counting
 * the windows that fit) rather than from the library.
 *
 * @module
 */

import type { F64 } from "./_oracle.ts";

/** Convolution hyper-parameters, fully spelled out. */
export interface ConvHp {
  stride: [number, number];
  pads: [number, number, number, number];
  dilation: [number, number];
  groups: number;
}

/** Pooling hyper-parameters, fully spelled out. */
export interface PoolHp {
  f: [number, number];
  stride: [number, number];
  pads: [number, number, number, number];
  dilation: [number, number];
  ceilMode: boolean;
  countIncludePad: boolean;
}

const idx = (s: readonly number[], a: number, b: number, c: number, d: number) =>
  ((a * s[1]! + b) * s[2]! + c) * s[3]! + d;
const dims = (t: F64) => t.shape as unknown as [number, number, number, number];

/** x with `t, b, l, r` zeros around height and width. */
function padded(x: F64, [t, b, l, r]: readonly number[]): F64 {
  const [m, h, w, c] = dims(x);
  const s = [m, h + t! + b!, w + l! + r!, c];
  const out = new Float64Array(s[0]! * s[1]! * s[2]! * s[3]!);
  for (let i = 0; i < m; i++) {
    for (let y = 0; y < h; y++) {
      for (let q = 0; q < w; q++) {
        for (let k = 0; k < c; k++) {
          out[idx(s, i, y + t!, q + l!, k)] = x.data[idx(x.shape, i, y, q, k)]!;
        }
      }
    }
  }
  return { shape: s, data: out };
}

/** How many windows of extent `e`, `s` apart, fit in `n` positions. */
function fits(n: number, e: number, s: number): number {
  let k = 0;
  while (k * s + e <= n) k++;
  return k;
}

/** Convolution forward: `z = b + Σ x_padded · w` over each group's channels. */
export function convForwardG64(x: F64, w: F64, b: ArrayLike<number>, hp: ConvHp): F64 {
  const xp = padded(x, hp.pads);
  const [m, H, W, cIn] = dims(xp);
  const [fH, fW, cInG, cOut] = dims(w);
  const [sh, sw] = hp.stride, [dh, dw] = hp.dilation, cOutG = cOut / hp.groups;
  const nH = fits(H, dh * (fH - 1) + 1, sh), nW = fits(W, dw * (fW - 1) + 1, sw);
  const s = [m, nH, nW, cOut];
  const z = new Float64Array(m * nH * nW * cOut);
  for (let i = 0; i < m; i++) {
    for (let oy = 0; oy < nH; oy++) {
      for (let ox = 0; ox < nW; ox++) {
        for (let co = 0; co < cOut; co++) {
          const g = Math.floor(co / cOutG);
          let acc = b[co]!;
          for (let a = 0; a < fH; a++) {
            for (let c = 0; c < fW; c++) {
              for (let ci = 0; ci < cInG; ci++) {
                acc +=
                  xp.data[idx(xp.shape, i, oy * sh + a * dh, ox * sw + c * dw, g * cInG + ci)]! *
                  w.data[idx(w.shape, a, c, ci, co)]!;
              }
            }
          }
          z[idx(s, i, oy, ox, co)] = acc;
        }
      }
    }
  }
  void cIn;
  return { shape: s, data: z };
}

/** Convolution backward: the gradients of `Σ dZ · z` with respect to x, w and b. */
export function convBackwardG64(
  dZ: F64,
  x: F64,
  w: F64,
  hp: ConvHp,
): { dA: F64; dW: F64; db: Float64Array } {
  const xp = padded(x, hp.pads);
  const dXp = { shape: xp.shape, data: new Float64Array(xp.data.length) };
  const dW = { shape: w.shape, data: new Float64Array(w.data.length) };
  const [m, nH, nW, cOut] = dims(dZ);
  const [fH, fW, cInG] = dims(w);
  const [sh, sw] = hp.stride, [dh, dw] = hp.dilation, cOutG = cOut / hp.groups;
  const db = new Float64Array(cOut);
  for (let i = 0; i < m; i++) {
    for (let oy = 0; oy < nH; oy++) {
      for (let ox = 0; ox < nW; ox++) {
        for (let co = 0; co < cOut; co++) {
          const gz = dZ.data[idx(dZ.shape, i, oy, ox, co)]!;
          const g = Math.floor(co / cOutG);
          db[co]! += gz;
          for (let a = 0; a < fH; a++) {
            for (let c = 0; c < fW; c++) {
              for (let ci = 0; ci < cInG; ci++) {
                const pi = idx(xp.shape, i, oy * sh + a * dh, ox * sw + c * dw, g * cInG + ci);
                const wi = idx(w.shape, a, c, ci, co);
                dXp.data[pi]! += w.data[wi]! * gz;
                dW.data[wi]! += xp.data[pi]! * gz;
              }
            }
          }
        }
      }
    }
  }
  const [, h, wd, c] = dims(x);
  const [t, , l] = hp.pads;
  const dA = { shape: x.shape, data: new Float64Array(x.data.length) };
  for (let i = 0; i < m; i++) {
    for (let y = 0; y < h; y++) {
      for (let q = 0; q < wd; q++) {
        for (let k = 0; k < c; k++) {
          dA.data[idx(x.shape, i, y, q, k)] = dXp.data[idx(xp.shape, i, y + t, q + l, k)]!;
        }
      }
    }
  }
  return { dA, dW, db };
}

/**
 * Transposed convolution forward: every input pixel adds `x · w` into a
 * full-size output (`(h − 1)·stride + dilation·(f − 1) + 1 + outputPadding`),
 * which is then cropped by the padding; w is `[fH, fW, cOut / groups, cIn]`.
 */
export function convTransposeForwardG64(
  x: F64,
  w: F64,
  b: ArrayLike<number>,
  hp: ConvHp,
  outputPadding: [number, number],
): F64 {
  const [m, h, wd, cIn] = dims(x);
  const [fH, fW, cOutG] = dims(w);
  const cOut = cOutG * hp.groups, cInG = cIn / hp.groups;
  const [sh, sw] = hp.stride, [dh, dw] = hp.dilation, [t, bo, l, r] = hp.pads;
  const FH = (h - 1) * sh + dh * (fH - 1) + 1 + outputPadding[0];
  const FW = (wd - 1) * sw + dw * (fW - 1) + 1 + outputPadding[1];
  const full = new Float64Array(m * FH * FW * cOut);
  const fs = [m, FH, FW, cOut];
  for (let i = 0; i < m; i++) {
    for (let y = 0; y < h; y++) {
      for (let q = 0; q < wd; q++) {
        for (let ci = 0; ci < cIn; ci++) {
          const g = Math.floor(ci / cInG);
          const xv = x.data[idx(x.shape, i, y, q, ci)]!;
          for (let a = 0; a < fH; a++) {
            for (let c = 0; c < fW; c++) {
              for (let col = 0; col < cOutG; col++) {
                full[idx(fs, i, y * sh + a * dh, q * sw + c * dw, g * cOutG + col)]! += xv *
                  w.data[idx(w.shape, a, c, col, ci)]!;
              }
            }
          }
        }
      }
    }
  }
  const oH = FH - t - bo, oW = FW - l - r;
  const s = [m, oH, oW, cOut];
  const z = new Float64Array(m * oH * oW * cOut);
  for (let i = 0; i < m; i++) {
    for (let y = 0; y < oH; y++) {
      for (let q = 0; q < oW; q++) {
        for (let co = 0; co < cOut; co++) {
          z[idx(s, i, y, q, co)] = full[idx(fs, i, y + t, q + l, co)]! + b[co]!;
        }
      }
    }
  }
  return { shape: s, data: z };
}

/** Transposed convolution backward, by the same full-size construction. */
export function convTransposeBackwardG64(
  dZ: F64,
  x: F64,
  w: F64,
  hp: ConvHp,
  outputPadding: [number, number],
): { dX: F64; dW: F64; db: Float64Array } {
  const [m, h, wd, cIn] = dims(x);
  const [fH, fW, cOutG] = dims(w);
  const cOut = cOutG * hp.groups, cInG = cIn / hp.groups;
  const [sh, sw] = hp.stride, [dh, dw] = hp.dilation, [t, , l] = hp.pads;
  const [, oH, oW] = dims(dZ);
  const dX = { shape: x.shape, data: new Float64Array(x.data.length) };
  const dW = { shape: w.shape, data: new Float64Array(w.data.length) };
  const db = new Float64Array(cOut);
  for (let k = 0; k < dZ.data.length; k++) db[k % cOut]! += dZ.data[k]!;
  for (let i = 0; i < m; i++) {
    for (let y = 0; y < h; y++) {
      for (let q = 0; q < wd; q++) {
        for (let ci = 0; ci < cIn; ci++) {
          const g = Math.floor(ci / cInG);
          const xi = idx(x.shape, i, y, q, ci);
          for (let a = 0; a < fH; a++) {
            const zy = y * sh + a * dh - t;
            if (zy < 0 || zy >= oH) continue;
            for (let c = 0; c < fW; c++) {
              const zx = q * sw + c * dw - l;
              if (zx < 0 || zx >= oW) continue;
              for (let col = 0; col < cOutG; col++) {
                const gz = dZ.data[idx(dZ.shape, i, zy, zx, g * cOutG + col)]!;
                const wi = idx(w.shape, a, c, col, ci);
                dX.data[xi]! += w.data[wi]! * gz;
                dW.data[wi]! += x.data[xi]! * gz;
              }
            }
          }
        }
      }
    }
  }
  void outputPadding;
  return { dX, dW, db };
}

/** The output length of a pooling along one axis, by counting window starts. */
function poolCount(
  n: number,
  f: number,
  s: number,
  d: number,
  pb: number,
  pe: number,
  ceil: boolean,
) {
  const e = d * (f - 1) + 1, span = n + pb + pe;
  let k = 0;
  // floor: the window fits; ceil: its predecessor did not reach the end, and it starts before the end padding.
  while (ceil ? (k * s < n + pb && (k === 0 || (k - 1) * s + e < span)) : k * s + e <= span) k++;
  return k;
}

/** The in-bounds taps (as input coordinates) and the divisor of one window. */
function window(
  hp: PoolHp,
  H: number,
  W: number,
  oy: number,
  ox: number,
): { taps: [number, number][]; count: number } {
  const taps: [number, number][] = [];
  let padded = 0;
  const [t, b, l, r] = hp.pads;
  for (let a = 0; a < hp.f[0]; a++) {
    const y = oy * hp.stride[0] + a * hp.dilation[0] - t;
    for (let c = 0; c < hp.f[1]; c++) {
      const q = ox * hp.stride[1] + c * hp.dilation[1] - l;
      if (y >= -t && y < H + b && q >= -l && q < W + r) padded++;
      if (y >= 0 && y < H && q >= 0 && q < W) taps.push([y, q]);
    }
  }
  return { taps, count: hp.countIncludePad ? padded : taps.length };
}

/** Pooling forward. */
export function poolForwardG64(x: F64, hp: PoolHp, mode: "max" | "average"): F64 {
  const [m, H, W, c] = dims(x);
  const [t, b, l, r] = hp.pads;
  const nH = poolCount(H, hp.f[0], hp.stride[0], hp.dilation[0], t, b, hp.ceilMode);
  const nW = poolCount(W, hp.f[1], hp.stride[1], hp.dilation[1], l, r, hp.ceilMode);
  const s = [m, nH, nW, c];
  const out = new Float64Array(m * nH * nW * c);
  for (let i = 0; i < m; i++) {
    for (let oy = 0; oy < nH; oy++) {
      for (let ox = 0; ox < nW; ox++) {
        const { taps, count } = window(hp, H, W, oy, ox);
        for (let k = 0; k < c; k++) {
          const vals = taps.map(([y, q]) => x.data[idx(x.shape, i, y, q, k)]!);
          out[idx(s, i, oy, ox, k)] = mode === "max"
            ? Math.max(...vals)
            : vals.reduce((p, v) => p + v, 0) / count;
        }
      }
    }
  }
  return { shape: s, data: out };
}

/** Pooling backward; max routes to the first maximum in row-major window order. */
export function poolBackwardG64(dA: F64, x: F64, hp: PoolHp, mode: "max" | "average"): F64 {
  const [m, nH, nW, c] = dims(dA);
  const [, H, W] = dims(x);
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < m; i++) {
    for (let oy = 0; oy < nH; oy++) {
      for (let ox = 0; ox < nW; ox++) {
        const { taps, count } = window(hp, H, W, oy, ox);
        for (let k = 0; k < c; k++) {
          const g = dA.data[idx(dA.shape, i, oy, ox, k)]!;
          if (mode === "average") {
            for (const [y, q] of taps) out[idx(x.shape, i, y, q, k)]! += g / count;
            continue;
          }
          let best = -Infinity, at = -1;
          for (const [y, q] of taps) {
            const j = idx(x.shape, i, y, q, k);
            if (at < 0 || x.data[j]! > best) {
              best = x.data[j]!;
              at = j;
            }
          }
          out[at]! += g;
        }
      }
    }
  }
  return { shape: x.shape, data: out };
}

// Depthwise convolution (groups = cIn: each channel has its own filters),
// forward and backward, SIMD over channels. A GEMM per group would be 1 × mult
// wide; here the window loop runs per output pixel with 16 channels (four
// vectors) in registers, then single vectors, then a scalar tail.
//
// Layouts (the host packs and unpacks; M = m·outH·outW, c = cIn):
//   xp  the padded input [m, inH + pT + pB, inW + pL + pR, c]
//   wp  the filters packed [fH, fW, mult, c] (ours are [fH, fW, 1, c·mult],
//       output channel c·mult + j)
//   bp  the biases packed [mult, c]
//   zt  the output [M, mult, c] (for mult = 1, the output itself)
// dwForwardRows reads the unpadded input [m, inH, inW, c] instead of xp.
// The geometry is the same block as the convolution's (see conv.ts).

import { EPILOGUE_RELU6, Geo } from "./abi";

// @ts-ignore: decorator
@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/**
 * One output pixel's `mult · c` values at `out`: the bias plus nh × nw taps,
 * the input read from `p0` (steps `rowStep`, `colStep` in bytes) and the
 * filters from `w0` (steps `wRow`, `wTap`), taps in row-major order.
 */
// @ts-ignore: decorator
@inline function dwPixel(
  p0: usize, w0: usize, bp: usize, out: usize, c: i32, mult: i32, nh: i32, nw: i32,
  rowStep: usize, colStep: usize, wRow: usize, wTap: usize, relu: i32,
): void {
  const cb = <usize>c << 2;
  const zero = f32x4.splat(0), six = f32x4.splat(6);
  for (let j = 0; j < mult; j++) {
    const wj = w0 + <usize>j * cb, bj = bp + <usize>j * cb;
    let ch = 0;
    for (; ch + 16 <= c; ch += 16) {
      const o = <usize>ch << 2;
      let a0 = v128.load(bj + o), a1 = v128.load(bj + o, 16);
      let a2 = v128.load(bj + o, 32), a3 = v128.load(bj + o, 48);
      for (let kh = 0; kh < nh; kh++) {
        let p = p0 + <usize>kh * rowStep + o;
        let w = wj + <usize>kh * wRow + o;
        for (let kw = 0; kw < nw; kw++) {
          a0 = fma(v128.load(p), v128.load(w), a0);
          a1 = fma(v128.load(p, 16), v128.load(w, 16), a1);
          a2 = fma(v128.load(p, 32), v128.load(w, 32), a2);
          a3 = fma(v128.load(p, 48), v128.load(w, 48), a3);
          p += colStep;
          w += wTap;
        }
      }
      if (relu) {
        a0 = f32x4.pmax(a0, zero); a1 = f32x4.pmax(a1, zero);
        a2 = f32x4.pmax(a2, zero); a3 = f32x4.pmax(a3, zero);
      }
      if (relu == EPILOGUE_RELU6) {
        a0 = f32x4.pmin(a0, six); a1 = f32x4.pmin(a1, six);
        a2 = f32x4.pmin(a2, six); a3 = f32x4.pmin(a3, six);
      }
      v128.store(out + o, a0); v128.store(out + o, a1, 16);
      v128.store(out + o, a2, 32); v128.store(out + o, a3, 48);
    }
    for (; ch + 4 <= c; ch += 4) {
      const o = <usize>ch << 2;
      let a = v128.load(bj + o);
      for (let kh = 0; kh < nh; kh++) {
        let p = p0 + <usize>kh * rowStep + o;
        let w = wj + <usize>kh * wRow + o;
        for (let kw = 0; kw < nw; kw++) {
          a = fma(v128.load(p), v128.load(w), a);
          p += colStep;
          w += wTap;
        }
      }
      if (relu) a = f32x4.pmax(a, zero);
      if (relu == EPILOGUE_RELU6) a = f32x4.pmin(a, six);
      v128.store(out + o, a);
    }
    for (; ch < c; ch++) {
      const o = <usize>ch << 2;
      let a: f32 = load<f32>(bj + o);
      for (let kh = 0; kh < nh; kh++) {
        let p = p0 + <usize>kh * rowStep + o;
        let w = wj + <usize>kh * wRow + o;
        for (let kw = 0; kw < nw; kw++) {
          a += load<f32>(p) * load<f32>(w);
          p += colStep;
          w += wTap;
        }
      }
      if (relu) a = a < 0 ? 0 : a;
      if (relu == EPILOGUE_RELU6) a = a > 6 ? 6 : a;
      store<f32>(out + o, a);
    }
    out += cb;
  }
}

/** zt = depthwise(xp, wp) + bp, then max(0, ·) if `relu` (1), min(max(0, ·), 6) if `relu` is 2. */
export function dwForward(geo: usize, xp: usize, wp: usize, bp: usize, zt: usize, relu: i32, mult: i32): void {
  const g = changetype<Geo>(geo);
  const c = g.cIn, fH = g.fH, fW = g.fW;
  const Hp = g.inH + g.pT + g.pB, Wp = g.inW + g.pL + g.pR;
  const rowStep = (<usize>(g.dH * Wp * c)) << 2;
  const colStep = (<usize>(g.dW * c)) << 2;
  const wTap = <usize>mult * (<usize>c << 2);
  const wRow = <usize>fW * wTap;
  const pixel = <usize>mult * (<usize>c << 2);
  let out = zt;
  for (let i = 0; i < g.m; i++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        const base = xp + ((<usize>((i * Hp + oh * g.sH) * Wp + ow * g.sW) * <usize>c) << 2);
        dwPixel(base, wp, bp, out, c, mult, fH, fW, rowStep, colStep, wRow, wTap, relu);
        out += pixel;
      }
    }
  }
}

/** The first tap `k` of `f` whose input `o·s − pad + k·d` is at least 0. */
// @ts-ignore: decorator
@inline function firstTap(o: i32, s: i32, pad: i32, d: i32): i32 {
  const t = pad - o * s;
  return t <= 0 ? 0 : (t + d - 1) / d;
}

/** One past the last tap `k < f` whose input `o·s − pad + k·d` is below `n`. */
// @ts-ignore: decorator
@inline function endTap(o: i32, s: i32, pad: i32, d: i32, n: i32, f: i32): i32 {
  const u = n - 1 + pad - o * s;
  return u < 0 ? 0 : min(f, u / d + 1);
}

/**
 * Output rows r0 ≤ r < r1 (of the batch's m · outH) of the depthwise
 * convolution read from the input `x` itself, unpadded [m, inH, inW, c]: the
 * taps that fall on padding are left out. With finite filters every value
 * is the padded kernel's (a padded tap adds 0·w), without a padded copy.
 */
export function dwForwardRows(
  geo: usize, x: usize, wp: usize, bp: usize, zt: usize, relu: i32, mult: i32, r0: i32, r1: i32,
): void {
  const g = changetype<Geo>(geo);
  const c = g.cIn, fH = g.fH, fW = g.fW, inH = g.inH, inW = g.inW, outH = g.outH, outW = g.outW;
  const cb = <usize>c << 2;
  const rowStep = (<usize>(g.dH * inW)) * cb;
  const colStep = <usize>g.dW * cb;
  const wTap = <usize>mult * cb;
  const wRow = <usize>fW * wTap;
  const pixel = <usize>mult * cb;
  let out = zt + <usize>r0 * <usize>outW * pixel;
  for (let r = r0; r < r1; r++) {
    const i = r / outH, oh = r - i * outH;
    const kh0 = firstTap(oh, g.sH, g.pT, g.dH), kh1 = endTap(oh, g.sH, g.pT, g.dH, inH, fH);
    const nh = kh1 > kh0 ? kh1 - kh0 : 0;
    const ih0 = oh * g.sH - g.pT + kh0 * g.dH;
    for (let ow = 0; ow < outW; ow++) {
      const kw0 = firstTap(ow, g.sW, g.pL, g.dW), kw1 = endTap(ow, g.sW, g.pL, g.dW, inW, fW);
      const nw = kw1 > kw0 ? kw1 - kw0 : 0;
      const iw0 = ow * g.sW - g.pL + kw0 * g.dW;
      const p0 = x + <usize>((i * inH + ih0) * inW + iw0) * cb;
      const w0 = wp + <usize>kh0 * wRow + <usize>kw0 * wTap;
      dwPixel(p0, w0, bp, out, c, mult, nh, nh > 0 ? nw : 0, rowStep, colStep, wRow, wTap, relu);
      out += pixel;
    }
  }
}

/** dxp (padded, zeroed here) = Σ over windows of dzt · wp. */
export function dwBackwardData(geo: usize, dzt: usize, wp: usize, dxp: usize, mult: i32): void {
  const g = changetype<Geo>(geo);
  const c = g.cIn, fH = g.fH, fW = g.fW;
  const Hp = g.inH + g.pT + g.pB, Wp = g.inW + g.pL + g.pR;
  const rowStep = (<usize>(g.dH * Wp * c)) << 2;
  const colStep = (<usize>(g.dW * c)) << 2;
  const cb = <usize>c << 2;
  const wTap = <usize>mult * cb;
  const wRow = <usize>fW * wTap;
  memory.fill(dxp, 0, (<usize>(g.m * Hp * Wp * c)) << 2);
  let gz = dzt;
  for (let i = 0; i < g.m; i++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        const base = dxp + ((<usize>((i * Hp + oh * g.sH) * Wp + ow * g.sW) * <usize>c) << 2);
        for (let j = 0; j < mult; j++) {
          const wj = wp + <usize>j * cb;
          let ch = 0;
          for (; ch + 8 <= c; ch += 8) {
            const o = <usize>ch << 2;
            const g0 = v128.load(gz + o), g1 = v128.load(gz + o, 16);
            for (let kh = 0; kh < fH; kh++) {
              let p = base + <usize>kh * rowStep + o;
              let w = wj + <usize>kh * wRow + o;
              for (let kw = 0; kw < fW; kw++) {
                v128.store(p, fma(g0, v128.load(w), v128.load(p)));
                v128.store(p, fma(g1, v128.load(w, 16), v128.load(p, 16)), 16);
                p += colStep;
                w += wTap;
              }
            }
          }
          for (; ch + 4 <= c; ch += 4) {
            const o = <usize>ch << 2;
            const g0 = v128.load(gz + o);
            for (let kh = 0; kh < fH; kh++) {
              let p = base + <usize>kh * rowStep + o;
              let w = wj + <usize>kh * wRow + o;
              for (let kw = 0; kw < fW; kw++) {
                v128.store(p, fma(g0, v128.load(w), v128.load(p)));
                p += colStep;
                w += wTap;
              }
            }
          }
          for (; ch < c; ch++) {
            const o = <usize>ch << 2;
            const g0 = load<f32>(gz + o);
            for (let kh = 0; kh < fH; kh++) {
              let p = base + <usize>kh * rowStep + o;
              let w = wj + <usize>kh * wRow + o;
              for (let kw = 0; kw < fW; kw++) {
                store<f32>(p, load<f32>(p) + g0 * load<f32>(w));
                p += colStep;
                w += wTap;
              }
            }
          }
          gz += cb;
        }
      }
    }
  }
}

/** dwp [fH, fW, mult, c] = Σ over output pixels of xp(tap) · dzt. */
export function dwBackwardFilter(geo: usize, xp: usize, dzt: usize, dwp: usize, mult: i32): void {
  const g = changetype<Geo>(geo);
  const c = g.cIn, fH = g.fH, fW = g.fW, outH = g.outH, outW = g.outW;
  const Hp = g.inH + g.pT + g.pB, Wp = g.inW + g.pL + g.pR;
  const cb = <usize>c << 2;
  const pixStep = <usize>mult * cb;
  const sCol = (<usize>(g.sW * c)) << 2;
  for (let kh = 0; kh < fH; kh++) {
    for (let kw = 0; kw < fW; kw++) {
      const tap = (<usize>((kh * g.dH * Wp + kw * g.dW) * c)) << 2;
      for (let j = 0; j < mult; j++) {
        const dst = dwp + ((<usize>((kh * fW + kw) * mult + j)) * cb);
        let ch = 0;
        for (; ch + 8 <= c; ch += 8) {
          const o = <usize>ch << 2;
          let a0 = f32x4.splat(0), a1 = a0;
          let gz = dzt + <usize>j * cb + o;
          for (let i = 0; i < g.m; i++) {
            for (let oh = 0; oh < outH; oh++) {
              let p = xp + ((<usize>((i * Hp + oh * g.sH) * Wp) * <usize>c) << 2) + tap + o;
              for (let ow = 0; ow < outW; ow++) {
                a0 = fma(v128.load(p), v128.load(gz), a0);
                a1 = fma(v128.load(p, 16), v128.load(gz, 16), a1);
                p += sCol;
                gz += pixStep;
              }
            }
          }
          v128.store(dst + o, a0);
          v128.store(dst + o, a1, 16);
        }
        for (; ch < c; ch++) {
          const o = <usize>ch << 2;
          let a: f32 = 0;
          let gz = dzt + <usize>j * cb + o;
          for (let i = 0; i < g.m; i++) {
            for (let oh = 0; oh < outH; oh++) {
              let p = xp + ((<usize>((i * Hp + oh * g.sH) * Wp) * <usize>c) << 2) + tap + o;
              for (let ow = 0; ow < outW; ow++) {
                a += load<f32>(p) * load<f32>(gz);
                p += sCol;
                gz += pixStep;
              }
            }
          }
          store<f32>(dst + o, a);
        }
      }
    }
  }
}

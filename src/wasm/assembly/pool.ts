// Max and average pooling, forward and backward, SIMD over channels (NHWC
// keeps a pixel's channels contiguous), for every geometry: rectangular
// windows, per-axis strides, asymmetric padding, dilation, ceil mode.
//
// Each window visits only its in-bounds taps (padding never wins a maximum);
// an average divides by the in-bounds count, or with countIncludePad by the
// taps inside the padded input. Channels go in chunks of 16 (four vectors held
// in registers across the whole window), then single vectors, then a scalar
// tail. Every call gets the geometry as a pointer to a block of i32s the host
// writes (see `PoolGeo` in abi.ts), so calls are stateless.

import { POOL_MAX, PoolGeo } from "./abi";

/** The first tap index k in [0, f) whose position o·s − p + k·d is ≥ lo. */
// @ts-ignore: decorator
@inline function firstTap(start: i32, d: i32, f: i32, lo: i32): i32 {
  if (start >= lo) return 0;
  return min(f, (lo - start + d - 1) / d);
}

/** One past the last tap index k in [0, f) whose position is < hi. */
// @ts-ignore: decorator
@inline function endTap(start: i32, d: i32, f: i32, hi: i32): i32 {
  if (start >= hi) return 0;
  return min(f, (hi - 1 - start) / d + 1);
}

/** y = max (mode 0) or mean (mode 1) of each window. */
export function poolForward(geo: usize, x: usize, y: usize, mode: i32): void {
  const g = changetype<PoolGeo>(geo);
  const c = g.c, inH = g.inH, inW = g.inW, m = g.m, outH = g.outH, outW = g.outW;
  const sH = g.sH, sW = g.sW, pT = g.pT, pL = g.pL, pB = g.pB, pR = g.pR;
  const rowStep = (<usize>(g.dH * inW * c)) << 2;
  const colStep = (<usize>(g.dW * c)) << 2;
  const isMax = mode == POOL_MAX;
  const incl = g.countIncludePad != 0;
  const fH = g.fH, fW = g.fW, dH = g.dH, dW = g.dW;
  const spanH = (fH - 1) * dH + 1, spanW = (fW - 1) * dW + 1;
  const fullScale: f32 = 1 / <f32>(fH * fW);
  for (let i = 0; i < m; i++) {
    for (let oh = 0; oh < outH; oh++) {
      // The window's in-bounds rows, and those inside the padded input (for countIncludePad).
      const sh = oh * sH - pT;
      let kh0 = 0, nh = fH, ph = fH;
      if (sh < 0 || sh + spanH > inH) {
        kh0 = firstTap(sh, dH, fH, 0);
        nh = max(0, endTap(sh, dH, fH, inH) - kh0);
        ph = incl ? endTap(sh, dH, fH, inH + pB) - firstTap(sh, dH, fH, -pT) : nh;
      }
      const ih = sh + kh0 * dH;
      for (let ow = 0; ow < outW; ow++) {
        const sw = ow * sW - pL;
        let kw0 = 0, nw = fW, pw = fW;
        if (sw < 0 || sw + spanW > inW) {
          kw0 = firstTap(sw, dW, fW, 0);
          nw = max(0, endTap(sw, dW, fW, inW) - kw0);
          pw = incl ? endTap(sw, dW, fW, inW + pR) - firstTap(sw, dW, fW, -pL) : nw;
        }
        const iw = sw + kw0 * dW;
        // The average's divisor: 1 / (ph·pw), divided only when the window is cut.
        const scale: f32 = ph == fH && pw == fW ? fullScale : 1 / <f32>(ph * pw);
        const base = x + ((<usize>((i * inH + ih) * inW + iw) * <usize>c) << 2);
        const vscale = f32x4.splat(scale);
        let ch = 0;
        for (; ch + 16 <= c; ch += 16) {
          const p0 = base + (<usize>ch << 2);
          let a0 = v128.load(p0), a1 = v128.load(p0, 16), a2 = v128.load(p0, 32), a3 = v128.load(p0, 48);
          // NaN lanes, kept apart so the maximum can use the one-instruction pmax.
          let n0 = f32x4.splat(0), n1 = n0, n2 = n0, n3 = n0;
          if (!isMax) {
            a0 = f32x4.splat(0); a1 = a0; a2 = a0; a3 = a0;
          }
          for (let kh = 0; kh < nh; kh++) {
            let p = p0 + <usize>kh * rowStep;
            for (let kw = 0; kw < nw; kw++) {
              if (isMax) {
                let v = v128.load(p);
                a0 = f32x4.pmax(a0, v); n0 = v128.or(n0, f32x4.ne(v, v));
                v = v128.load(p, 16);
                a1 = f32x4.pmax(a1, v); n1 = v128.or(n1, f32x4.ne(v, v));
                v = v128.load(p, 32);
                a2 = f32x4.pmax(a2, v); n2 = v128.or(n2, f32x4.ne(v, v));
                v = v128.load(p, 48);
                a3 = f32x4.pmax(a3, v); n3 = v128.or(n3, f32x4.ne(v, v));
              } else {
                a0 = f32x4.add(a0, v128.load(p)); a1 = f32x4.add(a1, v128.load(p, 16));
                a2 = f32x4.add(a2, v128.load(p, 32)); a3 = f32x4.add(a3, v128.load(p, 48));
              }
              p += colStep;
            }
          }
          if (!isMax) {
            a0 = f32x4.mul(a0, vscale); a1 = f32x4.mul(a1, vscale);
            a2 = f32x4.mul(a2, vscale); a3 = f32x4.mul(a3, vscale);
          } else {
            // A window holding NaN gives NaN (all bits set).
            a0 = v128.or(a0, n0); a1 = v128.or(a1, n1); a2 = v128.or(a2, n2); a3 = v128.or(a3, n3);
          }
          v128.store(y, a0); v128.store(y, a1, 16); v128.store(y, a2, 32); v128.store(y, a3, 48);
          y += 64;
        }
        for (; ch + 4 <= c; ch += 4) {
          const p0 = base + (<usize>ch << 2);
          let a = isMax ? v128.load(p0) : f32x4.splat(0);
          for (let kh = 0; kh < nh; kh++) {
            let p = p0 + <usize>kh * rowStep;
            for (let kw = 0; kw < nw; kw++) {
              a = isMax ? f32x4.max(a, v128.load(p)) : f32x4.add(a, v128.load(p));
              p += colStep;
            }
          }
          v128.store(y, isMax ? a : f32x4.mul(a, vscale));
          y += 16;
        }
        if (ch < c) {
          // The last 1-3 channels as one vector: the lanes past them read the next pixel (or
          // the buffer's slack) and are never stored.
          const p0 = base + (<usize>ch << 2);
          let a = isMax ? v128.load(p0) : f32x4.splat(0);
          for (let kh = 0; kh < nh; kh++) {
            let p = p0 + <usize>kh * rowStep;
            for (let kw = 0; kw < nw; kw++) {
              a = isMax ? f32x4.max(a, v128.load(p)) : f32x4.add(a, v128.load(p));
              p += colStep;
            }
          }
          if (!isMax) a = f32x4.mul(a, vscale);
          const rem = c - ch;
          store<f32>(y, f32x4.extract_lane(a, 0));
          if (rem > 1) store<f32>(y, f32x4.extract_lane(a, 1), 4);
          if (rem > 2) store<f32>(y, f32x4.extract_lane(a, 2), 8);
          y += <usize>rem << 2;
        }
      }
    }
  }
}

/**
 * dx from dy. Max (mode 0) gives each window's gradient to the first
 * position (row-major) equal to the window's maximum; a NaN maximum matches
 * nothing. Average (mode 1) spreads it evenly over the in-bounds taps (each
 * getting 1/count). Overlapping windows add.
 */
export function poolBackward(geo: usize, x: usize, dy: usize, dx: usize, mode: i32): void {
  const g = changetype<PoolGeo>(geo);
  const c = g.c, inH = g.inH, inW = g.inW, m = g.m, outH = g.outH, outW = g.outW;
  const sH = g.sH, sW = g.sW, pT = g.pT, pL = g.pL, pB = g.pB, pR = g.pR;
  const rowStep = (<usize>(g.dH * inW * c)) << 2;
  const colStep = (<usize>(g.dW * c)) << 2;
  memory.fill(dx, 0, (<usize>(m * inH * inW * c)) << 2);
  const incl = g.countIncludePad != 0;
  const fH = g.fH, fW = g.fW, dH = g.dH, dW = g.dW;
  const spanH = (fH - 1) * dH + 1, spanW = (fW - 1) * dW + 1;
  const fullScale: f32 = 1 / <f32>(fH * fW);
  for (let i = 0; i < m; i++) {
    for (let oh = 0; oh < outH; oh++) {
      // The window's in-bounds rows, and those inside the padded input (for countIncludePad).
      const sh = oh * sH - pT;
      let kh0 = 0, nh = fH, ph = fH;
      if (sh < 0 || sh + spanH > inH) {
        kh0 = firstTap(sh, dH, fH, 0);
        nh = max(0, endTap(sh, dH, fH, inH) - kh0);
        ph = incl ? endTap(sh, dH, fH, inH + pB) - firstTap(sh, dH, fH, -pT) : nh;
      }
      const ih = sh + kh0 * dH;
      for (let ow = 0; ow < outW; ow++) {
        const sw = ow * sW - pL;
        let kw0 = 0, nw = fW, pw = fW;
        if (sw < 0 || sw + spanW > inW) {
          kw0 = firstTap(sw, dW, fW, 0);
          nw = max(0, endTap(sw, dW, fW, inW) - kw0);
          pw = incl ? endTap(sw, dW, fW, inW + pR) - firstTap(sw, dW, fW, -pL) : nw;
        }
        const iw = sw + kw0 * dW;
        // The average's divisor: 1 / (ph·pw), divided only when the window is cut.
        const scale: f32 = ph == fH && pw == fW ? fullScale : 1 / <f32>(ph * pw);
        const off = (<usize>((i * inH + ih) * inW + iw) * <usize>c) << 2;
        const vscale = f32x4.splat(scale);
        let ch = 0;
        if (mode == POOL_MAX) {
          for (; ch + 16 <= c; ch += 16) {
            const o0 = off + (<usize>ch << 2);
            maxBack16(x + o0, dx + o0, dy, rowStep, colStep, nh, nw);
            dy += 64;
          }
          for (; ch + 4 <= c; ch += 4) {
            const o0 = off + (<usize>ch << 2);
            maxBack4(x + o0, dx + o0, dy, rowStep, colStep, nh, nw);
            dy += 16;
          }
          for (; ch < c; ch++) {
            const o0 = off + (<usize>ch << 2);
            maxBack1(x + o0, dx + o0, load<f32>(dy), rowStep, colStep, nh, nw);
            dy += 4;
          }
        } else {
          for (; ch + 4 <= c; ch += 4) {
            const share = f32x4.mul(v128.load(dy), vscale);
            dy += 16;
            for (let kh = 0; kh < nh; kh++) {
              let o = dx + off + (<usize>ch << 2) + <usize>kh * rowStep;
              for (let kw = 0; kw < nw; kw++) {
                v128.store(o, f32x4.add(v128.load(o), share));
                o += colStep;
              }
            }
          }
          for (; ch < c; ch++) {
            const share = load<f32>(dy) * scale;
            dy += 4;
            for (let kh = 0; kh < nh; kh++) {
              let o = dx + off + (<usize>ch << 2) + <usize>kh * rowStep;
              for (let kw = 0; kw < nw; kw++) {
                store<f32>(o, load<f32>(o) + share);
                o += colStep;
              }
            }
          }
        }
      }
    }
  }
}

/** Max backward for 16 channels of one window: find the maximum, then route to its first position. */
// @ts-ignore: decorator
@inline function maxBack16(
  x: usize, dx: usize, dy: usize, rowStep: usize, colStep: usize, nh: i32, nw: i32,
): void {
  let m0 = v128.load(x), m1 = v128.load(x, 16), m2 = v128.load(x, 32), m3 = v128.load(x, 48);
  // Lanes whose window holds a NaN start out "taken": they pass no gradient.
  let t0 = f32x4.splat(0), t1 = t0, t2 = t0, t3 = t0;
  for (let kh = 0; kh < nh; kh++) {
    let p = x + <usize>kh * rowStep;
    for (let kw = 0; kw < nw; kw++) {
      let v = v128.load(p);
      m0 = f32x4.pmax(m0, v); t0 = v128.or(t0, f32x4.ne(v, v));
      v = v128.load(p, 16);
      m1 = f32x4.pmax(m1, v); t1 = v128.or(t1, f32x4.ne(v, v));
      v = v128.load(p, 32);
      m2 = f32x4.pmax(m2, v); t2 = v128.or(t2, f32x4.ne(v, v));
      v = v128.load(p, 48);
      m3 = f32x4.pmax(m3, v); t3 = v128.or(t3, f32x4.ne(v, v));
      p += colStep;
    }
  }
  const g0 = v128.load(dy), g1 = v128.load(dy, 16), g2 = v128.load(dy, 32), g3 = v128.load(dy, 48);
  for (let kh = 0; kh < nh; kh++) {
    const rowOff = <usize>kh * rowStep;
    let p = x + rowOff, d = dx + rowOff;
    for (let kw = 0; kw < nw; kw++) {
      let hit = f32x4.eq(v128.load(p), m0);
      v128.store(d, f32x4.add(v128.load(d), v128.and(g0, v128.andnot(hit, t0))));
      t0 = v128.or(t0, hit);
      hit = f32x4.eq(v128.load(p, 16), m1);
      v128.store(d, f32x4.add(v128.load(d, 16), v128.and(g1, v128.andnot(hit, t1))), 16);
      t1 = v128.or(t1, hit);
      hit = f32x4.eq(v128.load(p, 32), m2);
      v128.store(d, f32x4.add(v128.load(d, 32), v128.and(g2, v128.andnot(hit, t2))), 32);
      t2 = v128.or(t2, hit);
      hit = f32x4.eq(v128.load(p, 48), m3);
      v128.store(d, f32x4.add(v128.load(d, 48), v128.and(g3, v128.andnot(hit, t3))), 48);
      t3 = v128.or(t3, hit);
      p += colStep;
      d += colStep;
    }
  }
}

/** Max backward for 4 channels of one window. */
// @ts-ignore: decorator
@inline function maxBack4(
  x: usize, dx: usize, dy: usize, rowStep: usize, colStep: usize, nh: i32, nw: i32,
): void {
  let m = v128.load(x);
  for (let kh = 0; kh < nh; kh++) {
    let p = x + <usize>kh * rowStep;
    for (let kw = 0; kw < nw; kw++) {
      m = f32x4.max(m, v128.load(p));
      p += colStep;
    }
  }
  const g = v128.load(dy);
  let taken = f32x4.splat(0);
  for (let kh = 0; kh < nh; kh++) {
    const rowOff = <usize>kh * rowStep;
    let p = x + rowOff, d = dx + rowOff;
    for (let kw = 0; kw < nw; kw++) {
      const hit = f32x4.eq(v128.load(p), m);
      v128.store(d, f32x4.add(v128.load(d), v128.and(g, v128.andnot(hit, taken))));
      taken = v128.or(taken, hit);
      p += colStep;
      d += colStep;
    }
  }
}

/** Max backward for one channel of one window. */
// @ts-ignore: decorator
@inline function maxBack1(
  x: usize, dx: usize, g: f32, rowStep: usize, colStep: usize, nh: i32, nw: i32,
): void {
  let m = load<f32>(x);
  for (let kh = 0; kh < nh; kh++) {
    let p = x + <usize>kh * rowStep;
    for (let kw = 0; kw < nw; kw++) {
      m = max(m, load<f32>(p));
      p += colStep;
    }
  }
  for (let kh = 0; kh < nh; kh++) {
    const rowOff = <usize>kh * rowStep;
    let p = x + rowOff;
    for (let kw = 0; kw < nw; kw++) {
      if (load<f32>(p) == m) {
        const d = dx + rowOff + <usize>kw * colStep;
        store<f32>(d, load<f32>(d) + g);
        return;
      }
      p += colStep;
    }
  }
}

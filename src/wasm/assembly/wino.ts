// Winograd convolution F(m×m, r×r) for stride-1, undilated, ungrouped
// convolutions: each m×m block of outputs (a tile) comes from an α×α patch
// of the padded input (α = m + r − 1) by
//   Y = Aᵀ [ Σ_ci (G g Gᵀ)[ci] ⊙ (Bᵀ d Bᵀᵀ)[ci] ] A
// so the multiplications per output drop from r² to α²/m² (9 → 4 for
// F(2×2, 3×3), 25 → 9 for F(2×2, 5×5)). The sum over input channels is α²
// GEMMs (one per transformed position), on the same register tiles as
// everything else. The host computes the transform matrices (Cook–Toom,
// src/backend/_winograd.ts); G reaches the filter transform in memory as f32.
//
// Layouts (floats): U [α²][cIn][cOut] (transformed filters); per block of
// WINO_BLOCK tiles, V [α²][block][cInP] (transformed input) and Mt
// [α²][block][cOutP] (products), with cInP and cOutP rounded up to whole
// vectors. Tiles are numbered t = (i·tilesH + th)·tilesW + tw.
// The transforms themselves are generated (scripts/gen_wino.ts → wino_tf.ts).

import { convTile, gemmTile, INIT_LOAD, MR } from "./gemm";
import { EPILOGUE_RELU6, Geo } from "./abi";
import {
  filterTransform2x3, filterTransform2x5, filterTransform3x2, filterTransform5x2,
  inputTransform2x3, inputTransform2x5, outputTransform2x3, outputTransform2x5,
  outputTransform3x2, outputTransform5x2,
} from "./wino_tf";

// @ts-ignore: decorator
@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/**
 * U = G g Gᵀ for every (ci, co), four output channels at a time. `w` is
 * [r, r, cIn, cOut]; `tmp` is scratch for α² vectors (the last, partial
 * vector of channels goes through it). Channels past cOut in that vector
 * are computed from whatever follows w and never stored. U is written
 * [α²][cIn][cOut] (`panels` 0) or by column panels of 8 channels,
 * [α²][⌈cOut/8⌉][cIn][8] (`panels` 1, as `winoTiles` reads kept filters;
 * the caller zeroes the lanes past cOut).
 */
export function winoFilter(
  w: usize, u: usize, cIn: i32, cOut: i32, alpha: i32, tmp: usize, panels: i32,
): void {
  const ldw = <usize>(cIn * cOut) << 2;
  const cOut8 = (cOut + 7) & ~7;
  const stride = panels ? <usize>(cOut8 * cIn) << 2 : <usize>(cIn * cOut) << 2;
  for (let ci = 0; ci < cIn; ci++) {
    for (let co = 0; co < cOut; co += 4) {
      const src = w + (<usize>(ci * cOut + co) << 2);
      const dst = u + (panels
        ? <usize>((co & ~7) * cIn + ci * 8 + (co & 7)) << 2
        : <usize>(ci * cOut + co) << 2);
      const whole = co + 4 <= cOut;
      const to = whole ? dst : tmp, step = whole ? stride : 16;
      if (alpha == 4) filterTransform2x3(src, ldw, to, step);
      else filterTransform2x5(src, ldw, to, step);
      if (!whole) {
        for (let ab = 0; ab < alpha * alpha; ab++) {
          for (let l = 0; l < cOut - co; l++) {
            store<f32>(dst + <usize>ab * stride + (<usize>l << 2), load<f32>(tmp + (<usize>(ab * 4 + l) << 2)));
          }
        }
      }
    }
  }
}

/**
 * The α×α input patch of image `i` at (y0, x0) of the padded input, every
 * channel: gathered four channels at a time into `tmp` (zeros past the
 * padded input), then Bᵀ d B to `dst` + channel (planes `plane` bytes apart).
 */
// @ts-ignore: decorator
@inline function transformPatch(
  xp: usize, i: i32, y0: i32, x0: i32, Hp: i32, Wp: i32, cIn: i32, alpha: i32, tmp: usize,
  dst: usize, plane: usize,
): void {
  const full = y0 + alpha <= Hp && x0 + alpha <= Wp;
  const zero = f32x4.splat(0);
  for (let ci = 0; ci < cIn; ci += 4) {
    for (let a = 0; a < alpha; a++) {
      const yy = y0 + a;
      const row = xp + (<usize>(((i * Hp + yy) * Wp + x0) * cIn + ci) << 2);
      for (let b = 0; b < alpha; b++) {
        const ok = full || (yy < Hp && x0 + b < Wp);
        v128.store(tmp + (<usize>(a * alpha + b) << 4), ok ? v128.load(row + (<usize>(b * cIn) << 2)) : zero);
      }
    }
    if (alpha == 4) inputTransform2x3(tmp, dst + (<usize>ci << 2), plane);
    else inputTransform2x5(tmp, dst + (<usize>ci << 2), plane);
  }
}

/** Tiles transformed, multiplied and transformed back together (a multiple of both MRs). */
export const WINO_BLOCK: i32 = 12;

/**
 * Tiles [t0, t1) of one call (t0 a multiple of WINO_BLOCK), a block of
 * WINO_BLOCK tiles at a time so that the transformed data stays in cache:
 * transforms their input patches into V, multiplies by U into Mt, and
 * transforms the products back into z (+ bias, then ReLU/ReLU6 as `relu`
 * says), writing only the outputs that exist. `v` and `mt` are this task's
 * scratch for one block; `tmp` holds α² + m² vectors; `zeros` cOut + 8
 * zeros. Rows of V and Mt are padded to whole vectors (cInP, cOutP floats).
 * A tile's arithmetic never depends on how a call is cut into ranges. `u`
 * is [α²][cIn][cOut] (`panels` 0, as winoFilter writes it) or, when `panels`
 * is 1, packed by column panels [α²][⌈cOut/8⌉][cIn][8] (zeros past cOut), so
 * that a panel is one contiguous run: with thousands of channels the
 * strided rows of the first layout waste half of every cache line read.
 * Only output channels [c0, c1) are computed (c0 a multiple of 8): a call
 * with few tiles splits its channels among threads instead, each part
 * transforming the same input patches. A channel's arithmetic is the same
 * in any part.
 */
export function winoTiles(
  geo: usize, xp: usize, u: usize, v: usize, mt: usize, z: usize, bias: usize, relu: i32,
  t0: i32, t1: i32, zeros: usize, tmp: usize, alpha: i32, panels: i32, c0: i32, c1: i32,
): void {
  const g = changetype<Geo>(geo);
  const r = g.fH, cIn = g.cIn, cOut = g.cOut;
  c1 = min(c1, cOut);
  const m = alpha - r + 1, a2 = alpha * alpha;
  const cInP = (cIn + 3) & ~3, cOutP = (cOut + 3) & ~3;
  const Hp = g.inH + g.pT + g.pB, Wp = g.inW + g.pL + g.pR;
  const tilesH = (g.outH + m - 1) / m, tilesW = (g.outW + m - 1) / m;
  const per = tilesH * tilesW;
  const vPlane = <usize>(WINO_BLOCK * cInP) << 2, mPlane = <usize>(WINO_BLOCK * cOutP) << 2;
  const zero = f32x4.splat(0), six = f32x4.splat(6);
  const y = tmp + (<usize>a2 << 4);
  for (let blk = t0; blk < t1; blk += WINO_BLOCK) {
    const nt = min(WINO_BLOCK, t1 - blk);

    // 1. Input transform: each patch gathered into tmp (zeros past the padded input), then Bᵀ d B.
    for (let k = 0; k < nt; k++) {
      const t = blk + k;
      const i = t / per, rem = t - i * per, th = rem / tilesW, tw = rem - th * tilesW;
      const y0 = th * m, x0 = tw * m;
      transformPatch(xp, i, y0, x0, Hp, Wp, cIn, alpha, tmp, v + (<usize>(k * cInP) << 2), vPlane);
    }

    // 2. The α² products: rows of V times U, on the convolution's register tile. Column panels
    // outside, row tiles inside: each panel of U (cIn × 8) is read from memory once per block
    // and reused from cache by the block's row tiles (with thousands of channels U is far larger
    // than the caches). Each product is computed alike in either order.
    const step = <usize>cInP << 2, cOut8 = (cOut + 7) & ~7;
    const ldu: usize = panels ? 32 : <usize>cOut << 2;
    for (let ab = 0; ab < a2; ab++) {
      const ub = u + (<usize>(ab * cIn * (panels ? cOut8 : cOut)) << 2);
      const vb = v + <usize>ab * vPlane, mb = mt + <usize>ab * mPlane;
      for (let n0 = c0; n0 < c1; n0 += 8) {
        const nb = <usize>n0 << 2, pb = panels ? <usize>(n0 * cIn) << 2 : nb;
        for (let row0 = 0; row0 < nt; row0 += MR) {
          const mr = min(MR, nt - row0);
          const p0 = vb + (<usize>(row0 * cInP) << 2);
          const p1 = mr > 1 ? p0 + step : p0, p2 = mr > 2 ? p0 + 2 * step : p0;
          const p3 = mr > 3 ? p0 + 3 * step : p0, p4 = mr > 4 ? p0 + 4 * step : p0;
          const p5 = mr > 5 ? p0 + 5 * step : p0;
          const c = mb + (<usize>(row0 * cOutP) << 2);
          convTile(p0, p1, p2, p3, p4, p5, 1, 1, cIn, 0, 0, ub + pb, ldu, c + nb,
            <usize>cOutP << 2, mr, min(8, cOut - n0), zeros, 0);
        }
      }
    }

    // 3. Output transform: Aᵀ M A, + bias, activation, stored where the outputs exist.
    for (let k = 0; k < nt; k++) {
      const t = blk + k;
      const i = t / per, rem = t - i * per, th = rem / tilesW, tw = rem - th * tilesW;
      for (let co = c0; co < c1; co += 4) {
        if (alpha == 4) outputTransform2x3(mt + (<usize>(k * cOutP + co) << 2), mPlane, y);
        else outputTransform2x5(mt + (<usize>(k * cOutP + co) << 2), mPlane, y);
        const bv = v128.load(bias + (<usize>co << 2));
        const lanes = min(4, cOut - co);
        for (let p = 0; p < m; p++) {
          const oh = th * m + p;
          if (oh >= g.outH) break;
          for (let q = 0; q < m; q++) {
            const ow = tw * m + q;
            if (ow >= g.outW) break;
            let s = f32x4.add(v128.load(y + (<usize>(p * m + q) << 4)), bv);
            if (relu) s = f32x4.pmax(s, zero);
            if (relu == EPILOGUE_RELU6) s = f32x4.pmin(s, six);
            const dst = z + (<usize>(((i * g.outH + oh) * g.outW + ow) * cOut + co) << 2);
            if (lanes == 4) v128.store(dst, s);
            else {
              store<f32>(dst, f32x4.extract_lane(s, 0));
              if (lanes > 1) store<f32>(dst, f32x4.extract_lane(s, 1), 4);
              if (lanes > 2) store<f32>(dst, f32x4.extract_lane(s, 2), 8);
            }
          }
        }
      }
    }
  }
}

/** Tiles of a filter gradient transformed and multiplied together (the GEMMs' depth). */
export const WINO_GRAD_BLOCK: i32 = 48;

/**
 * One part of a filter gradient by Winograd (stride 1): over tiles
 * [t0, t1) (2×2 blocks of outputs, numbered across the batch), `up` [α²][cInR][cOut8] (cInR =
 * MR·⌈cIn/MR⌉, cOut8 = 8·⌈cOut/8⌉, zeroed here) = Σ_t (Bᵀ x B)[t] ⊗ (G dz Gᵀ)[t],
 * a block of WINO_GRAD_BLOCK tiles at a time: each input patch (α×α, from
 * the padded input) and its 2×2 block of output gradients are transformed,
 * then α² GEMMs accumulate over the block's tiles. `v` and `d` are scratch
 * for one block (plus a row of slack), `tmp` for α² + 4 vectors.
 */
export function winoGradTiles(
  geo: usize, xp: usize, dz: usize, up: usize, v: usize, d: usize, tmp: usize, alpha: i32,
  t0: i32, t1: i32,
): void {
  const g = changetype<Geo>(geo);
  const r = g.fH, cIn = g.cIn, cOut = g.cOut;
  const m = alpha - r + 1, a2 = alpha * alpha;
  const cInP = (cIn + 3) & ~3, cOutP = (cOut + 3) & ~3;
  const cInR = ((cIn + MR - 1) / MR) * MR, cOut8 = ((cOut + 7) >> 3) << 3;
  const Hp = g.inH + g.pT + g.pB, Wp = g.inW + g.pL + g.pR;
  const tilesH = (g.outH + m - 1) / m, tilesW = (g.outW + m - 1) / m;
  const per = tilesH * tilesW;
  const vPlane = <usize>(WINO_GRAD_BLOCK * cInP) << 2;
  const dPlane = <usize>(WINO_GRAD_BLOCK * cOutP) << 2;
  const zero = f32x4.splat(0);
  const q = tmp + (<usize>a2 << 4);
  memory.fill(up, 0, <usize>(a2 * cInR * cOut8) << 2);
  for (let blk = t0; blk < t1; blk += WINO_GRAD_BLOCK) {
    const nt = min(WINO_GRAD_BLOCK, t1 - blk);
    for (let k = 0; k < nt; k++) {
      const t = blk + k;
      const i = t / per, rem = t - i * per, th = rem / tilesW, tw = rem - th * tilesW;
      const y0 = th * m, x0 = tw * m;
      transformPatch(xp, i, y0, x0, Hp, Wp, cIn, alpha, tmp, v + (<usize>(k * cInP) << 2), vPlane);
      // The 2×2 block of output gradients (zeros past the output): G dz Gᵀ.
      for (let co = 0; co < cOut; co += 4) {
        for (let p = 0; p < m; p++) {
          for (let s = 0; s < m; s++) {
            const oh = y0 + p, ow = x0 + s;
            const ok = oh < g.outH && ow < g.outW;
            const src = dz + (<usize>(((i * g.outH + oh) * g.outW + ow) * cOut + co) << 2);
            v128.store(q + (<usize>(p * m + s) << 4), ok ? v128.load(src) : zero);
          }
        }
        const dst = d + (<usize>(k * cOutP + co) << 2);
        if (alpha == 4) filterTransform3x2(q, 16, dst, dPlane);
        else filterTransform5x2(q, 16, dst, dPlane);
      }
    }
    // up[ab] += V[ab]ᵀ D[ab] over the block's tiles.
    for (let ab = 0; ab < a2; ab++) {
      const va = v + <usize>ab * vPlane, da = d + <usize>ab * dPlane;
      const ua = up + (<usize>(ab * cInR * cOut8) << 2);
      for (let ci0 = 0; ci0 < cIn; ci0 += MR) {
        for (let co0 = 0; co0 < cOut; co0 += 8) {
          gemmTile(
            nt, va + (<usize>ci0 << 2), <usize>cInP << 2, da + (<usize>co0 << 2), <usize>cOutP << 2,
            ua + (<usize>(ci0 * cOut8 + co0) << 2), <usize>cOut8 << 2, MR, 8, INIT_LOAD,
          );
        }
      }
    }
  }
}

/**
 * dW [r, r, cIn, cOut] = Aᵀ U A for input channels [ci0, ci1), from the
 * summed transformed gradient `up` ([α²][cInR][cOut8], see winoGradTiles).
 * `tmp` is scratch for r² vectors.
 */
export function winoGradOut(
  up: usize, dw: usize, cIn: i32, cOut: i32, r: i32, alpha: i32, ci0: i32, ci1: i32, tmp: usize,
): void {
  const cInR = ((cIn + MR - 1) / MR) * MR, cOut8 = ((cOut + 7) >> 3) << 3;
  const plane = <usize>(cInR * cOut8) << 2;
  const tap = <usize>(cIn * cOut) << 2;
  for (let ci = ci0; ci < ci1; ci++) {
    for (let co = 0; co < cOut; co += 4) {
      const src = up + (<usize>(ci * cOut8 + co) << 2);
      if (alpha == 4) outputTransform3x2(src, plane, tmp);
      else outputTransform5x2(src, plane, tmp);
      const dst = dw + (<usize>(ci * cOut + co) << 2);
      const lanes = min(4, cOut - co);
      for (let t = 0; t < r * r; t++) {
        const s = v128.load(tmp + (<usize>t << 4));
        const o = dst + <usize>t * tap;
        if (lanes == 4) v128.store(o, s);
        else {
          store<f32>(o, f32x4.extract_lane(s, 0));
          if (lanes > 1) store<f32>(o, f32x4.extract_lane(s, 1), 4);
          if (lanes > 2) store<f32>(o, f32x4.extract_lane(s, 2), 8);
        }
      }
    }
  }
}

/**
 * 1 if the `n` floats at `p` are all finite, else 0. Winograd's transforms
 * mix a whole patch, so an infinity would turn outputs that never saw it
 * into NaN: the host keeps such inputs on the direct kernel.
 */
export function allFinite(p: usize, n: i32): i32 {
  // x − x is 0 for a finite x and NaN for ±∞ or NaN; NaN never equals itself.
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const x = v128.load(p + (<usize>i << 2));
    acc = f32x4.add(acc, f32x4.sub(x, x));
  }
  let s: f32 = 0;
  for (; i < n; i++) {
    const x = load<f32>(p + (<usize>i << 2));
    s += x - x;
  }
  s += f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) +
    f32x4.extract_lane(acc, 3);
  return s == 0 ? 1 : 0;
}

// Convolution forward and backward as GEMMs over an implicit im2col, for
// every geometry: per-axis strides, asymmetric padding, dilation and groups.
//
// Shapes (all NHWC, f32, byte pointers supplied by the host):
//   x  [m, inH, inW, cIn]      w  [fH, fW, cIn/groups, cOut] = [K, cOut] row-major
//   z  [m, outH, outW, cOut] = [M, cOut], M = m·outH·outW, K = fH·fW·cIn/groups
// Group g maps input channels [g·cInG, (g+1)·cInG) to output channels
// [g·cOutG, (g+1)·cOutG). Every call gets the geometry as a pointer to a
// block of i32s the host writes (see `Geo` in abi.ts), so calls are stateless. Every buffer the host hands in has
// at least 64 bytes of slack after it.

import { EPILOGUE_RELU6, Geo } from "./abi";
import { convTile, gemmTile, INIT_LOAD, INIT_ZERO, MR } from "./gemm";

// @ts-ignore: decorator
@inline function readGeo(p: usize): Geo {
  return changetype<Geo>(p);
}

// @ts-ignore: decorator
@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

// @ts-ignore: decorator
@inline function activate(a: v128, relu: i32): v128 {
  if (relu) a = f32x4.pmax(a, f32x4.splat(0)); // NaN stays NaN
  if (relu == EPILOGUE_RELU6) a = f32x4.pmin(a, f32x4.splat(6));
  return a;
}

/**
 * One output row (M = 1: a dense layer on one sample, or a convolution with
 * a 1×1 output) as a vector-matrix product: the register tiles would leave
 * five of their six rows idle. The window is `fH` runs of `run` contiguous
 * floats, `rowStride` bytes apart; `w` is [K, N] row-major (`ldw` bytes a
 * row). Only columns `c0 ≤ n < c1` are computed (c0 a multiple of 4): the
 * weights are read row after row, four rows at a time, in column blocks of
 * GEMV_BLOCK whose sums stay in z (in cache) — a stream the hardware
 * prefetches, where walking down one column block at a time jumps a whole
 * row per step. Each column adds its K products in order whatever the
 * column range, so a split among threads gives the same bits.
 */
function gemvRow(
  p0: usize, fH: i32, run: i32, rowStride: usize, w: usize, ldw: usize, c0: i32, c1: i32, z: usize,
  bias: usize, relu: i32,
): void {
  for (let b0 = c0; b0 < c1; b0 += GEMV_BLOCK) {
    const b1 = min(c1, b0 + GEMV_BLOCK), v1 = b0 + ((b1 - b0) & ~3);
    const zb = z + (<usize>b0 << 2), bytes = <usize>(b1 - b0) << 2, vbytes = <usize>(v1 - b0) << 2;
    memory.copy(zb, bias + (<usize>b0 << 2), bytes);
    let wr = w + (<usize>b0 << 2), p = p0;
    for (let kh = 0; kh < fH; kh++) {
      let k = 0;
      for (; k + 4 <= run; k += 4) {
        const xk = p + (<usize>k << 2);
        const x0 = f32x4.splat(load<f32>(xk)), x1 = f32x4.splat(load<f32>(xk, 4));
        const x2 = f32x4.splat(load<f32>(xk, 8)), x3 = f32x4.splat(load<f32>(xk, 12));
        const w1 = wr + ldw, w2 = w1 + ldw, w3 = w2 + ldw;
        for (let o: usize = 0; o < vbytes; o += 16) {
          let a = v128.load(zb + o);
          a = fma(x0, v128.load(wr + o), a);
          a = fma(x1, v128.load(w1 + o), a);
          a = fma(x2, v128.load(w2 + o), a);
          a = fma(x3, v128.load(w3 + o), a);
          v128.store(zb + o, a);
        }
        for (let o = vbytes; o < bytes; o += 4) {
          let a = load<f32>(zb + o);
          a += load<f32>(xk) * load<f32>(wr + o);
          a += load<f32>(xk, 4) * load<f32>(w1 + o);
          a += load<f32>(xk, 8) * load<f32>(w2 + o);
          a += load<f32>(xk, 12) * load<f32>(w3 + o);
          store<f32>(zb + o, a);
        }
        wr = w3 + ldw;
      }
      for (; k < run; k++) {
        const xv = load<f32>(p + (<usize>k << 2)), x0 = f32x4.splat(xv);
        for (let o: usize = 0; o < vbytes; o += 16) {
          v128.store(zb + o, fma(x0, v128.load(wr + o), v128.load(zb + o)));
        }
        for (let o = vbytes; o < bytes; o += 4) {
          store<f32>(zb + o, load<f32>(zb + o) + xv * load<f32>(wr + o));
        }
        wr += ldw;
      }
      p += rowStride;
    }
    if (relu) {
      for (let o: usize = 0; o < vbytes; o += 16) v128.store(zb + o, activate(v128.load(zb + o), relu));
      for (let o = vbytes; o < bytes; o += 4) {
        let a = load<f32>(zb + o);
        a = a < 0 ? 0 : a;
        if (relu == EPILOGUE_RELU6) a = a > 6 ? 6 : a;
        store<f32>(zb + o, a);
      }
    }
  }
}

/** Columns of a vector-matrix product summed together (16 KiB of sums: they stay in L1). */
const GEMV_BLOCK = 4096;

/**
 * Columns `c0 ≤ n < c1` of a one-row convolution (M = 1, one group,
 * adjacent taps: see `gemvRow`), so that threads can share a dense layer on
 * one sample. `c0` is a multiple of 4.
 */
export function convGemv(
  geo: usize, xp: usize, w: usize, bias: usize, z: usize, relu: i32, c0: i32, c1: i32,
): void {
  const g = readGeo(geo);
  const Wp = g.inW + g.pL + g.pR;
  gemvRow(
    xp, g.fH, g.fW * g.cIn, (<usize>(g.dH * Wp * g.cIn)) << 2, w, <usize>g.cOut << 2, c0, c1, z,
    bias, relu,
  );
}

/** The rows of the register tile in this build (6 relaxed, 4 plain). */
export function tileRows(): i32 {
  return MR;
}

/**
 * Gathers the im2col row of output pixel `q` for group `gr` (K floats: the
 * fH×fW×cInG window, zeros where it hangs over the padding) to `dst`.
 */
// @ts-ignore: decorator
@inline function gatherRow(g: Geo, x: usize, q: i32, gr: i32, dst: usize): void {
  const outH = g.outH, outW = g.outW, fH = g.fH, fW = g.fW, sH = g.sH, sW = g.sW;
  const pT = g.pT, pL = g.pL, dH = g.dH, dW = g.dW, inH = g.inH, inW = g.inW, cIn = g.cIn;
  const hw = outH * outW;
  const i = q / hw;
  const rem = q - i * hw;
  const oh = rem / outW;
  const ow = rem - oh * outW;
  const runBytes = <usize>g.cInG << 2;
  const src0 = x + (<usize>(gr * g.cInG) << 2);
  const iw0 = ow * sW - pL;
  if (dW == 1 && g.groups == 1 && iw0 >= 0 && iw0 + fW <= inW) {
    // The window's rows are contiguous runs of fW·cIn floats: copy each in
    // 16-byte steps (a few bytes past its end are overwritten by the next
    // run, or land in the buffer's slack).
    const rowBytes = <usize>(fW * cIn) << 2;
    for (let kh = 0; kh < fH; kh++) {
      const ih = oh * sH - pT + kh * dH;
      if (ih >= 0 && ih < inH) {
        const src = x + ((<usize>((i * inH + ih) * inW + iw0) * <usize>cIn) << 2);
        for (let o: usize = 0; o < rowBytes; o += 16) v128.store(dst + o, v128.load(src + o));
      } else {
        memory.fill(dst, 0, rowBytes);
      }
      dst += rowBytes;
    }
    return;
  }
  for (let kh = 0; kh < fH; kh++) {
    const ih = oh * sH - pT + kh * dH;
    const rowOk = ih >= 0 && ih < inH;
    for (let kw = 0; kw < fW; kw++) {
      const iw = ow * sW - pL + kw * dW;
      if (rowOk && iw >= 0 && iw < inW) {
        memory.copy(dst, src0 + ((<usize>((i * inH + ih) * inW + iw) * <usize>cIn) << 2), runBytes);
      } else {
        memory.fill(dst, 0, runBytes);
      }
      dst += runBytes;
    }
  }
}

/**
 * Copies x into `xp` with the geometry's zeros around height and width (any
 * four paddings): [m, inH + pT + pB, inW + pL + pR, cIn]. The host uses it
 * when rows are short; long rows it writes straight into place itself.
 */
export function padInput(geo: usize, x: usize, xp: usize): void {
  const g = readGeo(geo);
  const Hp = g.inH + g.pT + g.pB, Wp = g.inW + g.pL + g.pR;
  const rowBytes = (<usize>(g.inW * g.cIn)) << 2;
  memory.fill(xp, 0, (<usize>(g.m * Hp * Wp * g.cIn)) << 2);
  for (let i = 0; i < g.m; i++) {
    for (let h = 0; h < g.inH; h++) {
      const dst = xp + ((<usize>(((i * Hp + h + g.pT) * Wp + g.pL) * g.cIn)) << 2);
      memory.copy(dst, x + <usize>(i * g.inH + h) * rowBytes, rowBytes);
    }
  }
}

/**
 * z = conv(xp, w) + bias as a direct convolution over the padded input `xp`
 * ([m, inH + pT + pB, inW + pL + pR, cIn], written by the host; when there is
 * no padding, x itself). No im2col buffer: each register tile reads its MR
 * windows straight from `xp`. `bias` holds cOut floats (plus slack). `relu` =
 * 1 applies max(0, ·) before storing, 2 min(max(0, ·), 6) (ReLU6). Only
 * output rows (pixels) `q0 ≤ q < q1` are computed: threads split a call by
 * rows, at multiples of MR so that every row sits in the same register tile
 * as in a call made whole.
 */
export function convForward(
  geo: usize, xp: usize, w: usize, bias: usize, z: usize, relu: i32, q0: i32, q1: i32,
): void {
  const g = readGeo(geo);
  const Hp = g.inH + g.pT + g.pB, Wp = g.inW + g.pL + g.pR;
  const cIn = g.cIn, cInG = g.cInG, cOutG = g.cOutG;
  // One contiguous run per filter row when the row's taps are adjacent and span all channels.
  const merged = g.dW == 1 && g.groups == 1;
  const nCols = merged ? 1 : g.fW;
  const run = merged ? g.fW * cIn : cInG;
  const colJump: usize = merged ? 0 : (<usize>(g.dW * cIn - cInG)) << 2;
  const rowJump: usize = ((<usize>(g.dH * Wp * cIn)) << 2) - <usize>nCols * ((<usize>run << 2) + colJump);
  const ldz = <usize>g.cOut << 2;
  const M = g.M, outH = g.outH, outW = g.outW, sH = g.sH, sW = g.sW, fH = g.fH, groups = g.groups;
  if (M == 1 && merged && q0 == 0 && q1 == 1) {
    // The single window starts at the padded input's origin.
    gemvRow(xp, fH, run, (<usize>(g.dH * Wp * cIn)) << 2, w, ldz, 0, g.cOut, z, bias, relu);
    return;
  }
  for (let gr = 0; gr < groups; gr++) {
    const chan = <usize>(gr * cInG) << 2;
    const wg = w + (<usize>(gr * cOutG) << 2);
    const hw = outH * outW;
    let qi = q0 / hw, qh = (q0 - qi * hw) / outW, qw = q0 - qi * hw - qh * outW;
    for (let row0 = q0; row0 < q1; row0 += MR) {
      const mr = min(MR, q1 - row0);
      let p0: usize = 0, p1: usize = 0, p2: usize = 0, p3: usize = 0, p4: usize = 0, p5: usize = 0;
      for (let r = 0; r < MR; r++) {
        let p: usize = p0;
        if (r < mr) {
          p = xp + (<usize>((qi * Hp + qh * sH) * Wp + qw * sW) * <usize>cIn << 2) + chan;
          if (++qw == outW) {
            qw = 0;
            if (++qh == outH) {
              qh = 0;
              qi++;
            }
          }
        }
        if (r == 0) p0 = p;
        else if (r == 1) p1 = p;
        else if (r == 2) p2 = p;
        else if (r == 3) p3 = p;
        else if (r == 4) p4 = p;
        else p5 = p;
      }
      const zRow = z + <usize>row0 * ldz + (<usize>(gr * cOutG) << 2);
      for (let n0 = 0; n0 < cOutG; n0 += 8) {
        const nb = <usize>n0 << 2;
        convTile(
          p0, p1, p2, p3, p4, p5, fH, nCols, run, colJump, rowJump, wg + nb, ldz,
          zRow + nb, ldz, mr, min(8, cOutG - n0), bias + (<usize>(gr * cOutG) << 2) + nb, relu,
        );
      }
    }
  }
}

/** Bytes of input windows a chunk of rows of `convForwardPanels` reads (kept in L2 across panels). */
const PANEL_CHUNK_BYTES = 131072;

/**
 * `convForward` for one group with the filter packed by column panels `wp`
 * [⌈cOut/8⌉][K][8] (zeros past cOut): rows `q0 ≤ q < q1` go in chunks whose
 * input windows stay in cache while every panel runs over them, each panel
 * read as one contiguous run. Where the filter is larger than the rows'
 * windows (deep layers on small maps: 3×3 × 512 × 512 on 7×7) the row-tile
 * order re-reads the whole filter from memory for every six rows, and the
 * [K, cOut] layout wastes half of each cache line on 8-column panels. Each
 * output is computed exactly as by `convForward` (same tile, same order).
 */
export function convForwardPanels(
  geo: usize, xp: usize, wp: usize, bias: usize, z: usize, relu: i32, q0: i32, q1: i32,
): void {
  const g = readGeo(geo);
  const Hp = g.inH + g.pT + g.pB, Wp = g.inW + g.pL + g.pR;
  const cIn = g.cIn, cOut = g.cOut, K = g.K;
  const merged = g.dW == 1;
  const nCols = merged ? 1 : g.fW;
  const run = merged ? g.fW * cIn : cIn;
  const colJump: usize = merged ? 0 : (<usize>(g.dW * cIn - cIn)) << 2;
  const rowJump: usize = ((<usize>(g.dH * Wp * cIn)) << 2) - <usize>nCols * ((<usize>run << 2) + colJump);
  const ldz = <usize>cOut << 2;
  const outH = g.outH, outW = g.outW, sH = g.sH, sW = g.sW, fH = g.fH, hw = outH * outW;
  const chunk = max(MR, (PANEL_CHUNK_BYTES / max(1, K * 4) / MR) * MR);
  for (let c0 = q0; c0 < q1; c0 += chunk) {
    const c1 = min(q1, c0 + chunk);
    for (let n0 = 0; n0 < cOut; n0 += 8) {
      const wpn = wp + (<usize>(n0 * K) << 2), nb = <usize>n0 << 2;
      for (let row0 = c0; row0 < c1; row0 += MR) {
        const mr = min(MR, c1 - row0);
        let p0: usize = 0, p1: usize = 0, p2: usize = 0, p3: usize = 0, p4: usize = 0, p5: usize = 0;
        for (let r = 0; r < mr; r++) {
          const q = row0 + r, i = q / hw, rem = q - i * hw, oh = rem / outW, ow = rem - oh * outW;
          const p = xp + (<usize>((i * Hp + oh * sH) * Wp + ow * sW) * <usize>cIn << 2);
          if (r == 0) p0 = p;
          else if (r == 1) p1 = p;
          else if (r == 2) p2 = p;
          else if (r == 3) p3 = p;
          else if (r == 4) p4 = p;
          else p5 = p;
        }
        if (mr < 2) p1 = p0;
        if (mr < 3) p2 = p0;
        if (mr < 4) p3 = p0;
        if (mr < 5) p4 = p0;
        if (mr < 6) p5 = p0;
        convTile(
          p0, p1, p2, p3, p4, p5, fH, nCols, run, colJump, rowJump, wpn, 32,
          z + <usize>row0 * ldz + nb, ldz, mr, min(8, cOut - n0), bias + nb, relu,
        );
      }
    }
  }
}

/**
 * dW and db from x and dz. For each group, dW's block is accumulated in `dwt`
 * ([Kp][Np], Kp = MR·⌈K/MR⌉, Np = 8·⌈cOutG/8⌉: im2col columns as the
 * register tile's rows, output channels as its columns) from im2col blocks
 * in `col` (scratch for `blockRows`·K floats), then written to `dw`
 * ([K, cOut]) at the group's columns. Only output pixels (im2col rows)
 * `q0 ≤ q < q1` are summed: the host adds such parts in a fixed order.
 */
export function convBackwardFilter(
  geo: usize, x: usize, dz: usize, dw: usize, db: usize, dwt: usize, col: usize, blockRows: i32,
  q0: i32, q1: i32,
): void {
  const g = readGeo(geo);
  const groups = g.groups;
  const K = g.K, N = g.cOutG;
  const Kp = ((K + MR - 1) / MR) * MR;
  const Np = ((N + 7) >> 3) << 3;
  const ldk = <usize>K << 2;
  const ldn = <usize>g.cOut << 2;
  const ldp = <usize>Np << 2;
  for (let gr = 0; gr < groups; gr++) {
    memory.fill(dwt, 0, <usize>Kp * ldp);
    const dzg = dz + (<usize>(gr * N) << 2);
    for (let m0 = q0; m0 < q1; m0 += blockRows) {
      const mb = min(blockRows, q1 - m0);
      for (let r = 0; r < mb; r++) gatherRow(g, x, m0 + r, gr, col + <usize>r * ldk);
      const dzBlock = dzg + <usize>m0 * ldn;
      for (let k0 = 0; k0 < K; k0 += MR) {
        for (let n0 = 0; n0 < N; n0 += 8) {
          gemmTile(
            mb, col + (<usize>k0 << 2), ldk, dzBlock + (<usize>n0 << 2), ldn,
            dwt + <usize>k0 * ldp + (<usize>n0 << 2), ldp, MR, 8, INIT_LOAD,
          );
        }
      }
    }
    // dw[k, gr·N + n] = dwt[k, n]
    for (let k = 0; k < K; k++) {
      memory.copy(dw + <usize>k * ldn + (<usize>(gr * N) << 2), dwt + <usize>k * ldp, <usize>N << 2);
    }
  }
  columnSums(dz + <usize>q0 * ldn, db, q1 - q0, g.cOut);
}

/**
 * dst[i] = Σ_p src[p·stride + i] for i in [0, n), the parts added in order
 * p = 0, 1, … (so a sum never depends on how a call was split among
 * threads). `stride` is in floats.
 */
export function addPartials(dst: usize, src: usize, n: i32, parts: i32, stride: i32): void {
  const n4 = n & ~3;
  const step = <usize>stride << 2;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    let s = v128.load(src + o);
    for (let p = 1; p < parts; p++) s = f32x4.add(s, v128.load(src + <usize>p * step + o));
    v128.store(dst + o, s);
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    let s = load<f32>(src + o);
    for (let p = 1; p < parts; p++) s += load<f32>(src + <usize>p * step + o);
    store<f32>(dst + o, s);
  }
}

/** db[n] = Σ_m dz[m, n], four columns at a time. */
export function columnSums(dz: usize, db: usize, M: i32, N: i32): void {
  const n4 = N & ~3;
  const ld = <usize>N << 2;
  for (let n = 0; n < n4; n += 4) {
    let s = f32x4.splat(0);
    let p = dz + (<usize>n << 2);
    for (let m = 0; m < M; m++) {
      s = f32x4.add(s, v128.load(p));
      p += ld;
    }
    v128.store(db + (<usize>n << 2), s);
  }
  for (let n = n4; n < N; n++) {
    let s: f32 = 0;
    let p = dz + (<usize>n << 2);
    for (let m = 0; m < M; m++) {
      s += load<f32>(p);
      p += ld;
    }
    store<f32>(db + (<usize>n << 2), s);
  }
}

/**
 * dx from dz and w. `wt` is scratch for one group's W transposed ([cOutG][K],
 * plus slack), `panel` for MR·cOutG floats and `dcol` for MR·Kp floats.
 */
export function convBackwardData(
  geo: usize, dz: usize, w: usize, dx: usize, wt: usize, panel: usize, dcol: usize,
): void {
  const g = readGeo(geo);
  const M = g.M, groups = g.groups;
  const K = g.K, N = g.cOutG, cOut = g.cOut;
  const Kp = ((K + 7) >> 3) << 3;
  const ldk = <usize>K << 2;
  const ldc = <usize>Kp << 2;
  const aStep = <usize>MR << 2;
  memory.fill(dx, 0, (<usize>(g.m * g.inH * g.inW * g.cIn)) << 2);
  for (let gr = 0; gr < groups; gr++) {
    // W^T for this group, so that B rows (fixed n) hold consecutive k.
    for (let k = 0; k < K; k++) {
      for (let n = 0; n < N; n++) {
        store<f32>(wt + ((<usize>(n * K + k)) << 2), load<f32>(w + ((<usize>(k * cOut + gr * N + n)) << 2)));
      }
    }
    for (let row0 = 0; row0 < M; row0 += MR) {
      const mr = min(MR, M - row0);
      // Pack this group's dz columns of rows row0..row0+MR as [N][MR].
      for (let r = 0; r < MR; r++) {
        let dst = panel + (<usize>r << 2);
        if (r < mr) {
          const src = dz + (<usize>((row0 + r) * cOut + gr * N) << 2);
          for (let n = 0; n < N; n++) {
            store<f32>(dst, load<f32>(src + (<usize>n << 2)));
            dst += aStep;
          }
        } else {
          for (let n = 0; n < N; n++) {
            store<f32>(dst, 0);
            dst += aStep;
          }
        }
      }
      for (let k0 = 0; k0 < K; k0 += 8) {
        gemmTile(N, panel, aStep, wt + (<usize>k0 << 2), ldk, dcol + (<usize>k0 << 2), ldc, MR, 8, INIT_ZERO);
      }
      for (let r = 0; r < mr; r++) scatterRow(g, dx, row0 + r, gr, dcol + <usize>r * ldc);
    }
  }
}

/** col2im for one output pixel and group: adds its K gradient values into dx. */
// @ts-ignore: decorator
@inline function scatterRow(g: Geo, dx: usize, q: i32, gr: i32, src: usize): void {
  const outH = g.outH, outW = g.outW, fH = g.fH, fW = g.fW, sH = g.sH, sW = g.sW;
  const pT = g.pT, pL = g.pL, dH = g.dH, dW = g.dW, inH = g.inH, inW = g.inW;
  const hw = outH * outW;
  const i = q / hw;
  const rem = q - i * hw;
  const oh = rem / outW;
  const ow = rem - oh * outW;
  const cIn = g.cIn, cInG = g.cInG;
  const c4 = cInG & ~3;
  const dx0 = dx + (<usize>(gr * cInG) << 2);
  for (let kh = 0; kh < fH; kh++) {
    const ih = oh * sH - pT + kh * dH;
    if (ih < 0 || ih >= inH) {
      src += (<usize>(fW * cInG)) << 2;
      continue;
    }
    for (let kw = 0; kw < fW; kw++) {
      const iw = ow * sW - pL + kw * dW;
      if (iw >= 0 && iw < inW) {
        const dst = dx0 + ((<usize>((i * inH + ih) * inW + iw) * <usize>cIn) << 2);
        let c = 0;
        for (; c < c4; c += 4) {
          const o = <usize>c << 2;
          v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
        }
        for (; c < cInG; c++) {
          const o = <usize>c << 2;
          store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
        }
      }
      src += <usize>cInG << 2;
    }
  }
}

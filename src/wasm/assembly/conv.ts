// Convolution forward and backward as GEMMs over an implicit im2col.
//
// Shapes (all NHWC, f32, byte pointers supplied by the host):
//   x  [m, inH, inW, cIn]      w  [f, f, cIn, cOut] = [K, N] row-major
//   z  [m, outH, outW, cOut] = [M, N] with M = m·outH·outW, K = f·f·cIn, N = cOut
// Every buffer the host hands in has at least 32 bytes of slack after it.

import { convTile, gemmTile, INIT_LOAD, INIT_ZERO, MR } from "./gemm";

/** The geometry, set once per call by `setConvGeometry`. */
let gM: i32 = 0, gInH: i32 = 0, gInW: i32 = 0, gCIn: i32 = 0, gF: i32 = 0, gCOut: i32 = 0;
let gStride: i32 = 0, gPad: i32 = 0, gOutH: i32 = 0, gOutW: i32 = 0;

/** Records the geometry of the convolution the next calls work on. */
export function setConvGeometry(
  m: i32, inH: i32, inW: i32, cIn: i32, f: i32, cOut: i32,
  stride: i32, pad: i32, outH: i32, outW: i32,
): void {
  gM = m; gInH = inH; gInW = inW; gCIn = cIn; gF = f; gCOut = cOut;
  gStride = stride; gPad = pad; gOutH = outH; gOutW = outW;
}

/** The rows of the register tile in this build (6 relaxed, 4 plain). */
export function tileRows(): i32 {
  return MR;
}

/**
 * Gathers the im2col row of output pixel `q` (K floats: the f×f×cIn window,
 * zeros where it hangs over the padding) to `dst`, with `dstStep` bytes
 * between consecutive k.
 */
// @ts-ignore: decorator
@inline function gatherRow(x: usize, q: i32, dst: usize, dstStep: usize): void {
  const hw = gOutH * gOutW;
  const i = q / hw;
  const rem = q - i * hw;
  const oh = rem / gOutW;
  const ow = rem - oh * gOutW;
  const cIn = gCIn;
  const runBytes = <usize>cIn << 2;
  for (let kh = 0; kh < gF; kh++) {
    const ih = oh * gStride + kh - gPad;
    const rowOk = ih >= 0 && ih < gInH;
    for (let kw = 0; kw < gF; kw++) {
      const iw = ow * gStride + kw - gPad;
      if (rowOk && iw >= 0 && iw < gInW) {
        const src = x + ((<usize>((i * gInH + ih) * gInW + iw) * <usize>cIn) << 2);
        if (dstStep == 4) {
          memory.copy(dst, src, runBytes);
          dst += runBytes;
        } else {
          for (let c = 0; c < cIn; c++) {
            store<f32>(dst, load<f32>(src + (<usize>c << 2)));
            dst += dstStep;
          }
        }
      } else {
        if (dstStep == 4) {
          memory.fill(dst, 0, runBytes);
          dst += runBytes;
        } else {
          for (let c = 0; c < cIn; c++) {
            store<f32>(dst, 0);
            dst += dstStep;
          }
        }
      }
    }
  }
}

/**
 * Copies x into `xp` with `pad` zeros around height and width:
 * [m, inH + 2·pad, inW + 2·pad, cIn].
 */
export function padInput(x: usize, xp: usize): void {
  const Hp = gInH + 2 * gPad, Wp = gInW + 2 * gPad;
  const rowBytes = (<usize>(gInW * gCIn)) << 2;
  const padBytes = (<usize>(gPad * gCIn)) << 2;
  memory.fill(xp, 0, (<usize>(gM * Hp * Wp * gCIn)) << 2);
  for (let i = 0; i < gM; i++) {
    for (let h = 0; h < gInH; h++) {
      const dst = xp + ((<usize>((i * Hp + h + gPad) * Wp * gCIn)) << 2) + padBytes;
      memory.copy(dst, x + <usize>(i * gInH + h) * rowBytes, rowBytes);
    }
  }
}

/**
 * z = conv(xp, w) + bias, as a direct convolution over the padded input
 * `xp` (see `padInput`; when pad is 0, x itself). No im2col buffer: each
 * register tile reads its MR windows straight from `xp`. `bias` holds cOut
 * floats (plus slack). `relu` = 1 applies max(0, ·) before storing.
 */
export function convForward(xp: usize, w: usize, bias: usize, z: usize, relu: i32): void {
  const M = gM * gOutH * gOutW;
  const N = gCOut;
  const Hp = gInH + 2 * gPad, Wp = gInW + 2 * gPad;
  const cIn = gCIn;
  const run = gF * cIn;
  const rowBytes = (<usize>(Wp * cIn)) << 2;
  const rowJump = rowBytes - (<usize>run << 2);
  const ldz = <usize>N << 2;
  // The window start of output pixel q, in bytes from xp.
  let qi = 0, qh = 0, qw = 0;
  for (let row0 = 0; row0 < M; row0 += MR) {
    const mr = min(MR, M - row0);
    let p0: usize = 0, p1: usize = 0, p2: usize = 0, p3: usize = 0, p4: usize = 0, p5: usize = 0;
    for (let r = 0; r < MR; r++) {
      let p: usize = p0;
      if (r < mr) {
        p = xp + (<usize>((qi * Hp + qh * gStride) * Wp + qw * gStride) * <usize>cIn << 2);
        if (++qw == gOutW) {
          qw = 0;
          if (++qh == gOutH) {
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
    for (let n0 = 0; n0 < N; n0 += 8) {
      convTile(
        p0, p1, p2, p3, p4, p5, gF, run, rowJump, w + (<usize>n0 << 2), ldz,
        z + <usize>row0 * ldz + (<usize>n0 << 2), ldz, mr, min(8, N - n0), bias + (<usize>n0 << 2), relu,
      );
    }
  }
}

/**
 * dW (as its transpose dWT [Np][Kp], Np = MR·ceil(N/MR), Kp = 8·ceil(K/8))
 * and db from x and dz. `col` is scratch for mb·K floats, mb ≤ `blockRows`.
 * dWT is zeroed here; the host transposes it with `transposeOut`.
 */
export function convBackwardFilter(
  x: usize, dz: usize, dwt: usize, db: usize, col: usize, blockRows: i32,
): void {
  const M = gM * gOutH * gOutW;
  const K = gF * gF * gCIn;
  const N = gCOut;
  const Np = ((N + MR - 1) / MR) * MR;
  const Kp = ((K + 7) >> 3) << 3;
  const ldk = <usize>K << 2;
  const ldn = <usize>N << 2;
  const ldw = <usize>Kp << 2;
  memory.fill(dwt, 0, <usize>Np * ldw);
  for (let m0 = 0; m0 < M; m0 += blockRows) {
    const mb = min(blockRows, M - m0);
    for (let r = 0; r < mb; r++) gatherRow(x, m0 + r, col + <usize>r * ldk, 4);
    const dzBlock = dz + <usize>m0 * ldn;
    for (let k0 = 0; k0 < K; k0 += 8) {
      for (let n0 = 0; n0 < N; n0 += MR) {
        gemmTile(
          mb, dzBlock + (<usize>n0 << 2), ldn, col + (<usize>k0 << 2), ldk,
          dwt + <usize>n0 * ldw + (<usize>k0 << 2), ldw, MR, 8, INIT_LOAD,
        );
      }
    }
  }
  columnSums(dz, db, M, N);
}

/** out[k·N + n] = src[n·Kp + k]: dWT back to the filter layout. */
export function transposeOut(src: usize, out: usize, K: i32, N: i32, Kp: i32): void {
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      store<f32>(out + ((<usize>(k * N + n)) << 2), load<f32>(src + ((<usize>(n * Kp + k)) << 2)));
    }
  }
}

/** db[n] = Σ_m dz[m, n], four columns at a time. */
function columnSums(dz: usize, db: usize, M: i32, N: i32): void {
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
 * dx from dz and w. `wt` is scratch for W transposed ([N][K], plus slack),
 * `panel` for MR·N floats and `dcol` for MR·Kp floats.
 */
export function convBackwardData(
  dz: usize, w: usize, dx: usize, wt: usize, panel: usize, dcol: usize,
): void {
  const M = gM * gOutH * gOutW;
  const K = gF * gF * gCIn;
  const N = gCOut;
  const Kp = ((K + 7) >> 3) << 3;
  const ldk = <usize>K << 2;
  const ldc = <usize>Kp << 2;
  const aStep = <usize>MR << 2;
  // W^T so that B rows (fixed n) hold consecutive k.
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      store<f32>(wt + ((<usize>(n * K + k)) << 2), load<f32>(w + ((<usize>(k * N + n)) << 2)));
    }
  }
  memory.fill(dx, 0, (<usize>(gM * gInH * gInW * gCIn)) << 2);
  for (let row0 = 0; row0 < M; row0 += MR) {
    const mr = min(MR, M - row0);
    // Pack dz rows row0..row0+MR as [N][MR].
    for (let r = 0; r < MR; r++) {
      let dst = panel + (<usize>r << 2);
      if (r < mr) {
        const src = dz + (<usize>((row0 + r) * N) << 2);
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
    for (let r = 0; r < mr; r++) scatterRow(dx, row0 + r, dcol + <usize>r * ldc);
  }
}

/** col2im for one output pixel: adds its K gradient values into dx. */
// @ts-ignore: decorator
@inline function scatterRow(dx: usize, q: i32, src: usize): void {
  const hw = gOutH * gOutW;
  const i = q / hw;
  const rem = q - i * hw;
  const oh = rem / gOutW;
  const ow = rem - oh * gOutW;
  const cIn = gCIn;
  const c4 = cIn & ~3;
  for (let kh = 0; kh < gF; kh++) {
    const ih = oh * gStride + kh - gPad;
    if (ih < 0 || ih >= gInH) {
      src += (<usize>(gF * cIn)) << 2;
      continue;
    }
    for (let kw = 0; kw < gF; kw++) {
      const iw = ow * gStride + kw - gPad;
      if (iw >= 0 && iw < gInW) {
        const dst = dx + ((<usize>((i * gInH + ih) * gInW + iw) * <usize>cIn) << 2);
        let c = 0;
        for (; c < c4; c += 4) {
          const o = <usize>c << 2;
          v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
        }
        for (; c < cIn; c++) {
          const o = <usize>c << 2;
          store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
        }
      }
      src += <usize>cIn << 2;
    }
  }
}

// Register-blocked GEMM micro-kernels: C[MR×8] (+)= Σ_k A[MR] ⊗ B[8].
//
// The relaxed build uses a 6×8 tile with f32x4.relaxed_madd (12 accumulators);
// the plain SIMD build uses 4×8 with mul + add, because 6×8 spills registers
// without a fused multiply-add. Operands are read through two pointers that
// advance by a step each iteration, so the same kernel serves row-major,
// transposed and packed operands:
//   A: MR consecutive floats at `a`, then a += aStep
//   B: 8 consecutive floats at `b`, then b += bStep
// Reading past the end of a row (when fewer than MR or 8 values are valid)
// is harmless: the caller leaves slack after every buffer and the extra rows
// or columns are never stored.

/** Rows of the register tile. */
export const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 4;

/** Start from zero. */
export const INIT_ZERO: i32 = 0;
/** Start from C itself (accumulate); only for full tiles. */
export const INIT_LOAD: i32 = 1;

/** Where partial tiles are staged: the first 256 bytes of memory, which JS never hands out. */
const TILE_TMP: usize = 0;

// @ts-ignore: decorator
@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** Copies an `mr × nr` corner of the staged tile to C. */
function storePartial(c: usize, ldc: usize, mr: i32, nr: i32): void {
  for (let r = 0; r < mr; r++) {
    const src = TILE_TMP + <usize>(r * 32);
    const dst = c + <usize>r * ldc;
    for (let j = 0; j < nr; j++) {
      store<f32>(dst + <usize>(j << 2), load<f32>(src + <usize>(j << 2)));
    }
  }
}

/**
 * One register tile: `kc` rank-1 updates, then a store of `mr × nr` values
 * (`mr ≤ MR`, `nr ≤ 8`) to C with row stride `ldc` bytes.
 */
export function gemmTile(
  kc: i32,
  a: usize,
  aStep: usize,
  b: usize,
  bStep: usize,
  c: usize,
  ldc: usize,
  mr: i32,
  nr: i32,
  init: i32,
): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    tile6x8(kc, a, aStep, b, bStep, c, ldc, mr, nr, init);
  } else {
    tile4x8(kc, a, aStep, b, bStep, c, ldc, mr, nr, init);
  }
}

function tile6x8(
  kc: i32,
  a: usize,
  aStep: usize,
  b: usize,
  bStep: usize,
  c: usize,
  ldc: usize,
  mr: i32,
  nr: i32,
  init: i32,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  if (init == INIT_LOAD) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + ldc); c11 = v128.load(c + ldc, 16);
    c20 = v128.load(c + 2 * ldc); c21 = v128.load(c + 2 * ldc, 16);
    c30 = v128.load(c + 3 * ldc); c31 = v128.load(c + 3 * ldc, 16);
    c40 = v128.load(c + 4 * ldc); c41 = v128.load(c + 4 * ldc, 16);
    c50 = v128.load(c + 5 * ldc); c51 = v128.load(c + 5 * ldc, 16);
  }
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let av = v128.load32_splat(a);
    c00 = fma(av, b0, c00); c01 = fma(av, b1, c01);
    av = v128.load32_splat(a, 4);
    c10 = fma(av, b0, c10); c11 = fma(av, b1, c11);
    av = v128.load32_splat(a, 8);
    c20 = fma(av, b0, c20); c21 = fma(av, b1, c21);
    av = v128.load32_splat(a, 12);
    c30 = fma(av, b0, c30); c31 = fma(av, b1, c31);
    av = v128.load32_splat(a, 16);
    c40 = fma(av, b0, c40); c41 = fma(av, b1, c41);
    av = v128.load32_splat(a, 20);
    c50 = fma(av, b0, c50); c51 = fma(av, b1, c51);
    a += aStep;
    b += bStep;
  }
  const full = mr == 6 && nr == 8;
  const dst = full ? c : TILE_TMP;
  const step = full ? ldc : 32;
  v128.store(dst, c00); v128.store(dst, c01, 16);
  v128.store(dst + step, c10); v128.store(dst + step, c11, 16);
  v128.store(dst + 2 * step, c20); v128.store(dst + 2 * step, c21, 16);
  v128.store(dst + 3 * step, c30); v128.store(dst + 3 * step, c31, 16);
  v128.store(dst + 4 * step, c40); v128.store(dst + 4 * step, c41, 16);
  v128.store(dst + 5 * step, c50); v128.store(dst + 5 * step, c51, 16);
  if (!full) storePartial(c, ldc, mr, nr);
}

function tile4x8(
  kc: i32,
  a: usize,
  aStep: usize,
  b: usize,
  bStep: usize,
  c: usize,
  ldc: usize,
  mr: i32,
  nr: i32,
  init: i32,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  if (init == INIT_LOAD) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + ldc); c11 = v128.load(c + ldc, 16);
    c20 = v128.load(c + 2 * ldc); c21 = v128.load(c + 2 * ldc, 16);
    c30 = v128.load(c + 3 * ldc); c31 = v128.load(c + 3 * ldc, 16);
  }
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let av = v128.load32_splat(a);
    c00 = fma(av, b0, c00); c01 = fma(av, b1, c01);
    av = v128.load32_splat(a, 4);
    c10 = fma(av, b0, c10); c11 = fma(av, b1, c11);
    av = v128.load32_splat(a, 8);
    c20 = fma(av, b0, c20); c21 = fma(av, b1, c21);
    av = v128.load32_splat(a, 12);
    c30 = fma(av, b0, c30); c31 = fma(av, b1, c31);
    a += aStep;
    b += bStep;
  }
  const full = mr == 4 && nr == 8;
  const dst = full ? c : TILE_TMP;
  const step = full ? ldc : 32;
  v128.store(dst, c00); v128.store(dst, c01, 16);
  v128.store(dst + step, c10); v128.store(dst + step, c11, 16);
  v128.store(dst + 2 * step, c20); v128.store(dst + 2 * step, c21, 16);
  v128.store(dst + 3 * step, c30); v128.store(dst + 3 * step, c31, 16);
  if (!full) storePartial(c, ldc, mr, nr);
}

/**
 * One register tile of a direct convolution over a zero-padded NHWC input:
 * rows are MR output pixels whose windows start at p0…p(MR-1), columns are 8
 * filters. The reduction runs over the window: `f` rows, each `run = f·cIn`
 * contiguous floats, then `rowJump` bytes to the next input row; the filter
 * pointer `w` advances `ldw` bytes per step ([f·f·cIn, cOut] row-major).
 * Bias is fused, and so is a ReLU when `relu` is 1 (NaN becomes 0, as in
 * `v > 0 ? v : 0`). Rows past `mr` should repeat p0 (their results are dropped).
 */
export function convTile(
  p0: usize, p1: usize, p2: usize, p3: usize, p4: usize, p5: usize,
  f: i32, run: i32, rowJump: usize, w: usize, ldw: usize,
  c: usize, ldc: usize, mr: i32, nr: i32, bias: usize, relu: i32,
): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    convTile6x8(p0, p1, p2, p3, p4, p5, f, run, rowJump, w, ldw, c, ldc, mr, nr, bias, relu);
  } else {
    convTile4x8(p0, p1, p2, p3, f, run, rowJump, w, ldw, c, ldc, mr, nr, bias, relu);
  }
}

function convTile6x8(
  p0: usize, p1: usize, p2: usize, p3: usize, p4: usize, p5: usize,
  f: i32, run: i32, rowJump: usize, w: usize, ldw: usize,
  c: usize, ldc: usize, mr: i32, nr: i32, bias: usize, relu: i32,
): void {
  let c00 = v128.load(bias), c01 = v128.load(bias, 16);
  let c10 = c00, c11 = c01, c20 = c00, c21 = c01;
  let c30 = c00, c31 = c01, c40 = c00, c41 = c01, c50 = c00, c51 = c01;
  let off: usize = 0;
  for (let kh = 0; kh < f; kh++) {
    for (let j = 0; j < run; j++) {
      const b0 = v128.load(w);
      const b1 = v128.load(w, 16);
      let av = v128.load32_splat(p0 + off);
      c00 = fma(av, b0, c00); c01 = fma(av, b1, c01);
      av = v128.load32_splat(p1 + off);
      c10 = fma(av, b0, c10); c11 = fma(av, b1, c11);
      av = v128.load32_splat(p2 + off);
      c20 = fma(av, b0, c20); c21 = fma(av, b1, c21);
      av = v128.load32_splat(p3 + off);
      c30 = fma(av, b0, c30); c31 = fma(av, b1, c31);
      av = v128.load32_splat(p4 + off);
      c40 = fma(av, b0, c40); c41 = fma(av, b1, c41);
      av = v128.load32_splat(p5 + off);
      c50 = fma(av, b0, c50); c51 = fma(av, b1, c51);
      off += 4;
      w += ldw;
    }
    off += rowJump;
  }
  if (relu) {
    // pmax(0, v) = 0 < v ? v : 0, one instruction; NaN gives 0.
    const z = f32x4.splat(0);
    c00 = f32x4.pmax(z, c00); c01 = f32x4.pmax(z, c01); c10 = f32x4.pmax(z, c10); c11 = f32x4.pmax(z, c11);
    c20 = f32x4.pmax(z, c20); c21 = f32x4.pmax(z, c21); c30 = f32x4.pmax(z, c30); c31 = f32x4.pmax(z, c31);
    c40 = f32x4.pmax(z, c40); c41 = f32x4.pmax(z, c41); c50 = f32x4.pmax(z, c50); c51 = f32x4.pmax(z, c51);
  }
  const full = mr == 6 && nr == 8;
  const dst = full ? c : TILE_TMP;
  const step = full ? ldc : 32;
  v128.store(dst, c00); v128.store(dst, c01, 16);
  v128.store(dst + step, c10); v128.store(dst + step, c11, 16);
  v128.store(dst + 2 * step, c20); v128.store(dst + 2 * step, c21, 16);
  v128.store(dst + 3 * step, c30); v128.store(dst + 3 * step, c31, 16);
  v128.store(dst + 4 * step, c40); v128.store(dst + 4 * step, c41, 16);
  v128.store(dst + 5 * step, c50); v128.store(dst + 5 * step, c51, 16);
  if (!full) storePartial(c, ldc, mr, nr);
}

function convTile4x8(
  p0: usize, p1: usize, p2: usize, p3: usize,
  f: i32, run: i32, rowJump: usize, w: usize, ldw: usize,
  c: usize, ldc: usize, mr: i32, nr: i32, bias: usize, relu: i32,
): void {
  let c00 = v128.load(bias), c01 = v128.load(bias, 16);
  let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
  let off: usize = 0;
  for (let kh = 0; kh < f; kh++) {
    for (let j = 0; j < run; j++) {
      const b0 = v128.load(w);
      const b1 = v128.load(w, 16);
      let av = v128.load32_splat(p0 + off);
      c00 = fma(av, b0, c00); c01 = fma(av, b1, c01);
      av = v128.load32_splat(p1 + off);
      c10 = fma(av, b0, c10); c11 = fma(av, b1, c11);
      av = v128.load32_splat(p2 + off);
      c20 = fma(av, b0, c20); c21 = fma(av, b1, c21);
      av = v128.load32_splat(p3 + off);
      c30 = fma(av, b0, c30); c31 = fma(av, b1, c31);
      off += 4;
      w += ldw;
    }
    off += rowJump;
  }
  if (relu) {
    const z = f32x4.splat(0);
    c00 = f32x4.pmax(z, c00); c01 = f32x4.pmax(z, c01); c10 = f32x4.pmax(z, c10); c11 = f32x4.pmax(z, c11);
    c20 = f32x4.pmax(z, c20); c21 = f32x4.pmax(z, c21); c30 = f32x4.pmax(z, c30); c31 = f32x4.pmax(z, c31);
  }
  const full = mr == 4 && nr == 8;
  const dst = full ? c : TILE_TMP;
  const step = full ? ldc : 32;
  v128.store(dst, c00); v128.store(dst, c01, 16);
  v128.store(dst + step, c10); v128.store(dst + step, c11, 16);
  v128.store(dst + 2 * step, c20); v128.store(dst + 2 * step, c21, 16);
  v128.store(dst + 3 * step, c30); v128.store(dst + 3 * step, c31, 16);
  if (!full) storePartial(c, ldc, mr, nr);
}

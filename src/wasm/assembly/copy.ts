// Strided copies of rows of floats: concatenating and slicing along the
// channel axis (NHWC keeps a pixel's channels contiguous, so a channel block
// of every pixel is a row of a 2-D array with the pixel stride).
//
// Vectors are stored only within a row, never past it: the next row of the
// destination may be another input's channels.

/** dst[r·dstStride + j] = src[r·srcStride + j] for r < rows, j < n (strides in floats). */
export function copyRows(
  src: usize, dst: usize, rows: i32, n: i32, srcStride: i32, dstStride: i32,
): void {
  const bytes = <usize>n << 2, whole = bytes & ~15;
  const sStep = <usize>srcStride << 2, dStep = <usize>dstStride << 2;
  for (let r = 0; r < rows; r++) {
    let o: usize = 0;
    for (; o < whole; o += 16) v128.store(dst + o, v128.load(src + o));
    for (; o < bytes; o += 4) store<u32>(dst + o, load<u32>(src + o));
    src += sStep;
    dst += dStep;
  }
}

/** y[r·c + k] = x[r·c + perm[k]] for r < rows, k < c: a permutation of each row (`perm` i32 [c]). */
export function permuteRows(x: usize, y: usize, perm: usize, rows: i32, c: i32): void {
  const rowBytes = <usize>c << 2;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < c; k++) {
      const o = <usize>k << 2;
      store<u32>(y + o, load<u32>(x + (<usize>load<i32>(perm + o) << 2)));
    }
    x += rowBytes;
    y += rowBytes;
  }
}

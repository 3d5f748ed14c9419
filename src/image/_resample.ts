// This module is browser compatible.

/**
 * PIL's `Image.resize` with the bilinear filter on 8-bit images, as
 * torchvision's `Resize` calls it: separable, antialiased when shrinking
 * (the triangle filter widened by the scale), weights in 22-bit fixed
 * point, the horizontal pass first and rounded to 8 bits, then the
 * vertical. Same arithmetic as Pillow's `Resample.c`, so the same bytes.
 *
 * @module
 */

/** Pillow's `PRECISION_BITS` for 8-bit images. */
const BITS = 22;

/** Each output pixel's first source index, tap count and fixed-point weights. */
function coefficients(
  inSize: number,
  outSize: number,
): { start: Int32Array; count: Int32Array; k: Int32Array; ksize: number } {
  const scale = inSize / outSize, filterscale = Math.max(1, scale);
  const support = filterscale; // the bilinear filter's support is 1
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize), count = new Int32Array(outSize);
  const k = new Int32Array(outSize * ksize), w = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) truncates toward zero; the arguments here are > −1, so trunc, not floor.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      const v = t < 1 ? 1 - t : 0;
      w[x] = v;
      ww += v;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? w[x]! / ww : w[x]!;
      k[xx * ksize + x] = v < 0
        ? Math.trunc(-0.5 + v * (1 << BITS))
        : Math.trunc(0.5 + v * (1 << BITS));
    }
    start[xx] = xmin, count[xx] = xmax;
  }
  return { start, count, k, ksize };
}

const clip8 = (v: number) => {
  const x = v >> BITS;
  return x < 0 ? 0 : x > 255 ? 255 : x;
};

/**
 * Resizes `c`-channel 8-bit pixels from `w`×`h` to `ow`×`oh` as PIL's
 * bilinear `resize` does (a side that keeps its size is not resampled), and
 * returns the window `cw`×`ch` at (`left`, `top`) of the result, computing
 * only what the window needs (a centre crop of a resized photo keeps about
 * half of it): each output pixel depends on its own coefficients alone, so
 * the bytes are the full resize's, cropped.
 */
export function resampleWindow(
  src: Uint8Array,
  w: number,
  h: number,
  c: number,
  ow: number,
  oh: number,
  left: number,
  top: number,
  cw: number,
  ch: number,
): Uint8Array {
  // The vertical pass's coefficients say which source rows the window needs.
  const vert = oh !== h ? coefficients(h, oh) : null;
  let y0 = top, y1 = top + ch; // source rows [y0, y1)
  if (vert) {
    y0 = h, y1 = 0;
    for (let y = top; y < top + ch; y++) {
      y0 = Math.min(y0, vert.start[y]!), y1 = Math.max(y1, vert.start[y]! + vert.count[y]!);
    }
  }
  const rows = y1 - y0, line = cw * c;
  // Horizontal pass over those rows, only the window's columns.
  let cur: Uint8Array;
  if (ow !== w) {
    const { start, count, k, ksize } = coefficients(w, ow);
    cur = new Uint8Array(rows * line);
    for (let y = 0; y < rows; y++) {
      const row = (y + y0) * w * c, orow = y * line;
      for (let x = 0; x < cw; x++) {
        const xx = x + left, s0 = start[xx]!, n = count[xx]!, kb = xx * ksize;
        for (let j = 0; j < c; j++) {
          let ss = 1 << (BITS - 1);
          for (let i = 0, p = row + s0 * c + j; i < n; i++, p += c) ss += src[p]! * k[kb + i]!;
          cur[orow + x * c + j] = clip8(ss);
        }
      }
    }
  } else {
    cur = new Uint8Array(rows * line);
    for (let y = 0; y < rows; y++) {
      const from = ((y + y0) * w + left) * c;
      cur.set(src.subarray(from, from + line), y * line);
    }
  }
  if (!vert) return cur;
  // Vertical pass, the window's rows.
  const { start, count, k, ksize } = vert;
  const out = new Uint8Array(ch * line);
  const acc = new Float64Array(line);
  for (let y = 0; y < ch; y++) {
    const yy = y + top, s0 = start[yy]!, n = count[yy]!, kb = yy * ksize;
    acc.fill(1 << (BITS - 1));
    for (let i = 0; i < n; i++) {
      const kv = k[kb + i]!, r = (s0 - y0 + i) * line;
      for (let j = 0; j < line; j++) acc[j]! += cur[r + j]! * kv;
    }
    const o = y * line;
    for (let j = 0; j < line; j++) out[o + j] = clip8(acc[j]!);
  }
  return out;
}

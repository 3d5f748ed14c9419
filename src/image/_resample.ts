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
 * bilinear `resize` does (a side that keeps its size is not resampled).
 */
export function resample(
  src: Uint8Array,
  w: number,
  h: number,
  c: number,
  ow: number,
  oh: number,
): Uint8Array {
  let cur = src, cw = w;
  if (ow !== w) {
    const { start, count, k, ksize } = coefficients(w, ow);
    const out = new Uint8Array(ow * h * c);
    for (let y = 0; y < h; y++) {
      const row = y * w * c, orow = y * ow * c;
      for (let x = 0; x < ow; x++) {
        const s0 = start[x]!, n = count[x]!, kb = x * ksize;
        for (let ch = 0; ch < c; ch++) {
          let ss = 1 << (BITS - 1);
          for (let i = 0; i < n; i++) ss += cur[row + (s0 + i) * c + ch]! * k[kb + i]!;
          out[orow + x * c + ch] = clip8(ss);
        }
      }
    }
    cur = out, cw = ow;
  }
  if (oh !== h) {
    const { start, count, k, ksize } = coefficients(h, oh);
    const out = new Uint8Array(cw * oh * c), line = cw * c;
    const acc = new Float64Array(line);
    for (let y = 0; y < oh; y++) {
      const s0 = start[y]!, n = count[y]!, kb = y * ksize;
      acc.fill(1 << (BITS - 1));
      for (let i = 0; i < n; i++) {
        const kv = k[kb + i]!, r = (s0 + i) * line;
        for (let j = 0; j < line; j++) acc[j]! += cur[r + j]! * kv;
      }
      const o = y * line;
      for (let j = 0; j < line; j++) out[o + j] = clip8(acc[j]!);
    }
    cur = out;
  }
  return cur === src ? src.slice() : cur;
}

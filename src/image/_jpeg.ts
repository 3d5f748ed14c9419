// This module is browser compatible.

/**
 * A JPEG decoder (baseline, extended and progressive Huffman; grey, YCbCr,
 * RGB, CMYK and YCCK) that can decode at 1/2, 1/4 or 1/8 of the size in the
 * DCT domain, as libjpeg's `scale_denom` does: a block then yields 4×4, 2×2
 * or 1×1 pixels from its low frequencies, so a large photo for a small
 * target never exists at full size. Baseline scans are turned into pixels
 * block by block as they are decoded (no coefficients are kept);
 * progressive scans keep the coefficients of the whole image.
 *
 * The full-size transform is libjpeg's integer `islow`,
 * the reduced ones libjpeg's `jpeg_idct_4x4` and `jpeg_idct_2x2`, the
 * chroma upsampling libjpeg's "fancy" triangle filter and the colour
 * conversion libjpeg's fixed-point one: the output is the same bytes as
 * PIL's decode (and its `draft` for the scaled sizes), which the tests
 * check on every layout.
 *
 * @module
 */

import { ImageError } from "./_errors.ts";

/** The zig-zag order: the natural index of the k-th coefficient. */
const ZIGZAG = new Uint8Array([
  0,
  1,
  8,
  16,
  9,
  2,
  3,
  10,
  17,
  24,
  32,
  25,
  18,
  11,
  4,
  5,
  12,
  19,
  26,
  33,
  40,
  48,
  41,
  34,
  27,
  20,
  13,
  6,
  7,
  14,
  21,
  28,
  35,
  42,
  49,
  56,
  57,
  50,
  43,
  36,
  29,
  22,
  15,
  23,
  30,
  37,
  44,
  51,
  58,
  59,
  52,
  45,
  38,
  31,
  39,
  46,
  53,
  60,
  61,
  54,
  47,
  55,
  62,
  63,
  // Padding so that a corrupt run past 63 reads a harmless slot (the 64th entry of a block).
  64,
  64,
  64,
  64,
  64,
  64,
  64,
  64,
  64,
  64,
  64,
  64,
  64,
  64,
  64,
  64,
  64,
]);

const FAST_BITS = 9;

/** A Huffman table: a 9-bit lookup for short codes, canonical limits for the rest. */
interface Huffman {
  /** `(length << 8) | symbol` for codes of up to 9 bits, by their next 9 bits; 0 if longer. */
  fast: Uint16Array;
  /** The largest code of each length (1..16), left-aligned to 16 bits, + 1; index 17 is a sentinel. */
  maxcode: Int32Array;
  /** `valptr[l]`: the symbol index of the first code of length l, minus that code. */
  delta: Int32Array;
  values: Uint8Array;
  /**
   * For AC tables: where a code and its value bits together fit in 9 bits,
   * `(value << 8) | (run << 4) | bitsUsed` by the next 9 bits; 0 otherwise.
   */
  acFast: Int32Array;
}

function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const fast = new Uint16Array(1 << FAST_BITS);
  const maxcode = new Int32Array(18), delta = new Int32Array(17);
  let code = 0, k = 0;
  for (let len = 1; len <= 16; len++) {
    delta[len] = k - code;
    const n = counts[len - 1]!;
    for (let i = 0; i < n; i++, k++, code++) {
      if (len <= FAST_BITS) {
        const first = code << (FAST_BITS - len), span = 1 << (FAST_BITS - len);
        for (let j = 0; j < span; j++) fast[first + j] = (len << 8) | values[k]!;
      }
    }
    if (code > 1 << len) throw new ImageError(400, "corrupt JPEG: an over-full Huffman table");
    maxcode[len] = code << (16 - len);
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  const acFast = new Int32Array(1 << FAST_BITS);
  for (let i = 0; i < 1 << FAST_BITS; i++) {
    const f = fast[i]!;
    if (!f) continue;
    const len = f >> 8, rs = f & 255, run = rs >> 4, sz = rs & 15;
    if (sz === 0 || len + sz > FAST_BITS) continue;
    let v = (i >> (FAST_BITS - len - sz)) & ((1 << sz) - 1);
    if (v < 1 << (sz - 1)) v -= (1 << sz) - 1;
    acFast[i] = (v * 256) | (run << 4) | (len + sz);
  }
  return { fast, maxcode, delta, values, acFast };
}

/** One component of the frame. */
interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  /** Blocks per line and per column, counting the blocks that fill the last MCU. */
  bw: number;
  bh: number;
  /** Blocks that hold image data (a scan of this component alone covers only these). */
  dataW: number;
  dataH: number;
  /** Pixels per block side in the output plane: 1, 2, 4 or 8. */
  size: number;
  /** The decoded samples at `size` per block: `bw·size` × `bh·size`. */
  plane: Uint8Array;
  /** Progressive only: every coefficient, 64 per block (`bw·bh` blocks). */
  coefs: Int16Array | null;
  dcPred: number;
  dcTable: Huffman | null;
  acTable: Huffman | null;
}

/** What the headers said, for the caller to pick a scale. */
export interface JpegInfo {
  width: number;
  height: number;
  components: number;
  progressive: boolean;
  /** EXIF orientation, 1–8 (1 when absent). */
  orientation: number;
}

/** A decoded JPEG at the chosen scale: 1, 3 (RGB) channels per pixel. */
export interface JpegPixels {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
  orientation: number;
}

const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;

/** The EXIF orientation in an APP1 segment's payload, or 0 when there is none. */
function exifOrientation(b: Uint8Array, start: number, end: number): number {
  if (end - start < 14) return 0;
  if (
    b[start] !== 0x45 || b[start + 1] !== 0x78 || b[start + 2] !== 0x69 || b[start + 3] !== 0x66
  ) {
    return 0;
  }
  const t = start + 6, le = b[t] === 0x49;
  if (!le && b[t] !== 0x4d) return 0;
  const r16 = (at: number) => at + 2 > end ? -1 : le ? b[at]! | (b[at + 1]! << 8) : u16(b, at);
  const r32 = (at: number) =>
    at + 4 > end
      ? -1
      : le
      ? (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 16777216
      : b[at]! * 16777216 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
  const ifd = r32(t + 4);
  if (ifd < 0 || t + ifd + 2 > end) return 0;
  const n = r16(t + ifd);
  for (let i = 0; i < n; i++) {
    const e = t + ifd + 2 + i * 12;
    if (e + 12 > end) return 0;
    if (r16(e) === 0x0112) {
      const v = r16(e + 8);
      return v >= 1 && v <= 8 ? v : 0;
    }
  }
  return 0;
}

/** The frame's headers, read without decoding anything. */
export function jpegInfo(bytes: Uint8Array): JpegInfo {
  const p = parse(bytes, true);
  return {
    width: p.width,
    height: p.height,
    components: p.components.length,
    progressive: p.progressive,
    orientation: p.orientation,
  };
}

interface Parsed {
  width: number;
  height: number;
  progressive: boolean;
  orientation: number;
  components: Component[];
  hmax: number;
  vmax: number;
  adobe: number;
  jfif: boolean;
  /** Byte offset of the first scan header (after the SOF and everything before). */
  scans: number;
}

function bad(what: string): ImageError {
  return new ImageError(400, `corrupt JPEG: ${what}`);
}

/** Walks the segments up to the frame header (`headerOnly`) or up to the first scan. */
function parse(b: Uint8Array, headerOnly: boolean): Parsed {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) {
    throw new ImageError(400, "not a JPEG file (no SOI marker)");
  }
  let at = 2, orientation = 0, adobe = -1, jfif = false;
  let frame: Parsed | null = null;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) throw bad(`expected a marker at byte ${at}`);
    const m = b[at + 1]!;
    if (m === 0xff) {
      at++;
      continue;
    }
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      at += 2;
      continue;
    }
    if (m === 0xd9) break;
    const len = u16(b, at + 2);
    if (len < 2 || at + 2 + len > b.length) {
      throw new ImageError(400, `truncated JPEG: segment 0x${m.toString(16)} runs past the end`);
    }
    const s = at + 4, e = at + 2 + len;
    if (m === 0xe1 && !orientation) orientation = exifOrientation(b, s, e);
    else if (m === 0xe0 && len >= 7 && b[s] === 0x4a && b[s + 1] === 0x46) jfif = true;
    else if (m === 0xee && len >= 14 && b[s] === 0x41 && b[s + 1] === 0x64) adobe = b[s + 11]!;
    else if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      if (frame) throw bad("more than one frame header");
      if (m !== 0xc0 && m !== 0xc1 && m !== 0xc2) {
        throw new ImageError(
          400,
          `unsupported JPEG: frame type 0x${
            m.toString(16)
          } (baseline, extended and progressive Huffman are supported; lossless, hierarchical and arithmetic-coded are not)`,
        );
      }
      if (len < 8) throw bad("short frame header");
      if (b[s] !== 8) {
        throw new ImageError(400, `unsupported JPEG: ${b[s]}-bit samples (8-bit is supported)`);
      }
      const height = u16(b, s + 1), width = u16(b, s + 3), nc = b[s + 5]!;
      if (width === 0 || height === 0) {
        throw new ImageError(400, "the JPEG has zero width or height (DNL is not supported)");
      }
      if (nc !== 1 && nc !== 3 && nc !== 4) {
        throw new ImageError(400, `unsupported JPEG: ${nc} components (1, 3 or 4 are supported)`);
      }
      if (len < 8 + 3 * nc) throw bad("short frame header");
      const components: Component[] = [];
      let hmax = 1, vmax = 1;
      for (let i = 0; i < nc; i++) {
        const o = s + 6 + 3 * i, h = b[o + 1]! >> 4, v = b[o + 1]! & 15;
        if (h < 1 || h > 4 || v < 1 || v > 4) throw bad(`sampling factors ${h}×${v}`);
        if (b[o + 2]! > 3) throw bad(`quantisation table ${b[o + 2]}`);
        hmax = Math.max(hmax, h), vmax = Math.max(vmax, v);
        components.push({
          id: b[o]!,
          h,
          v,
          tq: b[o + 2]!,
          bw: 0,
          bh: 0,
          dataW: 0,
          dataH: 0,
          size: 8,
          plane: new Uint8Array(0),
          coefs: null,
          dcPred: 0,
          dcTable: null,
          acTable: null,
        });
      }
      frame = {
        width,
        height,
        progressive: m === 0xc2,
        orientation: 1,
        components,
        hmax,
        vmax,
        adobe,
        jfif,
        scans: at,
      };
      if (headerOnly) break;
    } else if (m === 0xda) {
      break;
    }
    at = e;
  }
  if (!frame) throw bad("no frame header before the image data");
  frame.orientation = orientation || 1;
  frame.adobe = adobe;
  frame.jfif = jfif;
  return frame;
}

/** 1 / 2^k scale choices: 8 (full), 4, 2 or 1 pixels per block side. */
export type BlockSize = 1 | 2 | 4 | 8;

/** The decoded size at `size` pixels per block side (libjpeg's rounding: up). */
export function scaledSize(w: number, h: number, size: BlockSize): [number, number] {
  return [Math.ceil((w * size) / 8), Math.ceil((h * size) / 8)];
}

// ---- inverse transforms --------------------------------------------------------------------

/** `clamp[v + C0]` is `v` limited to 0..255, for v in −4096..4095 (any valid file stays within). */
const C0 = 4096;
const clamp = new Uint8Array(2 * C0);
for (let i = 0; i < clamp.length; i++) clamp[i] = Math.max(0, Math.min(255, i - C0));

const F0_298 = 2446, F0_390 = 3196, F0_541 = 4433, F0_765 = 6270, F0_899 = 7373, F1_175 = 9633;
const F1_501 = 12299, F1_847 = 15137, F1_961 = 16069, F2_053 = 16819, F2_562 = 20995;
const F3_072 = 25172;
const work = new Int32Array(64);

/**
 * libjpeg's `jpeg_idct_islow`: the dequantised block `blk` (natural order,
 * already multiplied by the quantisation table) into 8×8 samples at
 * `out[at + y·stride + x]`.
 */
function idct8(blk: Int32Array, out: Uint8Array, at: number, stride: number): void {
  const ws = work;
  for (let c = 0; c < 8; c++) {
    const d1 = blk[8 + c]!, d2 = blk[16 + c]!, d3 = blk[24 + c]!, d4 = blk[32 + c]!;
    const d5 = blk[40 + c]!, d6 = blk[48 + c]!, d7 = blk[56 + c]!;
    if ((d1 | d2 | d3 | d4 | d5 | d6 | d7) === 0) {
      const dc = blk[c]! << 2;
      for (let r = 0; r < 64; r += 8) ws[r + c] = dc;
      continue;
    }
    let z1 = (d2 + d6) * F0_541;
    let t2 = z1 - d6 * F1_847, t3 = z1 + d2 * F0_765;
    let t0 = (blk[c]! + d4) * 8192, t1 = (blk[c]! - d4) * 8192;
    const t10 = t0 + t3, t13 = t0 - t3, t11 = t1 + t2, t12 = t1 - t2;
    t0 = d7, t1 = d5, t2 = d3, t3 = d1;
    z1 = t0 + t3;
    let z2 = t1 + t2, z3 = t0 + t2, z4 = t1 + t3;
    const z5 = (z3 + z4) * F1_175;
    t0 *= F0_298, t1 *= F2_053, t2 *= F3_072, t3 *= F1_501;
    z1 *= -F0_899, z2 *= -F2_562, z3 = z3 * -F1_961 + z5, z4 = z4 * -F0_390 + z5;
    t0 += z1 + z3, t1 += z2 + z4, t2 += z2 + z3, t3 += z1 + z4;
    ws[c] = (t10 + t3 + 1024) >> 11;
    ws[56 + c] = (t10 - t3 + 1024) >> 11;
    ws[8 + c] = (t11 + t2 + 1024) >> 11;
    ws[48 + c] = (t11 - t2 + 1024) >> 11;
    ws[16 + c] = (t12 + t1 + 1024) >> 11;
    ws[40 + c] = (t12 - t1 + 1024) >> 11;
    ws[24 + c] = (t13 + t0 + 1024) >> 11;
    ws[32 + c] = (t13 - t0 + 1024) >> 11;
  }
  for (let r = 0; r < 64; r += 8, at += stride) {
    const d1 = ws[r + 1]!, d2 = ws[r + 2]!, d3 = ws[r + 3]!, d4 = ws[r + 4]!;
    const d5 = ws[r + 5]!, d6 = ws[r + 6]!, d7 = ws[r + 7]!;
    if ((d1 | d2 | d3 | d4 | d5 | d6 | d7) === 0) {
      const v = clamp[C0 + 128 + ((ws[r]! + 16) >> 5)]!;
      for (let x = 0; x < 8; x++) out[at + x] = v;
      continue;
    }
    let z1 = (d2 + d6) * F0_541;
    let t2 = z1 - d6 * F1_847, t3 = z1 + d2 * F0_765;
    let t0 = (ws[r]! + d4) * 8192, t1 = (ws[r]! - d4) * 8192;
    const t10 = t0 + t3, t13 = t0 - t3, t11 = t1 + t2, t12 = t1 - t2;
    t0 = d7, t1 = d5, t2 = d3, t3 = d1;
    z1 = t0 + t3;
    let z2 = t1 + t2, z3 = t0 + t2, z4 = t1 + t3;
    const z5 = (z3 + z4) * F1_175;
    t0 *= F0_298, t1 *= F2_053, t2 *= F3_072, t3 *= F1_501;
    z1 *= -F0_899, z2 *= -F2_562, z3 = z3 * -F1_961 + z5, z4 = z4 * -F0_390 + z5;
    t0 += z1 + z3, t1 += z2 + z4, t2 += z2 + z3, t3 += z1 + z4;
    const R = 131072, S = C0 + 128;
    out[at] = clamp[S + ((t10 + t3 + R) >> 18)]!;
    out[at + 7] = clamp[S + ((t10 - t3 + R) >> 18)]!;
    out[at + 1] = clamp[S + ((t11 + t2 + R) >> 18)]!;
    out[at + 6] = clamp[S + ((t11 - t2 + R) >> 18)]!;
    out[at + 2] = clamp[S + ((t12 + t1 + R) >> 18)]!;
    out[at + 5] = clamp[S + ((t12 - t1 + R) >> 18)]!;
    out[at + 3] = clamp[S + ((t13 + t0 + R) >> 18)]!;
    out[at + 4] = clamp[S + ((t13 - t0 + R) >> 18)]!;
  }
}

const F0_211 = 1730, F0_509 = 4176, F0_601 = 4926, F0_720 = 5906, F0_850 = 6967, F1_061 = 8697;
const F1_272 = 10426, F1_451 = 11893, F2_172 = 17799, F3_624 = 29692;

/**
 * libjpeg's `jpeg_idct_4x4` (jidctred.c): 4×4 samples from the block's
 * frequencies (all but row and column 4), the scaled decode PIL's `draft`
 * gives.
 */
function idct4(blk: Int32Array, out: Uint8Array, at: number, stride: number): void {
  const ws = work;
  for (let c = 0; c < 8; c++) {
    if (c === 4) continue;
    const d1 = blk[8 + c]!, d2 = blk[16 + c]!, d3 = blk[24 + c]!;
    const d5 = blk[40 + c]!, d6 = blk[48 + c]!, d7 = blk[56 + c]!;
    if ((d1 | d2 | d3 | d5 | d6 | d7) === 0) {
      const dc = blk[c]! << 2;
      ws[c] =
        ws[8 + c] =
        ws[16 + c] =
        ws[24 + c] =
          dc;
      continue;
    }
    const t0 = blk[c]! * 16384, t2 = d2 * F1_847 - d6 * F0_765;
    const t10 = t0 + t2, t12 = t0 - t2;
    const o0 = -d7 * F0_211 + d5 * F1_451 - d3 * F2_172 + d1 * F1_061;
    const o2 = -d7 * F0_509 - d5 * F0_601 + d3 * F0_899 + d1 * F2_562;
    ws[c] = (t10 + o2 + 2048) >> 12;
    ws[24 + c] = (t10 - o2 + 2048) >> 12;
    ws[8 + c] = (t12 + o0 + 2048) >> 12;
    ws[16 + c] = (t12 - o0 + 2048) >> 12;
  }
  const S = C0 + 128;
  for (let r = 0; r < 32; r += 8, at += stride) {
    const d1 = ws[r + 1]!, d2 = ws[r + 2]!, d3 = ws[r + 3]!;
    const d5 = ws[r + 5]!, d6 = ws[r + 6]!, d7 = ws[r + 7]!;
    if ((d1 | d2 | d3 | d5 | d6 | d7) === 0) {
      const v = clamp[S + ((ws[r]! + 16) >> 5)]!;
      out[at] =
        out[at + 1] =
        out[at + 2] =
        out[at + 3] =
          v;
      continue;
    }
    const t0 = ws[r]! * 16384, t2 = d2 * F1_847 - d6 * F0_765;
    const t10 = t0 + t2, t12 = t0 - t2;
    const o0 = -d7 * F0_211 + d5 * F1_451 - d3 * F2_172 + d1 * F1_061;
    const o2 = -d7 * F0_509 - d5 * F0_601 + d3 * F0_899 + d1 * F2_562;
    const R = 262144;
    out[at] = clamp[S + ((t10 + o2 + R) >> 19)]!;
    out[at + 3] = clamp[S + ((t10 - o2 + R) >> 19)]!;
    out[at + 1] = clamp[S + ((t12 + o0 + R) >> 19)]!;
    out[at + 2] = clamp[S + ((t12 - o0 + R) >> 19)]!;
  }
}

/** libjpeg's `jpeg_idct_2x2`: 2×2 samples from the DC and the odd frequencies. */
function idct2(blk: Int32Array, out: Uint8Array, at: number, stride: number): void {
  const ws = work;
  for (const c of [0, 1, 3, 5, 7]) {
    const d1 = blk[8 + c]!, d3 = blk[24 + c]!, d5 = blk[40 + c]!, d7 = blk[56 + c]!;
    if ((d1 | d3 | d5 | d7) === 0) {
      ws[c] = ws[8 + c] = blk[c]! << 2;
      continue;
    }
    const t10 = blk[c]! * 32768;
    const t0 = -d7 * F0_720 + d5 * F0_850 - d3 * F1_272 + d1 * F3_624;
    ws[c] = (t10 + t0 + 4096) >> 13;
    ws[8 + c] = (t10 - t0 + 4096) >> 13;
  }
  const S = C0 + 128;
  for (let r = 0; r < 16; r += 8, at += stride) {
    const d1 = ws[r + 1]!, d3 = ws[r + 3]!, d5 = ws[r + 5]!, d7 = ws[r + 7]!;
    if ((d1 | d3 | d5 | d7) === 0) {
      out[at] = out[at + 1] = clamp[S + ((ws[r]! + 16) >> 5)]!;
      continue;
    }
    const t10 = ws[r]! * 32768;
    const t0 = -d7 * F0_720 + d5 * F0_850 - d3 * F1_272 + d1 * F3_624;
    out[at] = clamp[S + ((t10 + t0 + 524288) >> 20)]!;
    out[at + 1] = clamp[S + ((t10 - t0 + 524288) >> 20)]!;
  }
}

/** The reduced transforms by block size: 4×4, 2×2, or the block's mean. */
function idctSmall(n: number, blk: Int32Array, out: Uint8Array, at: number, stride: number): void {
  if (n === 4) idct4(blk, out, at, stride);
  else if (n === 2) idct2(blk, out, at, stride);
  else out[at] = clamp[C0 + 128 + ((blk[0]! + 4) >> 3)]!;
}

// ---- entropy decoding -------------------------------------------------------------------------

/** Decodes the scans of a parsed frame into each component's plane. */
function decodeScans(b: Uint8Array, f: Parsed, size: BlockSize): void {
  const qt: (Int32Array | null)[] = [null, null, null, null];
  const dc: (Huffman | null)[] = [null, null, null, null];
  const ac: (Huffman | null)[] = [null, null, null, null];
  const comps = f.components;
  const mcusX = Math.ceil(f.width / (8 * f.hmax)), mcusY = Math.ceil(f.height / (8 * f.vmax));
  let blocks = 0;
  for (const c of comps) {
    c.bw = mcusX * c.h, c.bh = mcusY * c.v;
    c.dataW = Math.ceil(Math.ceil((f.width * c.h) / f.hmax) / 8);
    c.dataH = Math.ceil(Math.ceil((f.height * c.v) / f.vmax) / 8);
    blocks += c.dataW * c.dataH;
  }
  // Every block costs at least one bit of the first scan that holds it: a file too short for the
  // frame it declares is refused before its planes are allocated (a 1 kB file cannot make us
  // allocate for 8192×8192).
  if (b.length * 8 < blocks) {
    throw new ImageError(
      400,
      `truncated JPEG: ${b.length} bytes cannot hold the ${blocks} blocks of a ${f.width}×${f.height} image`,
    );
  }
  for (const c of comps) {
    // libjpeg's choice: a subsampled component takes a larger transform instead of upsampling.
    let s = size as number;
    while (
      s < 8 && c.h * s * 2 <= f.hmax * size && c.v * s * 2 <= f.vmax * size
    ) s *= 2;
    c.size = s;
    c.plane = new Uint8Array(c.bw * s * c.bh * s);
    // At 1/8 only the DC coefficient of each block is needed (AC scans are skipped).
    if (f.progressive) c.coefs = new Int16Array(c.bw * c.bh * (s === 1 ? 1 : 64));
  }
  let restart = 0, at = 2;
  const blk = new Int32Array(65);
  let sawScan = false;
  // Walk every segment from the start (tables may come before or after the frame header).
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) throw bad(`expected a marker at byte ${at}`);
    const m = b[at + 1]!;
    if (m === 0xff) {
      at++;
      continue;
    }
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      at += 2;
      continue;
    }
    if (m === 0xd9) break;
    const len = u16(b, at + 2);
    if (len < 2 || at + 2 + len > b.length) {
      throw new ImageError(400, `truncated JPEG: segment 0x${m.toString(16)} runs past the end`);
    }
    const s = at + 4, e = at + 2 + len;
    if (m === 0xdb) {
      for (let p = s; p < e;) {
        const pq = b[p]! >> 4, tq = b[p]! & 15, n = pq ? 129 : 65;
        if (tq > 3 || p + n > e) throw bad("quantisation table header");
        const t = new Int32Array(64);
        for (let k = 0; k < 64; k++) {
          t[ZIGZAG[k]!] = pq ? u16(b, p + 1 + 2 * k) : b[p + 1 + k]!;
        }
        qt[tq] = t;
        p += n;
      }
    } else if (m === 0xc4) {
      for (let p = s; p < e;) {
        if (p + 17 > e) throw bad("Huffman table header");
        const tc = b[p]! >> 4, th = b[p]! & 15;
        if (tc > 1 || th > 3) throw bad("Huffman table class or id");
        const counts = b.subarray(p + 1, p + 17);
        let n = 0;
        for (let i = 0; i < 16; i++) n += counts[i]!;
        if (n > 256 || p + 17 + n > e) throw bad("Huffman table length");
        (tc ? ac : dc)[th] = buildHuffman(counts, b.subarray(p + 17, p + 17 + n));
        p += 17 + n;
      }
    } else if (m === 0xdd) {
      restart = u16(b, s);
    } else if (m === 0xda) {
      const ns = b[s]!;
      if (ns < 1 || ns > 4 || len < 6 + 2 * ns) throw bad("scan header");
      const scomps: Component[] = [];
      for (let i = 0; i < ns; i++) {
        const id = b[s + 1 + 2 * i]!, t = b[s + 2 + 2 * i]!;
        const c = comps.find((c) => c.id === id);
        if (!c) throw bad(`scan names component ${id}, which the frame does not have`);
        c.dcTable = dc[t >> 4] ?? null, c.acTable = ac[t & 15] ?? null;
        scomps.push(c);
      }
      const o = s + 1 + 2 * ns;
      const ss = b[o]!, se = b[o + 1]!, ah = b[o + 2]! >> 4, al = b[o + 2]! & 15;
      if (f.progressive) {
        if (se > 63 || ss > se || (ss === 0 && se !== 0) || (ss > 0 && ns !== 1) || al > 13) {
          throw bad(`progressive scan parameters Ss=${ss} Se=${se} Al=${al}`);
        }
      }
      for (const c of scomps) {
        if (!qt[c.tq]) throw bad(`component ${c.id} uses quantisation table ${c.tq}, not defined`);
        if ((!f.progressive || ss === 0) && ah === 0 && !c.dcTable) {
          throw bad(`component ${c.id} uses a DC Huffman table that is not defined`);
        }
        if ((!f.progressive || ss > 0) && !c.acTable) {
          throw bad(`component ${c.id} uses an AC Huffman table that is not defined`);
        }
      }
      if (f.progressive && ss > 0 && scomps.every((c) => c.size === 1)) {
        // An eighth-size decode uses the DC coefficients alone: AC scans are skipped unread.
        at = scanEnd(b, e);
        continue;
      }
      at = f.progressive
        ? scan(b, e, scomps, restart, ss, se, ah, al, mcusX, mcusY)
        : baselineScan(b, e, scomps, restart, qt, blk, mcusX, mcusY);
      sawScan = true;
      continue;
    }
    at = e;
  }
  if (!sawScan) throw bad("no image data (no scan)");
  if (f.progressive) {
    for (const c of comps) {
      const q = qt[c.tq];
      if (!q) throw bad(`component ${c.id} uses quantisation table ${c.tq}, not defined`);
      const co = c.coefs!, stride = c.bw * c.size;
      if (c.size === 1) {
        for (let i = 0; i < c.bw * c.bh; i++) {
          c.plane[i] = clamp[C0 + 128 + ((co[i]! * q[0]! + 4) >> 3)]!;
        }
        c.coefs = null;
        continue;
      }
      for (let by = 0; by < c.bh; by++) {
        for (let bx = 0; bx < c.bw; bx++) {
          const base = (by * c.bw + bx) * 64;
          for (let k = 0; k < 64; k++) blk[k] = co[base + k]! * q[k]!;
          const out = by * c.size * stride + bx * c.size;
          if (c.size === 8) idct8(blk, c.plane, out, stride);
          else idctSmall(c.size, blk, c.plane, out, stride);
        }
      }
      c.coefs = null;
    }
  }
}

/**
 * Decodes one progressive scan starting at `start` (just after its header)
 * into the coefficients; returns the offset of the marker that ends it.
 */
function scan(
  b: Uint8Array,
  start: number,
  comps: Component[],
  restart: number,
  ss: number,
  se: number,
  ah: number,
  al: number,
  mcusX: number,
  mcusY: number,
): number {
  // The bit buffer holds its `bits` valid bits right-aligned, never more than 30, so every value
  // stays a small integer (no heap numbers for the closures' shared variables).
  let pos = start, buf = 0, bits = 0, marker = false, eobrun = 0, padded = 0;
  const n = b.length;
  const fill = () => {
    while (bits <= 22) {
      let c = 0;
      if (pos >= n) padded++;
      else if (!marker) {
        c = b[pos]!;
        if (c === 0xff) {
          if (pos + 1 < n && b[pos + 1] === 0) pos += 2;
          else marker = true, c = 0;
        } else pos++;
      }
      buf = (buf << 8) | c;
      bits += 8;
    }
  };
  const decode = (t: Huffman): number => {
    if (bits < 16) fill();
    const f9 = t.fast[(buf >> (bits - FAST_BITS)) & 511]!;
    if (f9) {
      const len = f9 >> 8;
      bits -= len, buf &= (1 << bits) - 1;
      return f9 & 255;
    }
    const top = (buf >> (bits - 16)) & 0xffff;
    let len = FAST_BITS + 1;
    while (top >= t.maxcode[len]!) len++;
    if (len > 16) throw bad("a Huffman code that is in no table");
    const code = top >> (16 - len);
    bits -= len, buf &= (1 << bits) - 1;
    const i = code + t.delta[len]!;
    if (i < 0 || i >= t.values.length) throw bad("a Huffman code that is in no table");
    return t.values[i]!;
  };
  const receiveRaw = (s: number): number => {
    if (bits < s) fill();
    bits -= s;
    const v = buf >> bits;
    buf &= (1 << bits) - 1;
    return v;
  };
  const receive = (s: number): number => {
    const v = receiveRaw(s);
    return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
  };
  const bit = (): number => {
    if (bits < 1) fill();
    bits--;
    const v = buf >> bits;
    buf &= (1 << bits) - 1;
    return v;
  };
  const p1 = 1 << al, m1 = -1 << al;
  let co: Int16Array = new Int16Array(0);
  const refine = (i: number) => {
    if (bit()) {
      const v = co[i]!;
      if ((v & p1) === 0) co[i] = v >= 0 ? v + p1 : v + m1;
    }
  };

  const progressiveBlock = (c: Component, bx: number, by: number) => {
    co = c.coefs!;
    const base = (by * c.bw + bx) * (c.size === 1 ? 1 : 64);
    if (ss === 0) {
      if (ah === 0) {
        const t = decode(c.dcTable!);
        if (t > 16) throw bad("a DC difference longer than 16 bits");
        c.dcPred += t ? receive(t) : 0;
        co[base] = c.dcPred * (1 << al);
      } else if (bit()) co[base] = co[base]! | (1 << al);
      return;
    }
    const act = c.acTable!;
    if (ah === 0) {
      if (eobrun > 0) {
        eobrun--;
        return;
      }
      for (let k = ss; k <= se;) {
        const rs = decode(act), s = rs & 15, r = rs >> 4;
        if (s === 0) {
          if (r < 15) {
            eobrun = (1 << r) - 1;
            if (r) eobrun += receiveRaw(r);
            break;
          }
          k += 16;
          continue;
        }
        k += r;
        if (k > 63) throw bad("a coefficient past the end of a block");
        co[base + ZIGZAG[k]!] = receive(s) * (1 << al);
        k++;
      }
      return;
    }
    if (eobrun > 0) {
      eobrun--;
      for (let k = ss; k <= se; k++) if (co[base + ZIGZAG[k]!] !== 0) refine(base + ZIGZAG[k]!);
      return;
    }
    let k = ss;
    while (k <= se) {
      const rs = decode(act);
      let s = rs & 15, r = rs >> 4;
      if (s === 0) {
        if (r < 15) {
          eobrun = (1 << r) - 1;
          if (r) eobrun += receiveRaw(r);
          r = 64;
        }
      } else {
        if (s !== 1) throw bad("a refinement value of more than one bit");
        s = bit() ? p1 : m1;
      }
      while (k <= se) {
        const i = base + ZIGZAG[k++]!;
        if (co[i] !== 0) refine(i);
        else {
          if (r === 0) {
            if (s) co[i] = s;
            break;
          }
          r--;
        }
      }
    }
  };
  const block = progressiveBlock;

  const reset = () => {
    buf = 0, bits = 0, eobrun = 0;
    for (const c of comps) c.dcPred = 0;
    // Skip to the RSTn marker (tolerating a missing one) and past it.
    while (pos + 1 < n && !(b[pos] === 0xff && b[pos + 1] !== 0 && b[pos + 1] !== 0xff)) pos++;
    if (pos + 1 < n && b[pos + 1]! >= 0xd0 && b[pos + 1]! <= 0xd7) pos += 2;
    marker = false;
  };

  let todo = restart || Infinity;
  if (comps.length === 1) {
    const c = comps[0]!;
    for (let by = 0; by < c.dataH; by++) {
      for (let bx = 0; bx < c.dataW; bx++) {
        if (todo-- === 0) {
          reset();
          todo = restart - 1;
        }
        block(c, bx, by);
      }
    }
  } else {
    for (let my = 0; my < mcusY; my++) {
      for (let mx = 0; mx < mcusX; mx++) {
        if (todo-- === 0) {
          reset();
          todo = restart - 1;
        }
        for (const c of comps) {
          for (let v = 0; v < c.v; v++) {
            for (let h = 0; h < c.h; h++) block(c, mx * c.h + h, my * c.v + v);
          }
        }
      }
    }
  }
  if (padded * 8 > bits) throw new ImageError(400, "truncated JPEG: the image data ends early");
  return scanEnd(b, pos);
}

/**
 * Decodes one baseline scan starting at `start`, each block straight to
 * pixels; returns the offset of the marker that ends it. The bit reader,
 * Huffman lookups and value extension are written out inline (the hot loop
 * of a decode: locals, not closures, run about twice as fast in V8).
 */
function baselineScan(
  b: Uint8Array,
  start: number,
  comps: Component[],
  restart: number,
  qt: (Int32Array | null)[],
  blk: Int32Array,
  mcusX: number,
  mcusY: number,
): number {
  let pos = start, buf = 0, bits = 0, marker = false, padded = 0;
  const n = b.length, zz = ZIGZAG;
  const single = comps.length === 1;
  const first = comps[0]!;
  const unitsX = single ? first.dataW : mcusX, unitsY = single ? first.dataH : mcusY;
  let todo = restart || Infinity;
  for (const c of comps) c.dcPred = 0;
  for (let my = 0; my < unitsY; my++) {
    for (let mx = 0; mx < unitsX; mx++) {
      if (todo-- === 0) {
        buf = 0, bits = 0, marker = false;
        for (const c of comps) c.dcPred = 0;
        while (pos + 1 < n && !(b[pos] === 0xff && b[pos + 1] !== 0 && b[pos + 1] !== 0xff)) pos++;
        if (pos + 1 < n && b[pos + 1]! >= 0xd0 && b[pos + 1]! <= 0xd7) pos += 2;
        todo = restart - 1;
      }
      for (let ci = 0; ci < comps.length; ci++) {
        const c = comps[ci]!, q = qt[c.tq]!, dct = c.dcTable!, act = c.acTable!;
        const dcFast = dct.fast, acFast = act.acFast, acLook = act.fast;
        const hs = single ? 1 : c.h, vs = single ? 1 : c.v, dconly = c.size === 1;
        const stride = c.bw * c.size;
        for (let v = 0; v < vs; v++) {
          for (let h = 0; h < hs; h++) {
            blk.fill(0);
            // DC: the difference's size, then its bits.
            while (bits <= 24) {
              let x = 0;
              if (pos >= n) padded++;
              else if (!marker) {
                x = b[pos]!;
                if (x === 0xff) {
                  if (pos + 1 < n && b[pos + 1] === 0) pos += 2;
                  else marker = true, x = 0;
                } else pos++;
              }
              buf = (buf | (x << (24 - bits))) >>> 0;
              bits += 8;
            }
            let look = dcFast[buf >>> 23]!, t: number, len: number;
            if (look) len = look >> 8, t = look & 255;
            else {
              const top = buf >>> 16;
              len = FAST_BITS + 1;
              while (top >= dct.maxcode[len]!) len++;
              if (len > 16) throw bad("a Huffman code that is in no table");
              const i = (buf >>> (32 - len)) + dct.delta[len]!;
              if (i < 0 || i >= dct.values.length) throw bad("a Huffman code that is in no table");
              t = dct.values[i]!;
            }
            buf = (buf << len) >>> 0, bits -= len;
            if (t) {
              if (t > 16) throw bad("a DC difference longer than 16 bits");
              while (bits <= 24) {
                let x = 0;
                if (pos >= n) padded++;
                else if (!marker) {
                  x = b[pos]!;
                  if (x === 0xff) {
                    if (pos + 1 < n && b[pos + 1] === 0) pos += 2;
                    else marker = true, x = 0;
                  } else pos++;
                }
                buf = (buf | (x << (24 - bits))) >>> 0;
                bits += 8;
              }
              let d = buf >>> (32 - t);
              buf = (buf << t) >>> 0, bits -= t;
              if (d < 1 << (t - 1)) d -= (1 << t) - 1;
              c.dcPred += d;
            }
            blk[0] = c.dcPred * q[0]!;
            // AC: run/size symbols; short codes with their value in one lookup.
            for (let k = 1; k < 64;) {
              if (bits < 16) {
                while (bits <= 24) {
                  let x = 0;
                  if (pos >= n) padded++;
                  else if (!marker) {
                    x = b[pos]!;
                    if (x === 0xff) {
                      if (pos + 1 < n && b[pos + 1] === 0) pos += 2;
                      else marker = true, x = 0;
                    } else pos++;
                  }
                  buf = (buf | (x << (24 - bits))) >>> 0;
                  bits += 8;
                }
              }
              const p9 = buf >>> 23, f = acFast[p9]!;
              if (f) {
                k += (f >> 4) & 15;
                const used = f & 15;
                buf = (buf << used) >>> 0, bits -= used;
                if (!dconly && k < 64) blk[zz[k]!] = (f >> 8) * q[zz[k]!]!;
                k++;
                continue;
              }
              look = acLook[p9]!;
              let rs: number;
              if (look) len = look >> 8, rs = look & 255;
              else {
                const top = buf >>> 16;
                len = FAST_BITS + 1;
                while (top >= act.maxcode[len]!) len++;
                if (len > 16) throw bad("a Huffman code that is in no table");
                const i = (buf >>> (32 - len)) + act.delta[len]!;
                if (i < 0 || i >= act.values.length) {
                  throw bad("a Huffman code that is in no table");
                }
                rs = act.values[i]!;
              }
              buf = (buf << len) >>> 0, bits -= len;
              const sz = rs & 15, run = rs >> 4;
              if (sz === 0) {
                if (run !== 15) break;
                k += 16;
                continue;
              }
              k += run;
              while (bits <= 24) {
                let x = 0;
                if (pos >= n) padded++;
                else if (!marker) {
                  x = b[pos]!;
                  if (x === 0xff) {
                    if (pos + 1 < n && b[pos + 1] === 0) pos += 2;
                    else marker = true, x = 0;
                  } else pos++;
                }
                buf = (buf | (x << (24 - bits))) >>> 0;
                bits += 8;
              }
              let val = buf >>> (32 - sz);
              buf = (buf << sz) >>> 0, bits -= sz;
              if (val < 1 << (sz - 1)) val -= (1 << sz) - 1;
              if (!dconly && k < 64) blk[zz[k]!] = val * q[zz[k]!]!;
              k++;
            }
            const bx = single ? mx : mx * c.h + h, by = single ? my : my * c.v + v;
            const out = by * c.size * stride + bx * c.size;
            if (c.size === 8) idct8(blk, c.plane, out, stride);
            else idctSmall(c.size, blk, c.plane, out, stride);
          }
        }
      }
    }
  }
  if (padded * 8 > bits) throw new ImageError(400, "truncated JPEG: the image data ends early");
  return scanEnd(b, pos);
}

/** The marker that ends a scan at or after `pos` (skipping stray restart markers and fill bytes). */
function scanEnd(b: Uint8Array, pos: number): number {
  const n = b.length;
  while (pos + 1 < n) {
    const d = b[pos + 1]!;
    if (b[pos] === 0xff && d !== 0 && d !== 0xff && !(d >= 0xd0 && d <= 0xd7)) break;
    pos++;
  }
  return pos + 1 < n ? pos : n;
}

// ---- upsampling and colour ----------------------------------------------------------------------

/**
 * A component's plane brought to `w`×`h` output samples: as it is when it
 * has the output's resolution, with libjpeg's triangle filter when it has
 * half of it across (and down), by repeating samples otherwise.
 */
function upsample(c: Component, f: Parsed, size: number, w: number, h: number): Uint8Array {
  const pw = c.bw * c.size, ph = c.bh * c.size;
  const fx = (f.hmax * size) / (c.h * c.size), fy = (f.vmax * size) / (c.v * c.size);
  const src = c.plane, out = new Uint8Array(w * h);
  const cw = Math.min(pw, Math.ceil(w / fx)), ch = Math.min(ph, Math.ceil(h / fy));
  if (fx === 1 && fy === 1) {
    for (let y = 0; y < h; y++) out.set(src.subarray(y * pw, y * pw + w), y * w);
  } else if (fx === 2 && (fy === 1 || fy === 2) && size > 1) {
    // libjpeg's h2v1 / h2v2 "fancy" upsampling over the image's own samples (edges replicated);
    // like libjpeg, not at 1/8 scale.
    const row = new Int32Array(cw);
    for (let y = 0; y < h; y++) {
      const sy = fy === 2 ? y >> 1 : y;
      if (fy === 2) {
        const far = Math.max(0, Math.min(ch - 1, y & 1 ? sy + 1 : sy - 1));
        for (let x = 0; x < cw; x++) row[x] = 3 * src[sy * pw + x]! + src[far * pw + x]!;
      } else for (let x = 0; x < cw; x++) row[x] = src[sy * pw + x]!;
      const o = y * w;
      if (fy === 2) {
        // Column sums are 4× the sample; the results are /16.
        for (let x = 0; x < cw; x++) {
          const t = row[x]!, l = row[x > 0 ? x - 1 : 0]!, r = row[x < cw - 1 ? x + 1 : cw - 1]!;
          const a = x === 0 ? (t * 4 + 8) >> 4 : (t * 3 + l + 8) >> 4;
          const bb = x === cw - 1 ? (t * 4 + 7) >> 4 : (t * 3 + r + 7) >> 4;
          if (2 * x < w) out[o + 2 * x] = a;
          if (2 * x + 1 < w) out[o + 2 * x + 1] = bb;
        }
      } else {
        for (let x = 0; x < cw; x++) {
          const t = row[x]!, l = row[x > 0 ? x - 1 : 0]!, r = row[x < cw - 1 ? x + 1 : cw - 1]!;
          const a = x === 0 ? t : (t * 3 + l + 1) >> 2;
          const bb = x === cw - 1 ? t : (t * 3 + r + 2) >> 2;
          if (2 * x < w) out[o + 2 * x] = a;
          if (2 * x + 1 < w) out[o + 2 * x + 1] = bb;
        }
      }
    }
  } else {
    for (let y = 0; y < h; y++) {
      const sr = Math.min(ph - 1, Math.floor(y / fy)) * pw;
      for (let x = 0; x < w; x++) out[y * w + x] = src[sr + Math.min(pw - 1, Math.floor(x / fx))]!;
    }
  }
  return out;
}

const CR_R = new Int32Array(256), CB_B = new Int32Array(256);
const CR_G = new Int32Array(256), CB_G = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_R[i] = (Math.round(1.402 * 65536) * x + 32768) >> 16;
  CB_B[i] = (Math.round(1.772 * 65536) * x + 32768) >> 16;
  CR_G[i] = -Math.round(0.71414 * 65536) * x;
  CB_G[i] = -Math.round(0.34414 * 65536) * x + 32768;
}

/**
 * Decodes a JPEG at `size` pixels per 8×8 block (8: full size; 4, 2, 1:
 * half, a quarter, an eighth), to grey or RGB.
 */
export function decodeJpeg(bytes: Uint8Array, size: BlockSize, maxPixels: number): JpegPixels {
  const f = parse(bytes, false);
  const [w, h] = scaledSize(f.width, f.height, size);
  if (f.width * f.height > maxPixels) {
    throw new ImageError(
      413,
      `the JPEG is ${f.width}×${f.height}, more than the ${maxPixels} pixels accepted`,
    );
  }
  decodeScans(bytes, f, size);
  const planes = f.components.map((c) => upsample(c, f, size, w, h));
  const nc = planes.length;
  if (nc === 1) {
    return { width: w, height: h, channels: 1, data: planes[0]!, orientation: f.orientation };
  }
  const out = new Uint8Array(w * h * 3);
  const p0 = planes[0]!, p1 = planes[1]!, p2 = planes[2]!;
  // libjpeg's rule: Adobe transform 0 means no colour transform; without Adobe, "RGB" ids mean RGB.
  const rgbIds = f.components[0]!.id === 82 && f.components[1]!.id === 71 &&
    f.components[2]!.id === 66;
  const transform = f.adobe >= 0 ? f.adobe !== 0 : nc === 3 ? f.jfif || !rgbIds : false;
  if (nc === 3) {
    for (let i = 0, o = 0; i < w * h; i++, o += 3) {
      const y = p0[i]!, cb = p1[i]!, cr = p2[i]!;
      if (transform) {
        out[o] = clamp[C0 + y + CR_R[cr]!]!;
        out[o + 1] = clamp[C0 + y + ((CB_G[cb]! + CR_G[cr]!) >> 16)]!;
        out[o + 2] = clamp[C0 + y + CB_B[cb]!]!;
      } else {
        out[o] = y, out[o + 1] = cb, out[o + 2] = cr;
      }
    }
  } else {
    // CMYK as Adobe writes it (inverted: 255 is no ink); YCCK is YCbCr for C, M, Y.
    const p3 = planes[3]!;
    for (let i = 0, o = 0; i < w * h; i++, o += 3) {
      let c = p0[i]!, m = p1[i]!, yy = p2[i]!;
      if (transform) {
        // YCCK: libjpeg's C, M, Y are 255 minus the YCbCr colour's R, G, B.
        const y = c, cb = m, cr = yy;
        c = 255 - clamp[C0 + y + CR_R[cr]!]!;
        m = 255 - clamp[C0 + y + ((CB_G[cb]! + CR_G[cr]!) >> 16)]!;
        yy = 255 - clamp[C0 + y + CB_B[cb]!]!;
      }
      const k = p3[i]!;
      out[o] = Math.round((c * k) / 255);
      out[o + 1] = Math.round((m * k) / 255);
      out[o + 2] = Math.round((yy * k) / 255);
    }
  }
  return { width: w, height: h, channels: 3, data: out, orientation: f.orientation };
}

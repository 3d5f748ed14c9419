// This module is browser compatible.

/**
 * A small, strict PNG decoder for untrusted uploads, built on the platform's
 * `DecompressionStream` (no dependencies, same code in workerd, Deno and
 * browsers). It supports every standard format (grey, grey+alpha, RGB, RGBA,
 * palette; 1–16 bits; Adam7 interlacing) and returns grey levels or RGB in
 * 0..1, composited over white where there is transparency, optionally
 * shrunk by an integer factor as the rows are decoded. The common canvas and
 * photo formats (8-bit grey, RGB, RGBA, not interlaced) take a fast path:
 * each row unfiltered in place with one loop per filter type, converted and
 * accumulated straight into the shrunk image.
 *
 * Limits, checked before anything large is allocated: width and height at
 * most {@linkcode MAX_SIDE}; the inflated data is counted as it streams and
 * decompression stops as soon as it exceeds what the header implies, so a
 * decompression bomb costs no more memory than an honest image.
 *
 * @module
 */

import {
  type DecodeOptions,
  type Image,
  ImageError,
  MAX_SIDE,
  Shrinker,
  shrinkFactor,
  shrinkRows,
} from "./_shrink.ts";

export { MAX_SIDE };

/** Why a PNG was refused: `400` malformed, `413` too large. */
export class PngError extends ImageError {
  /**
   * @param status 400 (malformed) or 413 (too large).
   * @param message What is wrong, for a person.
   */
  constructor(status: 400 | 413, message: string) {
    super(status, message);
    this.name = "PngError";
  }
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};
// Adam7 passes: x start, y start, x step, y step.
const ADAM7: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [
    0,
    1,
    1,
    2,
  ],
];

let crcTable: Uint32Array | null = null;
function crc32(bytes: Uint8Array, start: number, end: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface Header {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlace: number;
}

/** The passes of the image: their sizes and where their scanlines start in the inflated data. */
function passes(
  h: Header,
): { w: number; h: number; x0: number; y0: number; dx: number; dy: number }[] {
  if (h.interlace === 0) return [{ w: h.width, h: h.height, x0: 0, y0: 0, dx: 1, dy: 1 }];
  return ADAM7.map(([x0, y0, dx, dy]) => ({
    w: Math.max(0, Math.ceil((h.width - x0) / dx)),
    h: Math.max(0, Math.ceil((h.height - y0) / dy)),
    x0,
    y0,
    dx,
    dy,
  })).filter((p) => p.w > 0 && p.h > 0);
}

/** Reads the chunks, checking CRCs and order; returns the header, palette, transparency and compressed data. */
function readChunks(bytes: Uint8Array, maxSide: number) {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new PngError(400, "not a PNG file (bad signature)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  let header: Header | null = null;
  let palette: Uint8Array | null = null;
  let trns: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (!ended) {
    if (at + 12 > bytes.length) {
      throw new PngError(400, "truncated PNG: a chunk runs past the end of the file");
    }
    const len = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (len > bytes.length - at - 12) {
      throw new PngError(400, `truncated PNG: chunk ${type} runs past the end of the file`);
    }
    const data = bytes.subarray(at + 8, at + 8 + len);
    if (crc32(bytes, at + 4, at + 8 + len) !== view.getUint32(at + 8 + len)) {
      throw new PngError(400, `corrupt PNG: bad CRC in chunk ${type}`);
    }
    at += 12 + len;
    if (!header && type !== "IHDR") {
      throw new PngError(400, "corrupt PNG: the first chunk must be IHDR");
    }
    switch (type) {
      case "IHDR": {
        if (header) throw new PngError(400, "corrupt PNG: two IHDR chunks");
        if (len !== 13) throw new PngError(400, "corrupt PNG: IHDR must be 13 bytes");
        const d = new DataView(data.buffer, data.byteOffset, 13);
        const hd: Header = {
          width: d.getUint32(0),
          height: d.getUint32(4),
          depth: data[8]!,
          colorType: data[9]!,
          interlace: data[12]!,
        };
        header = hd;
        if (hd.width === 0 || hd.height === 0) {
          throw new PngError(400, "the PNG has zero width or height");
        }
        if (hd.width > maxSide || hd.height > maxSide) {
          throw new PngError(
            413,
            `the PNG is ${hd.width}×${hd.height}; at most ${maxSide}×${maxSide} is accepted`,
          );
        }
        if (!(hd.colorType in CHANNELS) || !DEPTHS[hd.colorType]!.includes(hd.depth)) {
          throw new PngError(
            400,
            `unsupported PNG: colour type ${hd.colorType} with bit depth ${hd.depth}`,
          );
        }
        if (data[10] !== 0 || data[11] !== 0 || hd.interlace > 1) {
          throw new PngError(400, "corrupt PNG: unknown compression, filter or interlace method");
        }
        break;
      }
      case "PLTE":
        if (len % 3 !== 0 || len === 0 || len > 768) {
          throw new PngError(400, "corrupt PNG: bad palette length");
        }
        palette = data;
        break;
      case "tRNS":
        trns = data;
        break;
      case "IDAT":
        idat.push(data);
        break;
      case "IEND":
        ended = true;
        break;
      default:
        // Critical chunks (upper-case first letter) we do not know cannot be skipped.
        if (type.charCodeAt(0) < 97) {
          throw new PngError(400, `unsupported PNG: unknown critical chunk ${type}`);
        }
    }
  }
  if (!header) throw new PngError(400, "corrupt PNG: no IHDR");
  if (idat.length === 0) throw new PngError(400, "corrupt PNG: no image data");
  if (header.colorType === 3 && !palette) {
    throw new PngError(400, "corrupt PNG: palette image without PLTE");
  }
  return { header, palette, trns, idat };
}

/**
 * Inflates the zlib stream, refusing more than `limit` bytes of output
 * (stopping the decompressor at once) and less than `limit` too.
 */
async function inflate(parts: Uint8Array[], limit: number): Promise<Uint8Array> {
  const out = new Uint8Array(limit);
  let got = 0;
  const ds = new DecompressionStream("deflate");
  const writer = ds.writable.getWriter() as WritableStreamDefaultWriter<Uint8Array>;
  const reader = ds.readable.getReader();
  const feeding = (async () => {
    for (const p of parts) await writer.write(p);
    await writer.close();
  })().catch(() => {});
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (got + value.length > limit) {
        throw new PngError(
          413,
          `the PNG inflates to more than the ${limit} bytes its header implies`,
        );
      }
      out.set(value, got);
      got += value.length;
    }
  } catch (e) {
    await reader.cancel().catch(() => {});
    await writer.abort().catch(() => {});
    if (e instanceof PngError) throw e;
    throw new PngError(
      400,
      `corrupt PNG: the image data does not decompress (${e instanceof Error ? e.message : e})`,
    );
  } finally {
    await feeding;
  }
  if (got !== limit) {
    throw new PngError(400, `truncated PNG: the image data has ${got} of ${limit} bytes`);
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

// Luminance weights per byte value: lum = LR[r] + LG[g] + LB[b], in 0..1.
const LR = new Float32Array(256), LG = new Float32Array(256), LB = new Float32Array(256);
const UNIT = new Float32Array(256);
for (let v = 0; v < 256; v++) {
  LR[v] = (0.299 * v) / 255;
  LG[v] = (0.587 * v) / 255;
  LB[v] = (0.114 * v) / 255;
  UNIT[v] = v / 255;
}

/** Undoes one scanline's filter in place (8-bit samples; `bpp` bytes a pixel). */
function unfilter(raw: Uint8Array, at: number, len: number, prev: number, bpp: number): void {
  const filter = raw[at - 1];
  const end = at + len;
  switch (filter) {
    case 0:
      return;
    case 1:
      for (let i = at + bpp; i < end; i++) raw[i] = raw[i]! + raw[i - bpp]!;
      return;
    case 2:
      if (prev < 0) return;
      for (let i = at, j = prev; i < end; i++, j++) raw[i] = raw[i]! + raw[j]!;
      return;
    case 3:
      if (prev < 0) {
        for (let i = at + bpp; i < end; i++) raw[i] = raw[i]! + (raw[i - bpp]! >> 1);
      } else {
        for (let i = at, j = prev; i < at + bpp; i++, j++) raw[i] = raw[i]! + (raw[j]! >> 1);
        for (let i = at + bpp, j = prev + bpp; i < end; i++, j++) {
          raw[i] = raw[i]! + ((raw[i - bpp]! + raw[j]!) >> 1);
        }
      }
      return;
    case 4:
      if (prev < 0) {
        // Paeth with no row above is Sub.
        for (let i = at + bpp; i < end; i++) raw[i] = raw[i]! + raw[i - bpp]!;
      } else {
        for (let i = at, j = prev; i < at + bpp; i++, j++) raw[i] = raw[i]! + raw[j]!;
        for (let i = at + bpp, j = prev + bpp; i < end; i++, j++) {
          const a = raw[i - bpp]!, b = raw[j]!, c = raw[j - bpp]!;
          const pa = b > c ? b - c : c - b, pb = a > c ? a - c : c - a;
          const t = a + b - c - c, pc = t < 0 ? -t : t;
          raw[i] = raw[i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
      }
      return;
    default:
      throw new PngError(400, `corrupt PNG: unknown filter type ${filter}`);
  }
}

/**
 * The fast path: 8-bit grey, grey+alpha, RGB or RGBA, not interlaced, no
 * colour-key transparency. Each row is unfiltered in place, converted and
 * added into the shrinker, with no per-pixel allocation.
 */
function decodeFast(raw: Uint8Array, h: Header, out: Shrinker): void {
  if (h.colorType === 6 && out.c === 1) return rgbaToGrey(raw, h, out);
  const ch = CHANNELS[h.colorType]!, len = h.width * ch, k = out.k, c = out.c;
  const hasAlpha = h.colorType === 4 || h.colorType === 6;
  const colour = h.colorType === 2 || h.colorType === 6;
  let prev = -1;
  for (let y = 0; y < h.height; y++) {
    const at = y * (len + 1) + 1;
    unfilter(raw, at, len, prev, ch);
    prev = at;
    const acc = out.acc;
    let o = 0, left = k;
    for (let i = at, end = at + len; i < end; i += ch) {
      let r: number, g: number, b: number;
      if (colour) {
        r = raw[i]!, g = raw[i + 1]!, b = raw[i + 2]!;
      } else r = g = b = raw[i]!;
      const a = hasAlpha ? UNIT[raw[i + ch - 1]!]! : 1;
      if (c === 1) {
        // Over white: lum·a + (1 − a).
        acc[o]! += 1 - a * (1 - (LR[r]! + LG[g]! + LB[b]!));
      } else {
        acc[o]! += 1 - a * (1 - UNIT[r]!);
        acc[o + 1]! += 1 - a * (1 - UNIT[g]!);
        acc[o + 2]! += 1 - a * (1 - UNIT[b]!);
      }
      if (--left === 0) {
        left = k;
        o += c;
      }
    }
    out.rowDone();
  }
}

/**
 * The commonest upload (a canvas: RGBA, 8 bits) to grey, in one loop per
 * row: an Up-filtered row (Chromium's choice for every row) is unfiltered in
 * the same pass that converts it.
 */
function rgbaToGrey(raw: Uint8Array, h: Header, out: Shrinker): void {
  const w = h.width, len = w * 4, k = out.k;
  const block = new Int32Array(w);
  for (let x = 0; x < w; x++) block[x] = Math.floor(x / k);
  let prev = -1;
  for (let y = 0; y < h.height; y++) {
    const at = y * (len + 1) + 1, acc = out.acc;
    if (raw[at - 1] === 2 && prev >= 0) {
      for (let x = 0, i = at, j = prev; x < w; x++, i += 4, j += 4) {
        const r = (raw[i] = raw[i]! + raw[j]!), g = (raw[i + 1] = raw[i + 1]! + raw[j + 1]!);
        const b = (raw[i + 2] = raw[i + 2]! + raw[j + 2]!),
          a = (raw[i + 3] = raw[i + 3]! + raw[j + 3]!);
        // A Uint8Array store wraps; the value read back is what was stored.
        const lum = LR[r & 255]! + LG[g & 255]! + LB[b & 255]!;
        acc[block[x]!]! += 1 - UNIT[a & 255]! * (1 - lum);
      }
    } else {
      unfilter(raw, at, len, prev, 4);
      for (let x = 0, i = at; x < w; x++, i += 4) {
        const lum = LR[raw[i]!]! + LG[raw[i + 1]!]! + LB[raw[i + 2]!]!;
        acc[block[x]!]! += 1 - UNIT[raw[i + 3]!]! * (1 - lum);
      }
    }
    prev = at;
    out.rowDone();
  }
}

/**
 * Decodes a PNG.
 *
 * @param bytes The file.
 * @param options Grey or RGB output, and how far to shrink as it decodes.
 * @returns The image, values in 0..1, transparency composited over white.
 * @throws {PngError} 400 if malformed or unsupported, 413 if too large.
 */
export async function decodePng(
  bytes: Uint8Array,
  options: DecodeOptions = { channels: 1 },
): Promise<Image> {
  const { header: h, palette, trns, idat } = readChunks(bytes, options.maxSide ?? MAX_SIDE);
  const channels = CHANNELS[h.colorType]!;
  const bitsPerPixel = channels * h.depth;
  const bpp = Math.max(1, bitsPerPixel >> 3); // bytes per complete pixel, for filtering
  const ps = passes(h);
  const stride = (w: number) => Math.ceil((w * bitsPerPixel) / 8);
  const total = ps.reduce((s, p) => s + p.h * (1 + stride(p.w)), 0);
  const raw = await inflate(idat, total);
  const oc = options.channels;
  const out = new Shrinker(
    h.width,
    h.height,
    shrinkFactor(h.width, h.height, options.shrinkTo),
    oc,
  );
  if (h.depth === 8 && h.interlace === 0 && h.colorType !== 3 && !trns) {
    decodeFast(raw, h, out);
    return out.finish();
  }

  // The general path (palettes, 1–16 bits, interlacing, colour keys): full-size values first.
  const full = new Float32Array(h.width * h.height * oc);
  const maxV = (1 << h.depth) - 1;
  const rgb = [0, 0, 0];
  // Per-pixel conversion to RGB over white, from the sample values of one pixel.
  const toRgb = (s: number[]): void => {
    let r: number, g: number, b: number, a = 1;
    switch (h.colorType) {
      case 0:
        r = g = b = s[0]! / maxV;
        if (trns && trns.length >= 2 && s[0] === ((trns[0]! << 8) | trns[1]!)) a = 0;
        break;
      case 2:
        r = s[0]! / maxV, g = s[1]! / maxV, b = s[2]! / maxV;
        if (
          trns && trns.length >= 6 && s[0] === ((trns[0]! << 8) | trns[1]!) &&
          s[1] === ((trns[2]! << 8) | trns[3]!) &&
          s[2] === ((trns[4]! << 8) | trns[5]!)
        ) a = 0;
        break;
      case 3: {
        const i = s[0]!;
        if (i * 3 + 2 >= palette!.length) {
          throw new PngError(400, `corrupt PNG: palette index ${i} out of range`);
        }
        r = palette![i * 3]! / 255, g = palette![i * 3 + 1]! / 255, b = palette![i * 3 + 2]! / 255;
        if (trns && i < trns.length) a = trns[i]! / 255;
        break;
      }
      case 4:
        r = g = b = s[0]! / maxV;
        a = s[1]! / maxV;
        break;
      default:
        r = s[0]! / maxV, g = s[1]! / maxV, b = s[2]! / maxV;
        a = s[3]! / maxV;
    }
    rgb[0] = r * a + (1 - a);
    rgb[1] = g * a + (1 - a);
    rgb[2] = b * a + (1 - a);
  };

  let at = 0;
  const samples = new Array<number>(channels);
  for (const p of ps) {
    const len = stride(p.w);
    let prev: Uint8Array = new Uint8Array(len);
    for (let y = 0; y < p.h; y++) {
      const filter = raw[at];
      const line = raw.subarray(at + 1, at + 1 + len);
      at += 1 + len;
      for (let i = 0; i < len; i++) {
        const left = i >= bpp ? line[i - bpp]! : 0,
          up = prev[i]!,
          ul = i >= bpp ? prev[i - bpp]! : 0;
        switch (filter) {
          case 0:
            break;
          case 1:
            line[i] = (line[i]! + left) & 0xff;
            break;
          case 2:
            line[i] = (line[i]! + up) & 0xff;
            break;
          case 3:
            line[i] = (line[i]! + ((left + up) >> 1)) & 0xff;
            break;
          case 4:
            line[i] = (line[i]! + paeth(left, up, ul)) & 0xff;
            break;
          default:
            throw new PngError(400, `corrupt PNG: unknown filter type ${filter}`);
        }
      }
      for (let x = 0; x < p.w; x++) {
        for (let c = 0; c < channels; c++) {
          const bit = (x * channels + c) * h.depth;
          if (h.depth === 16) samples[c] = (line[bit >> 3]! << 8) | line[(bit >> 3) + 1]!;
          else if (h.depth === 8) samples[c] = line[bit >> 3]!;
          else samples[c] = (line[bit >> 3]! >> (8 - h.depth - (bit & 7))) & maxV;
        }
        toRgb(samples);
        const o = ((p.y0 + y * p.dy) * h.width + p.x0 + x * p.dx) * oc;
        if (oc === 1) full[o] = 0.299 * rgb[0]! + 0.587 * rgb[1]! + 0.114 * rgb[2]!;
        else {
          full[o] = rgb[0]!;
          full[o + 1] = rgb[1]!;
          full[o + 2] = rgb[2]!;
        }
      }
      prev = line;
    }
  }
  return shrinkRows(full, h.width, h.height, out);
}

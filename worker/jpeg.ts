/**
 * JPEG input (baseline and progressive, grey, YCbCr, Adobe CMYK), decoded
 * by `jpeg-js` (pure JavaScript, no dependencies, BSD-3-Clause; it runs
 * unchanged in workerd, Deno and browsers). Around it, the same bounds as the
 * PNG path: the frame header is read here first and a side over
 * {@linkcode MAX_SIDE} is a 413 before anything is decoded; `jpeg-js`'s own
 * resolution and memory caps back that up; every failure is a
 * {@linkcode JpegError} with status 400 or 413, never another exception.
 * The decoded RGB is converted and shrunk row by row like the PNG path.
 *
 * @module
 */

// The decoder alone (the package's index also pulls in its encoder, 22 kB more in the bundle).
import decode from "jpeg-js/lib/decoder.js";
import {
  type DecodeOptions,
  type Image,
  ImageError,
  MAX_SIDE,
  Shrinker,
  shrinkFactor,
} from "./image.ts";

/** The decoder's signature (its package declares types for its index only). */
type JpegDecode = (
  data: Uint8Array,
  options: {
    useTArray: true;
    formatAsRGBA: false;
    tolerantDecoding: boolean;
    maxResolutionInMP: number;
    maxMemoryUsageInMB: number;
  },
) => { width: number; height: number; data: Uint8Array };

/** Why a JPEG was refused: `400` malformed, `413` too large. */
export class JpegError extends ImageError {
  /**
   * @param status 400 (malformed) or 413 (too large).
   * @param message What is wrong, for a person.
   */
  constructor(status: 400 | 413, message: string) {
    super(status, message);
    this.name = "JpegError";
  }
}

/** Whether `bytes` starts like a JPEG (SOI then a marker). */
export function looksLikeJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/**
 * The frame size from the first SOF marker, walking the marker segments
 * (each length checked against the file). Throws if there is none.
 */
export function jpegSize(
  bytes: Uint8Array,
): { width: number; height: number; progressive: boolean } {
  if (!looksLikeJpeg(bytes)) throw new JpegError(400, "not a JPEG file (no SOI marker)");
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) {
      throw new JpegError(400, `corrupt JPEG: expected a marker at byte ${at}`);
    }
    const m = bytes[at + 1]!;
    if (m === 0xff) {
      at++; // fill byte
      continue;
    }
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      at += 2;
      continue;
    }
    if (m === 0xd9 || m === 0xda) break; // end of image or start of scan before any frame
    const len = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    if (len < 2 || at + 2 + len > bytes.length) {
      throw new JpegError(400, `truncated JPEG: segment 0x${m.toString(16)} runs past the end`);
    }
    const sof = m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
    if (sof) {
      if (len < 8) throw new JpegError(400, "corrupt JPEG: short frame header");
      const height = (bytes[at + 5]! << 8) | bytes[at + 6]!,
        width = (bytes[at + 7]! << 8) | bytes[at + 8]!;
      if (m !== 0xc0 && m !== 0xc1 && m !== 0xc2) {
        throw new JpegError(
          400,
          `unsupported JPEG: frame type 0x${
            m.toString(16)
          } (baseline and progressive Huffman are supported)`,
        );
      }
      return { width, height, progressive: m === 0xc2 };
    }
    at += 2 + len;
  }
  throw new JpegError(400, "corrupt JPEG: no frame header before the image data");
}

/**
 * Decodes a JPEG.
 *
 * @param bytes The file.
 * @param options Grey or RGB output, and how far to shrink as it converts.
 * @returns The image, values in 0..1.
 * @throws {JpegError} 400 if malformed or unsupported, 413 if too large.
 */
export function decodeJpeg(bytes: Uint8Array, options: DecodeOptions = { channels: 1 }): Image {
  const { width, height } = jpegSize(bytes);
  if (width === 0 || height === 0) throw new JpegError(400, "the JPEG has zero width or height");
  if (width > MAX_SIDE || height > MAX_SIDE) {
    throw new JpegError(
      413,
      `the JPEG is ${width}×${height}; at most ${MAX_SIDE}×${MAX_SIDE} is accepted`,
    );
  }
  let rgb: Uint8Array, w: number, h: number;
  try {
    const img = (decode as JpegDecode)(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: true,
      maxResolutionInMP: (MAX_SIDE * MAX_SIDE) / 1e6,
      maxMemoryUsageInMB: 96,
    });
    rgb = img.data, w = img.width, h = img.height;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/limit exceeded|allocate enough memory/i.test(msg)) {
      throw new JpegError(413, `the JPEG needs more memory than allowed (${msg})`);
    }
    throw new JpegError(400, `corrupt or unsupported JPEG (${msg})`);
  }
  if (w !== width || h !== height || rgb.length !== w * h * 3) {
    throw new JpegError(400, "corrupt JPEG: the decoded size disagrees with the frame header");
  }
  const c = options.channels, out = new Shrinker(w, h, shrinkFactor(w, h, options.shrinkTo), c);
  const k = out.k;
  for (let y = 0; y < h; y++) {
    const acc = out.acc;
    let o = 0, left = k;
    for (let i = y * w * 3, end = i + w * 3; i < end; i += 3) {
      const r = rgb[i]!, g = rgb[i + 1]!, b = rgb[i + 2]!;
      if (c === 1) acc[o]! += (0.299 * r + 0.587 * g + 0.114 * b) / 255;
      else {
        acc[o]! += r / 255;
        acc[o + 1]! += g / 255;
        acc[o + 2]! += b / 255;
      }
      if (--left === 0) {
        left = k;
        o += c;
      }
    }
    out.rowDone();
  }
  return out.finish();
}

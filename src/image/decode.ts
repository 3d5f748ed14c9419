// This module is browser compatible.

/**
 * {@linkcode decodeImage}: PNG or JPEG bytes to 8-bit pixels, upright, at
 * no more than the size the caller needs.
 *
 * @module
 */

import { checkDims, checkOptions, checkPositiveInt, fail } from "../core/_validate.ts";
import { ImageError, MAX_SIDE } from "./_errors.ts";
import { type BlockSize, decodeJpeg, jpegInfo, scaledSize } from "./_jpeg.ts";
import { orient } from "./_orient.ts";
import { decodePng } from "./_png.ts";

/** A decoded image: 8-bit samples, row-major, `channels` per pixel (1 grey, 3 RGB). */
export interface DecodedImage {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** 1 (grey) or 3 (RGB). */
  readonly channels: 1 | 3;
  /** `width · height · channels` values, 0 black to 255 white. */
  readonly data: Uint8Array;
}

/** Options of {@linkcode decodeImage}. */
export interface DecodeImageOptions {
  /**
   * The largest width or height accepted (default 8192): a larger image is an
   * {@linkcode ImageError} with status 413, found from its header before
   * anything is decoded.
   */
  maxSide?: number;
  /**
   * The smallest size the caller needs: a number is the shorter side, a pair
   * `[height, width]` both sides (after orientation). A JPEG is then decoded
   * at the smallest of 1/8, 1/4, 1/2 or full size that is still at least
   * this large, in the DCT domain (a 12 MP photo for `minSize: 256` is
   * decoded at 1/8 and never exists at full size). PNGs are always decoded
   * at full size. Default: full size.
   */
  minSize?: number | readonly [number, number];
  /** 1 for grey levels, 3 for RGB; default: the file's own (grey files give 1). */
  channels?: 1 | 3;
  /** Apply the EXIF orientation, so phone photos come out upright (default true). */
  orientation?: boolean;
}

const FN = "decodeImage";

/** Whether `bytes` starts like a PNG. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e &&
    bytes[3] === 0x47;
}

/** Whether `bytes` starts like a JPEG (SOI then a marker). */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/**
 * The DCT block size that decodes `w`×`h` (shown with orientation `o`) to
 * the smallest size still at least `minSize`.
 */
function blockSizeFor(
  w: number,
  h: number,
  o: number,
  minSize: number | readonly [number, number] | undefined,
): BlockSize {
  if (minSize === undefined) return 8;
  for (const s of [1, 2, 4] as const) {
    let [sw, sh] = scaledSize(w, h, s);
    if (o >= 5) [sw, sh] = [sh, sw];
    const ok = typeof minSize === "number"
      ? Math.min(sw, sh) >= minSize
      : sh >= minSize[0] && sw >= minSize[1];
    if (ok) return s;
  }
  return 8;
}

/** Luminance as PIL's `convert("L")` computes it. */
function toGrey(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0, j = 0; i < out.length; i++, j += 3) {
    out[i] = (rgb[j]! * 19595 + rgb[j + 1]! * 38470 + rgb[j + 2]! * 7471 + 0x8000) >> 16;
  }
  return out;
}

/** Grey levels repeated into RGB. */
function toRgb(grey: Uint8Array): Uint8Array {
  const out = new Uint8Array(grey.length * 3);
  for (let i = 0, j = 0; i < grey.length; i++, j += 3) {
    out[j] = out[j + 1] = out[j + 2] = grey[i]!;
  }
  return out;
}

/**
 * Decodes a PNG or a JPEG (told apart by their first bytes) into 8-bit grey
 * or RGB pixels. JPEGs: baseline, extended and progressive Huffman; grey,
 * YCbCr, RGB, Adobe CMYK and YCCK; EXIF orientation applied; decoded in the
 * DCT domain at 1/2, 1/4 or 1/8 of their size when `minSize` allows (as
 * libjpeg's `scale_denom`). PNGs: every standard format, transparency
 * composited over white, 16-bit reduced to 8. Asynchronous because PNG
 * inflation uses the platform's `DecompressionStream`.
 *
 * @example
 * ```ts
 * import { decodeImage } from "@convnet/wasm/image";
 * const bytes = await Deno.readFile("tests/fixtures/images/photo-3-baseline.jpg");
 * const img = await decodeImage(bytes, { minSize: 64 });
 * console.log(img.width, img.height, img.channels);
 * ```
 *
 * @param bytes The file's bytes.
 * @param options The largest side accepted, the smallest size needed, grey or RGB, orientation.
 * @returns The pixels.
 * @throws {ImageError} 400 when the file is malformed or not supported, 413 when it is too large.
 * @throws {TypeError | RangeError} When an argument is not what it should be.
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: DecodeImageOptions = {},
): Promise<DecodedImage> {
  if (!(bytes instanceof Uint8Array)) fail(TypeError, FN, "bytes", "a Uint8Array", bytes);
  const o = checkOptions(FN, "options", options, ["maxSide", "minSize", "channels", "orientation"]);
  const maxSide = o["maxSide"] === undefined
    ? MAX_SIDE
    : checkPositiveInt(FN, "options.maxSide", o["maxSide"]);
  let minSize: number | readonly [number, number] | undefined;
  if (typeof o["minSize"] === "number") {
    minSize = checkPositiveInt(FN, "options.minSize", o["minSize"]);
  } else if (o["minSize"] !== undefined) {
    minSize = checkDims(FN, "options.minSize", o["minSize"], 2) as unknown as [number, number];
  }
  const channels = o["channels"] === undefined
    ? undefined
    : o["channels"] === 1 || o["channels"] === 3
    ? o["channels"]
    : fail(RangeError, FN, "options.channels", "1 or 3", o["channels"]);
  if (o["orientation"] !== undefined && typeof o["orientation"] !== "boolean") {
    fail(TypeError, FN, "options.orientation", "true or false", o["orientation"]);
  }
  const upright = o["orientation"] !== false;

  if (isPng(bytes)) {
    // Colour type, from IHDR (checked by the decoder): 0 and 4 are grey.
    const grey = bytes.length > 25 && (bytes[25] === 0 || bytes[25] === 4);
    const c = channels ?? (grey ? 1 : 3);
    const img = await decodePng(bytes, { channels: c, maxSide });
    const data = new Uint8Array(img.data.length);
    for (let i = 0; i < data.length; i++) data[i] = Math.round(img.data[i]! * 255);
    return { width: img.width, height: img.height, channels: c, data };
  }
  if (!isJpeg(bytes)) {
    throw new ImageError(400, "neither a PNG nor a JPEG (the first bytes are neither signature)");
  }
  const info = jpegInfo(bytes);
  if (info.width > maxSide || info.height > maxSide) {
    throw new ImageError(
      413,
      `the JPEG is ${info.width}×${info.height}; at most ${maxSide}×${maxSide} is accepted`,
    );
  }
  const o8 = upright ? info.orientation : 1;
  const size = blockSizeFor(info.width, info.height, o8, minSize);
  const px = decodeJpeg(bytes, size, maxSide * maxSide);
  let data = px.data;
  const c = channels ?? px.channels;
  if (c !== px.channels) data = c === 1 ? toGrey(data) : toRgb(data);
  const r = orient(data, px.width, px.height, c, o8);
  return { width: r.width, height: r.height, channels: c, data: r.data };
}

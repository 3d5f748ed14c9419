/**
 * Turning request bodies into model inputs (the model's `[h, w, c]`), with
 * every rule a client can break mapped to a clear 400, 413 or 415.
 *
 * @module
 */

import { ImageError } from "../src/image/_errors.ts";
import { decodePng } from "../src/image/_png.ts";
import { type Image, Shrinker, shrinkFactor } from "../src/image/_shrink.ts";
import { type DecodedImage, decodeImage, isJpeg, isPng } from "../src/image/decode.ts";
import { imageToTensor } from "../src/image/tensor.ts";
import { PreprocessError, toMnistInput, toResizedInput } from "./preprocess.ts";

/** How images become the model's input (see config.ts). */
export interface InputSpec {
  /** `[h, w, c]`. */
  readonly shape: InputShape;
  /** `"mnist"`, `"resize"` or `"center-crop"`. */
  readonly preprocess: "mnist" | "resize" | "center-crop";
  /** The shorter side before the crop, for `"center-crop"`. */
  readonly resize?: number;
  /**
   * Whether JPEGs may be decoded at 1/2, 1/4 or 1/8 in the DCT domain when the
   * preprocessing needs less than the full size (default true; false decodes
   * them in full, as PIL without `draft()` does: torchvision's exact input).
   */
  readonly jpegScaling?: boolean;
}

/** The image media types accepted. */
export const IMAGE_TYPES = ["image/png", "image/jpeg"] as const;

/** The most images one batch request may hold. */
export const MAX_BATCH = 64;

/** A request the API refuses: HTTP status, a stable code and a message a person can act on. */
export class ApiError extends Error {
  /**
   * @param status The HTTP status.
   * @param code A stable machine-readable code.
   * @param message What is wrong and what to do.
   */
  constructor(
    readonly status: 400 | 404 | 405 | 413 | 415,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const bad = (message: string) => new ApiError(400, "bad_request", message);

/** A value for a message: numbers as themselves (Infinity, not JSON's null), the rest as JSON. */
function show(v: unknown): string {
  if (typeof v === "number") return String(v);
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v);
  return s.length > 40 ? s.slice(0, 40) + "…" : s;
}

/**
 * Refuses an empty body with a message that says so (rather than a
 * complaint about its length or its PNG signature).
 */
export function checkNotEmpty(bytes: Uint8Array, send: string): Uint8Array {
  if (bytes.length === 0) throw bad(`the body is empty; send ${send}`);
  return bytes;
}

/** The media type of a request, lower-case, without parameters. */
export function mediaType(req: Request): string {
  return (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * 8-bit pixels as the preprocessing's float image in 0..1, shrunk by an
 * integer factor (block averages) as they are converted.
 */
function toFloatImage(img: DecodedImage, channels: 1 | 3, shrinkTo: number): Image {
  const { width: w, height: h, data } = img, ic = img.channels;
  const out = new Shrinker(w, h, shrinkFactor(w, h, shrinkTo), channels);
  const k = out.k;
  for (let y = 0; y < h; y++) {
    const acc = out.acc;
    let o = 0, left = k;
    for (let i = y * w * ic, end = i + w * ic; i < end; i += ic) {
      if (channels === 1) {
        acc[o]! += ic === 1
          ? data[i]! / 255
          : (0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!) / 255;
      } else if (ic === 1) {
        const v = data[i]! / 255;
        acc[o]! += v, acc[o + 1]! += v, acc[o + 2]! += v;
      } else {
        acc[o]! += data[i]! / 255;
        acc[o + 1]! += data[i + 1]! / 255;
        acc[o + 2]! += data[i + 2]! / 255;
      }
      if (--left === 0) left = k, o += channels;
    }
    out.rowDone();
  }
  return out.finish();
}

/**
 * Decodes a PNG or JPEG (told apart by their first bytes) and preprocesses
 * it for the model, mapping every failure to an API error. JPEGs are decoded
 * in the DCT domain at the smallest of 1/8, 1/4, 1/2 or full size that
 * still covers what the preprocessing needs; large PNGs are shrunk by an
 * integer factor while their rows are decoded. `"mnist"` needs about four
 * times the input's side, `"resize"` the input's size, `"center-crop"` the
 * resize side (then PIL's bilinear resize and the crop, as torchvision).
 */
export async function fromImage(
  bytes: Uint8Array,
  spec: InputSpec,
  what = "the image",
  declared: "png" | "jpeg" = "png",
): Promise<Float32Array> {
  const [h, w, c] = spec.shape;
  const mode = spec.preprocess;
  const scaling = spec.jpegScaling ?? true;
  try {
    // The bytes decide (a JPEG sent as image/png still decodes); unknown bytes get the declared type's error.
    const jpeg = isJpeg(bytes) || (!isPng(bytes) && declared === "jpeg");
    if (mode === "center-crop") {
      const resize = spec.resize ?? Math.round((Math.max(h, w) * 256) / 224);
      const img = await decodeImage(
        bytes,
        scaling ? { minSize: resize, channels: c as 1 | 3 } : { channels: c as 1 | 3 },
      );
      return imageToTensor(img, { size: [h, w], mode: "center-crop", resize }).data;
    }
    const mnist = mode === "mnist";
    const channels = mnist ? 1 : c as 1 | 3, shrinkTo = mnist ? 4 * h : Math.max(h, w);
    let img: Image;
    if (jpeg) {
      if (!isJpeg(bytes)) throw new ImageError(400, "not a JPEG file (no SOI marker)");
      const px = await decodeImage(
        bytes,
        scaling ? { minSize: mnist ? 4 * h : [h, w], channels } : { channels },
      );
      img = toFloatImage(px, channels, shrinkTo);
    } else img = await decodePng(bytes, { channels, shrinkTo });
    return mnist ? toMnistInput(img, h) : toResizedInput(img, h, w, c);
  } catch (e) {
    if (e instanceof ImageError) {
      throw new ApiError(
        e.status,
        e.status === 413 ? "image_too_large" : "bad_image",
        `${what}: ${e.message}`,
      );
    }
    if (e instanceof PreprocessError) throw bad(`${what}: ${e.message}`);
    throw e;
  }
}

/** The shape of one model input, `[height, width, channels]`. */
export type InputShape = readonly [number, number, number];

/** Raw bytes, one per value (0..255, row-major HWC, white ink on black as in MNIST). */
export function fromOctets(bytes: Uint8Array, shape: InputShape): Float32Array {
  const [h, w, c] = shape, n = h * w * c;
  if (bytes.length !== n) {
    throw bad(
      `application/octet-stream must be exactly ${n} bytes (${h}×${w}${
        c > 1 ? `×${c}` : ""
      }, one byte per value), got ${bytes.length}`,
    );
  }
  // A plain loop: Float32Array.from with a map function costs ~11 ms for a 224×224×3 input.
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = bytes[i]! / 255;
  return out;
}

/**
 * Pixels from JSON: `h·w·c` numbers, or `h` rows of `w·c`, each in 0..1
 * (0 background, 1 ink, as in MNIST).
 */
export function fromPixels(pixels: unknown, shape: InputShape, what = "pixels"): Float32Array {
  const [h, w, c] = shape, n = h * w * c, row = w * c;
  const expected = `${n} numbers or ${h} rows of ${row}`;
  if (!Array.isArray(pixels)) {
    throw bad(`${what} must be an array of ${expected}, got ${show(pixels)}`);
  }
  let flat: unknown[];
  if (pixels.length === h && pixels.every((r) => Array.isArray(r))) {
    if (!pixels.every((r) => (r as unknown[]).length === row)) {
      throw bad(`${what}: every one of the ${h} rows must hold ${row} numbers`);
    }
    flat = (pixels as unknown[][]).flat();
  } else if (pixels.length === n) {
    flat = pixels;
  } else {
    throw bad(`${what} must be ${expected}, got an array of length ${pixels.length}`);
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = flat[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw bad(`${what}[${i}] must be a finite number, got ${show(v)}`);
    }
    if (v < 0 || v > 1) throw bad(`${what}[${i}] must be in 0..1, got ${v}`);
    out[i] = v;
  }
  return out;
}

/** Parses JSON, mapping a syntax error to a 400. */
export function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw bad(`the body is not valid JSON (${e instanceof Error ? e.message : e})`);
  }
}

function base64ToBytes(s: unknown, what: string): Uint8Array {
  if (typeof s !== "string") throw bad(`${what} must be a base64 string`);
  let bin: string;
  try {
    bin = atob(s.replace(/^data:image\/(png|jpeg);base64,/, ""));
  } catch {
    throw bad(`${what} is not valid base64`);
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * One image of a JSON body: `{ pixels }`, `{ png: base64 }`, `{ jpeg: base64 }`,
 * `{ image: base64 }` (either format), or a bare pixel array.
 */
export async function fromJsonImage(
  item: unknown,
  spec: InputSpec,
  what: string,
): Promise<Float32Array> {
  if (Array.isArray(item)) return fromPixels(item, spec.shape, what);
  if (item !== null && typeof item === "object") {
    const o = item as Record<string, unknown>;
    if ("pixels" in o) return fromPixels(o["pixels"], spec.shape, `${what}.pixels`);
    for (const key of ["png", "jpeg", "image"]) {
      if (key in o) {
        return await fromImage(base64ToBytes(o[key], `${what}.${key}`), spec, `${what}.${key}`);
      }
    }
  }
  throw bad(
    `${what} must be { "pixels": [...] }, { "png" | "jpeg" | "image": "<base64>" } or an array of pixels`,
  );
}

/** The images of a batch body `{ "images": [...] }` (1 to {@linkcode MAX_BATCH}). */
export async function fromBatch(body: unknown, spec: InputSpec): Promise<Float32Array[]> {
  const images = (body as { images?: unknown })?.images;
  if (!Array.isArray(images)) {
    throw bad(`the body must be { "images": [...] } with 1 to ${MAX_BATCH} images`);
  }
  if (images.length === 0 || images.length > MAX_BATCH) {
    throw new ApiError(
      images.length > MAX_BATCH ? 413 : 400,
      images.length > MAX_BATCH ? "too_many_images" : "bad_request",
      `a batch holds 1 to ${MAX_BATCH} images, got ${images.length}`,
    );
  }
  const out: Float32Array[] = [];
  for (let i = 0; i < images.length; i++) {
    out.push(await fromJsonImage(images[i], spec, `images[${i}]`));
  }
  return out;
}

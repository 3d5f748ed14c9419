// This module is browser compatible.

/**
 * {@linkcode imageToTensor}: decoded pixels to a model's NHWC input, with
 * torchvision's `Resize` + `CenterCrop` + `ToTensor` + `Normalize` or a
 * plain resize to the input size.
 *
 * @module
 */

import { tensor } from "../core/tensor.ts";
import type { Tensor } from "../core/types.ts";
import { checkDims, checkOneOf, checkOptions, checkPositiveInt, fail } from "../core/_validate.ts";
import { resampleWindow } from "./_resample.ts";
import type { DecodedImage } from "./decode.ts";

/** Options of {@linkcode imageToTensor}. */
export interface ImageToTensorOptions {
  /** The model's input size, `[height, width]`. */
  size: readonly [number, number];
  /**
   * `"resize"` (default): stretch the image to `size`. `"center-crop"`:
   * resize the shorter side to `resize`, keeping the aspect, then crop the
   * centre to `size` (torchvision's `Resize(resize)` + `CenterCrop(size)`).
   */
  mode?: "resize" | "center-crop";
  /** The shorter side before cropping; default `round(max(size) · 256 / 224)` (256 for 224). */
  resize?: number;
  /** Per-channel means subtracted after scaling to 0..1 (one value or one per channel); default 0. */
  mean?: number | readonly number[];
  /** Per-channel standard deviations divided by; default 1. */
  std?: number | readonly number[];
  /** Channels of the tensor (1 or 3); default the image's. Grey is repeated, colour made grey as PIL does. */
  channels?: 1 | 3;
}

/** torchvision's ImageNet normalisation, `mean` and `std` for {@linkcode imageToTensor}. */
export const IMAGENET: { readonly mean: readonly number[]; readonly std: readonly number[] } =
  Object
    .freeze({
      mean: Object.freeze([0.485, 0.456, 0.406]) as readonly number[],
      std: Object.freeze([0.229, 0.224, 0.225]) as readonly number[],
    });

const FN = "imageToTensor";

/** Python's `round`: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function perChannel(arg: string, v: unknown, c: number, dflt: number, positive: boolean): number[] {
  if (v === undefined) return new Array(c).fill(dflt);
  const list = typeof v === "number" ? new Array(c).fill(v) : v;
  if (!Array.isArray(list) || (list.length !== c && list.length !== 1)) {
    fail(TypeError, FN, `options.${arg}`, `a number or ${c} numbers`, v);
  }
  const out = list.length === 1 ? new Array(c).fill(list[0]) : [...list];
  for (let i = 0; i < c; i++) {
    const x = out[i];
    if (typeof x !== "number" || !Number.isFinite(x) || (positive && x <= 0)) {
      fail(
        RangeError,
        FN,
        `options.${arg}[${i}]`,
        positive ? "a positive finite number" : "a finite number",
        x,
      );
    }
  }
  return out;
}

/**
 * Turns a decoded image into a model's input: a float32 tensor
 * `[1, height, width, channels]` of `(v / 255 − mean) / std`. Resizing is
 * PIL's antialiased bilinear `Image.resize`, byte for byte, so with
 * `mode: "center-crop"` and {@linkcode IMAGENET} the tensor is what
 * torchvision's `Resize(256)`, `CenterCrop(224)`, `ToTensor()` and
 * `Normalize` give for the same pixels (in NHWC order).
 *
 * @example
 * ```ts
 * import { decodeImage, IMAGENET, imageToTensor } from "@convnet/wasm/image";
 * const img = await decodeImage(await Deno.readFile("tests/fixtures/images/photo-3-baseline.jpg"));
 * const x = imageToTensor(img, { size: [224, 224], mode: "center-crop", ...IMAGENET });
 * console.log(x.shape); // [1, 224, 224, 3]
 * ```
 *
 * @param image From {@linkcode decodeImage} (or any 8-bit grey or RGB pixels).
 * @param options The size, how to fit the image to it, the normalisation.
 * @returns The tensor, NHWC.
 * @throws {TypeError | RangeError} When an argument is not what it should be.
 */
export function imageToTensor(image: DecodedImage, options: ImageToTensorOptions): Tensor {
  if (typeof image !== "object" || image === null) {
    fail(TypeError, FN, "image", "a decoded image", image);
  }
  const w = checkPositiveInt(FN, "image.width", image.width);
  const h = checkPositiveInt(FN, "image.height", image.height);
  const ic = image.channels;
  if (ic !== 1 && ic !== 3) fail(RangeError, FN, "image.channels", "1 or 3", ic);
  if (!(image.data instanceof Uint8Array) || image.data.length !== w * h * ic) {
    fail(
      TypeError,
      FN,
      "image.data",
      `a Uint8Array of ${w}·${h}·${ic} = ${w * h * ic} values`,
      image.data,
    );
  }
  const o = checkOptions(FN, "options", options, [
    "size",
    "mode",
    "resize",
    "mean",
    "std",
    "channels",
  ]);
  const [th, tw] = checkDims(FN, "options.size", o["size"], 2) as [number, number];
  const mode = o["mode"] === undefined
    ? "resize"
    : checkOneOf(FN, "options.mode", o["mode"], ["resize", "center-crop"] as const);
  if (mode === "resize" && o["resize"] !== undefined) {
    fail(TypeError, FN, "options.resize", 'undefined unless mode is "center-crop"', o["resize"]);
  }
  const c = o["channels"] === undefined
    ? ic
    : o["channels"] === 1 || o["channels"] === 3
    ? o["channels"]
    : fail(RangeError, FN, "options.channels", "1 or 3", o["channels"]);
  const mean = perChannel("mean", o["mean"], c, 0, false),
    std = perChannel("std", o["std"], c, 1, true);

  let px = image.data;
  if (c !== ic) {
    const n = w * h, out = new Uint8Array(n * c);
    if (c === 1) {
      for (let i = 0, j = 0; i < n; i++, j += 3) {
        out[i] = (px[j]! * 19595 + px[j + 1]! * 38470 + px[j + 2]! * 7471 + 0x8000) >> 16;
      }
    } else for (let i = 0; i < n; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = px[i]!;
    px = out;
  }
  let rw: number, rh: number, top = 0, left = 0;
  if (mode === "resize") rw = tw, rh = th;
  else {
    const side = o["resize"] === undefined
      ? Math.round((Math.max(th, tw) * 256) / 224)
      : checkPositiveInt(FN, "options.resize", o["resize"]);
    // torchvision 0.14's Resize(int): the shorter side to `side`, the longer truncated in proportion.
    if (w <= h) rw = side, rh = Math.floor((side * h) / w);
    else rh = side, rw = Math.floor((side * w) / h);
    if (rw < tw || rh < th) {
      fail(
        RangeError,
        FN,
        "options.resize",
        `at least the crop (${th}×${tw}) after resizing`,
        `${rh}×${rw} from resize ${side}`,
      );
    }
    top = roundHalfEven((rh - th) / 2), left = roundHalfEven((rw - tw) / 2);
  }
  // Only the crop is resampled (the same bytes as resizing whole, then cropping).
  const r = rw === w && rh === h && top === 0 && left === 0 && tw === w && th === h
    ? px
    : resampleWindow(px, w, h, c, rw, rh, left, top, tw, th);
  const out = new Float32Array(th * tw * c);
  // float32 as torchvision: v / 255, minus the mean, divided by the std; one table per channel.
  const lut = new Float32Array(256 * c);
  for (let j = 0; j < c; j++) {
    const m = Math.fround(mean[j]!), d = std[j]!;
    for (let v = 0; v < 256; v++) lut[j * 256 + v] = (Math.fround(v / 255) - m) / d;
  }
  for (let j = 0; j < c; j++) {
    const base = j * 256;
    for (let i = j; i < out.length; i += c) out[i] = lut[base + r[i]!]!;
  }
  return tensor(out, [1, th, tw, c]);
}

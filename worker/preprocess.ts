/**
 * MNIST-style preprocessing for real-world digit images, which are not
 * MNIST-shaped: the model was trained on white digits on black, about 20
 * pixels tall, centred by their centre of mass in a 28×28 frame.
 *
 * 1. Light background (the image's border is mostly light)? Invert, so ink is bright.
 * 2. Find the ink's bounding box (pixels above a quarter of the brightest ink).
 * 3. Scale the box so its longer side is 20 pixels, keeping the aspect ratio
 *    (area averaging when shrinking, bilinear when enlarging).
 * 4. Place it in 28×28 so its centre of mass falls on the centre.
 *
 * @module
 */

import type { GreyImage } from "./png.ts";

/** Why preprocessing failed (always a 400: the image has no digit to read). */
export class PreprocessError extends Error {
  /** @param message What is wrong, for a person. */
  constructor(message: string) {
    super(message);
    this.name = "PreprocessError";
  }
}

/** Samples `src` (w×h) at fractional (x, y) with bilinear weights; outside is 0. */
function bilinear(src: Float32Array, w: number, h: number, x: number, y: number): number {
  const x0 = Math.floor(x), y0 = Math.floor(y), fx = x - x0, fy = y - y0;
  let v = 0;
  for (
    const [dx, dy, k] of <[number, number, number][]> [
      [0, 0, (1 - fx) * (1 - fy)],
      [1, 0, fx * (1 - fy)],
      [0, 1, (1 - fx) * fy],
      [1, 1, fx * fy],
    ]
  ) {
    const xx = x0 + dx, yy = y0 + dy;
    if (k > 0 && xx >= 0 && xx < w && yy >= 0 && yy < h) v += k * src[yy * w + xx]!;
  }
  return v;
}

/** Resizes `src` (w×h) to tw×th. */
function resize(src: Float32Array, w: number, h: number, tw: number, th: number): Float32Array {
  const out = new Float32Array(tw * th);
  const sx = w / tw, sy = h / th;
  if (sx >= 1 && sy >= 1) {
    // Area averaging: each output pixel is the mean of the source area it covers.
    for (let ty = 0; ty < th; ty++) {
      const y0 = ty * sy, y1 = y0 + sy;
      for (let tx = 0; tx < tw; tx++) {
        const x0 = tx * sx, x1 = x0 + sx;
        let sum = 0;
        for (let y = Math.floor(y0); y < Math.ceil(y1); y++) {
          const wy = Math.min(y + 1, y1) - Math.max(y, y0);
          for (let x = Math.floor(x0); x < Math.ceil(x1); x++) {
            const wx = Math.min(x + 1, x1) - Math.max(x, x0);
            sum += wx * wy * src[y * w + x]!;
          }
        }
        out[ty * tw + tx] = sum / (sx * sy);
      }
    }
    return out;
  }
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) {
      out[ty * tw + tx] = bilinear(src, w, h, (tx + 0.5) * sx - 0.5, (ty + 0.5) * sy - 0.5);
    }
  }
  return out;
}

/**
 * Turns any grey image into the 28×28 input the model expects (0 background,
 * 1 ink).
 *
 * @param img Grey levels in 0..1 (0 black).
 * @returns 784 values in 0..1, row-major.
 * @throws {PreprocessError} If the image holds no ink.
 */
export function toMnistInput(img: GreyImage): Float32Array {
  const { width: w, height: h, grey } = img;
  // 1. Background: the mean of the border pixels.
  let border = 0, nb = 0;
  for (let x = 0; x < w; x++) {
    border += grey[x]! + grey[(h - 1) * w + x]!;
    nb += 2;
  }
  for (let y = 1; y < h - 1; y++) {
    border += grey[y * w]! + grey[y * w + w - 1]!;
    nb += 2;
  }
  const invert = border / nb > 0.5;
  const ink = new Float32Array(w * h);
  let peak = 0;
  for (let i = 0; i < ink.length; i++) {
    ink[i] = invert ? 1 - grey[i]! : grey[i]!;
    if (ink[i]! > peak) peak = ink[i]!;
  }
  if (peak < 0.1) throw new PreprocessError("the image is blank: no ink found");
  // 2. Bounding box of the ink.
  const cut = peak / 4;
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (ink[y * w + x]! > cut) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const crop = new Float32Array(bw * bh);
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const v = ink[(y0 + y) * w + x0 + x]!;
      crop[y * bw + x] = v > cut / 2 ? v / peak : 0; // drop faint background noise
    }
  }
  // 3. Longer side to 20 pixels.
  const scale = 20 / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * scale)), th = Math.max(1, Math.round(bh * scale));
  const small = resize(crop, bw, bh, tw, th);
  // 4. Centre of mass to the centre of 28×28.
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = small[y * tw + x]!;
      mass += v;
      mx += v * x;
      my += v * y;
    }
  }
  const ox = Math.round(13.5 - (mass > 0 ? mx / mass : (tw - 1) / 2));
  const oy = Math.round(13.5 - (mass > 0 ? my / mass : (th - 1) / 2));
  const out = new Float32Array(784);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const X = x + ox, Y = y + oy;
      if (X >= 0 && X < 28 && Y >= 0 && Y < 28) out[Y * 28 + X] = Math.min(1, small[y * tw + x]!);
    }
  }
  return out;
}

/**
 * From a decoded image to the model's input.
 *
 * `"mnist"` (digits, the default model): real-world digit images are not
 * MNIST-shaped. The model was trained on white digits on black, the digit
 * about 20/28 of the frame, centred by its centre of mass. Photos add paper
 * texture, sensor noise, uneven lighting and tinted sheets, so the ink is
 * found relative to the paper around it, not by a global level:
 *
 * 1. Polarity from the border: a light border means dark ink (inverted, so
 *    ink is bright).
 * 2. The paper's level is estimated on a coarse grid (a low percentile of
 *    each cell, interpolated), subtracted, and the remainder divided by the
 *    paper's brightness: the same pen stroke reads the same in shade and in
 *    light, on white or tinted paper.
 * 3. A robust peak (the 99.5th percentile, not the maximum a noisy pixel sets)
 *    scales the ink; what is under a quarter of it is dropped as noise.
 * 4. The bounding box trims the outer 0.5% of ink mass on each side, so
 *    stray specks do not stretch it; the box is scaled so its longer side is
 *    20/28 of the input (area averaging when shrinking), then placed so its
 *    centre of mass falls on the centre.
 *
 * `"resize"` (any image model): the image is fitted to the input's height and
 * width by area averaging (bilinear when enlarging).
 *
 * @module
 */

import type { Image } from "./image.ts";

/** Why preprocessing failed (always a 400: the image has no digit to read). */
export class PreprocessError extends Error {
  /** @param message What is wrong, for a person. */
  constructor(message: string) {
    super(message);
    this.name = "PreprocessError";
  }
}

/** Samples channel `j` of `src` (w×h×c) at fractional (x, y) with bilinear weights; outside is 0. */
function bilinear(
  src: Float32Array,
  w: number,
  h: number,
  c: number,
  j: number,
  x: number,
  y: number,
): number {
  const x0 = Math.floor(x), y0 = Math.floor(y), fx = x - x0, fy = y - y0;
  let v = 0;
  const at = (xx: number, yy: number, k: number) => {
    if (k > 0 && xx >= 0 && xx < w && yy >= 0 && yy < h) v += k * src[(yy * w + xx) * c + j]!;
  };
  at(x0, y0, (1 - fx) * (1 - fy));
  at(x0 + 1, y0, fx * (1 - fy));
  at(x0, y0 + 1, (1 - fx) * fy);
  at(x0 + 1, y0 + 1, fx * fy);
  return v;
}

/** Resizes `src` (w×h×c) to tw×th: area averaging when shrinking, bilinear when enlarging. */
export function resize(
  src: Float32Array,
  w: number,
  h: number,
  c: number,
  tw: number,
  th: number,
): Float32Array {
  const out = new Float32Array(tw * th * c);
  const sx = w / tw, sy = h / th;
  if (sx >= 1 && sy >= 1) {
    // Area averaging: each output pixel is the mean of the source area it covers.
    for (let ty = 0; ty < th; ty++) {
      const y0 = ty * sy, y1 = y0 + sy;
      for (let tx = 0; tx < tw; tx++) {
        const x0 = tx * sx, x1 = x0 + sx, o = (ty * tw + tx) * c;
        for (let y = Math.floor(y0); y < Math.min(h, Math.ceil(y1)); y++) {
          const wy = Math.min(y + 1, y1) - Math.max(y, y0);
          for (let x = Math.floor(x0); x < Math.min(w, Math.ceil(x1)); x++) {
            const k = (Math.min(x + 1, x1) - Math.max(x, x0)) * wy, i = (y * w + x) * c;
            for (let j = 0; j < c; j++) out[o + j]! += k * src[i + j]!;
          }
        }
        for (let j = 0; j < c; j++) out[o + j] = out[o + j]! / (sx * sy);
      }
    }
    return out;
  }
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) {
      for (let j = 0; j < c; j++) {
        out[(ty * tw + tx) * c + j] = bilinear(
          src,
          w,
          h,
          c,
          j,
          (tx + 0.5) * sx - 0.5,
          (ty + 0.5) * sy - 0.5,
        );
      }
    }
  }
  return out;
}

/** Grey levels of an image (luminance of RGB). */
function greyOf(img: Image): Float32Array {
  if (img.channels === 1) return img.data;
  const n = img.width * img.height, out = new Float32Array(n), d = img.data;
  for (let i = 0; i < n; i++) {
    out[i] = 0.299 * d[3 * i]! + 0.587 * d[3 * i + 1]! + 0.114 * d[3 * i + 2]!;
  }
  return out;
}

/** The `q`-quantile (0..1) of values in 0..1, by a 256-bin histogram. */
function quantile(
  v: Float32Array,
  q: number,
  from = 0,
  to = v.length,
  pick?: (i: number) => number,
): number {
  const hist = new Uint32Array(257);
  let n = 0;
  for (let i = from; i < to; i++) {
    const x = pick ? v[pick(i)]! : v[i]!;
    hist[Math.max(0, Math.min(256, Math.round(x * 256)))]!++;
    n++;
  }
  let want = Math.max(1, Math.ceil(q * n)), b = 0;
  for (; b < 256 && want > hist[b]!; b++) want -= hist[b]!;
  return b / 256;
}

/** The paper's level under every pixel: a low percentile per cell of a coarse grid, interpolated. */
function paperLevel(v: Float32Array, w: number, h: number): Float32Array {
  const G = Math.max(1, Math.min(8, Math.floor(Math.min(w, h) / 8)));
  const cw = w / G, ch = h / G, cells = new Float32Array(G * G);
  for (let gy = 0; gy < G; gy++) {
    for (let gx = 0; gx < G; gx++) {
      const x0 = Math.floor(gx * cw), x1 = Math.max(x0 + 1, Math.floor((gx + 1) * cw));
      const y0 = Math.floor(gy * ch), y1 = Math.max(y0 + 1, Math.floor((gy + 1) * ch));
      const bw = x1 - x0;
      // Ink covers less than a fifth of most cells: the 20th percentile is paper.
      cells[gy * G + gx] = quantile(
        v,
        0.2,
        0,
        bw * (y1 - y0),
        (i) => (y0 + Math.floor(i / bw)) * w + x0 + (i % bw),
      );
    }
  }
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const fy = Math.min(G - 1, Math.max(0, (y + 0.5) / ch - 0.5));
    const y0 = Math.floor(fy), y1 = Math.min(G - 1, y0 + 1), ty = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(G - 1, Math.max(0, (x + 0.5) / cw - 0.5));
      const x0 = Math.floor(fx), x1 = Math.min(G - 1, x0 + 1), tx = fx - x0;
      out[y * w + x] = (1 - ty) * ((1 - tx) * cells[y0 * G + x0]! + tx * cells[y0 * G + x1]!) +
        ty * ((1 - tx) * cells[y1 * G + x0]! + tx * cells[y1 * G + x1]!);
    }
  }
  return out;
}

/** The index range holding all but `trim` of the mass at each end. */
function trimmedRange(mass: Float64Array, total: number, trim: number): [number, number] {
  let lo = 0, hi = mass.length - 1, acc = 0;
  for (; lo < mass.length; lo++) {
    acc += mass[lo]!;
    if (acc > trim * total) break;
  }
  acc = 0;
  for (; hi > lo; hi--) {
    acc += mass[hi]!;
    if (acc > trim * total) break;
  }
  return [lo, hi];
}

/**
 * Turns a digit image into the `side`×`side` input the model expects (0
 * background, 1 ink).
 *
 * @param img The decoded image (grey or RGB; shrunk or not).
 * @param side The model's input side (28 for MNIST).
 * @returns `side²` values in 0..1, row-major.
 * @throws {PreprocessError} If the image holds no ink.
 */
export function toMnistInput(img: Image, side = 28): Float32Array {
  const w = img.width, h = img.height, grey = greyOf(img);
  // 1. Polarity: the mean of the border pixels.
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
  const v = new Float32Array(w * h);
  for (let i = 0; i < v.length; i++) v[i] = invert ? 1 - grey[i]! : grey[i]!;
  // 2. Ink relative to the paper around it, in units of the paper's brightness.
  const bg = paperLevel(v, w, h);
  const ink = new Float32Array(w * h);
  for (let i = 0; i < ink.length; i++) {
    const d = v[i]! - bg[i]!;
    ink[i] = d > 0 ? Math.min(1, d / Math.max(0.05, 1 - bg[i]!)) : 0;
  }
  // 3. Robust peak; what is under a quarter of it is noise.
  const peak = quantile(ink, 0.995);
  let maxInk = 0;
  for (let i = 0; i < ink.length; i++) if (ink[i]! > maxInk) maxInk = ink[i]!;
  const top = peak > 0.02 ? peak : maxInk;
  if (top < 0.1) throw new PreprocessError("the image is blank: no ink found");
  const cut = top / 4;
  const colMass = new Float64Array(w), rowMass = new Float64Array(h);
  let total = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x, u = ink[i]! > cut ? Math.min(1, ink[i]! / top) : 0;
      ink[i] = u;
      colMass[x]! += u;
      rowMass[y]! += u;
      total += u;
    }
  }
  if (total === 0) throw new PreprocessError("the image is blank: no ink found");
  // 4. Bounding box without the outer 0.5% of mass on each side.
  const [x0, x1] = trimmedRange(colMass, total, 0.005),
    [y0, y1] = trimmedRange(rowMass, total, 0.005);
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const crop = new Float32Array(bw * bh);
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) crop[y * bw + x] = ink[(y0 + y) * w + x0 + x]!;
  }
  const box = (20 / 28) * side, scale = box / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * scale)), th = Math.max(1, Math.round(bh * scale));
  const small = resize(crop, bw, bh, 1, tw, th);
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const u = small[y * tw + x]!;
      mass += u;
      mx += u * x;
      my += u * y;
    }
  }
  const c = (side - 1) / 2;
  const ox = Math.round(c - (mass > 0 ? mx / mass : (tw - 1) / 2));
  const oy = Math.round(c - (mass > 0 ? my / mass : (th - 1) / 2));
  const out = new Float32Array(side * side);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const X = x + ox, Y = y + oy;
      if (X >= 0 && X < side && Y >= 0 && Y < side) {
        out[Y * side + X] = Math.min(1, small[y * tw + x]!);
      }
    }
  }
  return out;
}

/**
 * Fits an image to the model's input `h`×`w`×`c` (area averaging; grey or
 * RGB as the image was decoded, which must match `c`).
 */
export function toResizedInput(img: Image, h: number, w: number, c: number): Float32Array {
  if (img.channels !== c) {
    throw new Error(`toResizedInput: the image has ${img.channels} channels, the model ${c}`);
  }
  return resize(img.data, img.width, img.height, c, w, h);
}

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

import type { Image } from "../src/image/_shrink.ts";

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

/** The `q`-quantile (0..1) of a 256-bin histogram of values in 0..1 holding `n` values. */
function quantileOf(hist: Uint32Array, n: number, q: number): number {
  let want = Math.max(1, Math.ceil(q * n)), b = 0;
  for (; b < 255 && want > hist[b]!; b++) want -= hist[b]!;
  return b / 255;
}

/**
 * Ink relative to the paper, in units of the paper's brightness. The paper's
 * level is the 20th percentile (ink covers less than a fifth of most cells)
 * of each cell of a coarse grid (up to 8×8), interpolated bilinearly between
 * cell centres. One pass builds the cells' histograms, one writes the ink.
 */
function inkOverPaper(v: Float32Array, w: number, h: number): Float32Array {
  const G = Math.max(1, Math.min(8, Math.floor(Math.min(w, h) / 8)));
  const cw = w / G, ch = h / G;
  const colCell = new Int32Array(w);
  for (let x = 0; x < w; x++) colCell[x] = Math.min(G - 1, Math.floor(x / cw));
  const hist = new Uint32Array(G * G * 256), count = new Uint32Array(G * G);
  for (let y = 0; y < h; y++) {
    const row = Math.min(G - 1, Math.floor(y / ch)) * G;
    for (let x = 0, i = y * w; x < w; x++, i++) {
      const cell = row + colCell[x]!;
      hist[cell * 256 + ((v[i]! * 255 + 0.5) | 0)]!++;
      count[cell]!++;
    }
  }
  const cells = new Float32Array(G * G);
  for (let cell = 0; cell < G * G; cell++) {
    cells[cell] = quantileOf(hist.subarray(cell * 256, cell * 256 + 256), count[cell]!, 0.2);
  }
  // Interpolation weights per column, computed once.
  const cx0 = new Int32Array(w), cx1 = new Int32Array(w), tx = new Float32Array(w);
  for (let x = 0; x < w; x++) {
    const f = Math.min(G - 1, Math.max(0, (x + 0.5) / cw - 0.5));
    cx0[x] = Math.floor(f);
    cx1[x] = Math.min(G - 1, cx0[x]! + 1);
    tx[x] = f - cx0[x]!;
  }
  const ink = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const fy = Math.min(G - 1, Math.max(0, (y + 0.5) / ch - 0.5));
    const y0 = Math.floor(fy) * G,
      y1 = Math.min(G - 1, Math.floor(fy) + 1) * G,
      ty = fy - Math.floor(fy);
    for (let x = 0, i = y * w; x < w; x++, i++) {
      const a = cx0[x]!, b = cx1[x]!, t = tx[x]!;
      const bg = (1 - ty) * ((1 - t) * cells[y0 + a]! + t * cells[y0 + b]!) +
        ty * ((1 - t) * cells[y1 + a]! + t * cells[y1 + b]!);
      const d = v[i]! - bg;
      if (d > 0) {
        const u = d / (bg < 0.95 ? 1 - bg : 0.05);
        ink[i] = u < 1 ? u : 1;
      }
    }
  }
  return ink;
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
  const ink = inkOverPaper(v, w, h);
  // 3. Robust peak; what is under a quarter of it is noise.
  const hist = new Uint32Array(256);
  let maxInk = 0;
  for (let i = 0; i < ink.length; i++) {
    const u = ink[i]!;
    hist[(u * 255 + 0.5) | 0]!++;
    if (u > maxInk) maxInk = u;
  }
  const peak = quantileOf(hist, ink.length, 0.995);
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

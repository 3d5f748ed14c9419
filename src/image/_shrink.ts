// This module is browser compatible.

/**
 * Decoded images for the Worker's preprocessing, shared by the PNG and JPEG
 * decoders: grey or RGB values in 0..1, and the integer-factor shrinking both
 * apply while decoding, so a large upload never exists at full size as floats.
 *
 * @module
 */

import { ImageError, MAX_SIDE } from "./_errors.ts";

export { ImageError, MAX_SIDE };

/** Options of {@linkcode decodePng}. */
export interface DecodeOptions {
  /** 1: grey levels (luminance); 3: RGB. Transparency is composited over white either way. */
  channels: 1 | 3;
  /**
   * Shrink by an integer factor `k = max(1, floor(max(w, h) / shrinkTo))`,
   * averaging each k×k block (the edge blocks average what they hold), as
   * the rows are decoded: a 1080×1080 photo for a 28×28 model never exists
   * at full size as floats. Default: no shrinking.
   */
  shrinkTo?: number;
  /** The largest width or height accepted (default {@linkcode MAX_SIDE}); larger is a 413. */
  maxSide?: number;
}

/** A decoded image: `channels` values per pixel in 0..1 (0 black), row-major. */
export interface Image {
  /** Width in pixels (after shrinking). */
  readonly width: number;
  /** Height in pixels (after shrinking). */
  readonly height: number;
  /** 1 (grey) or 3 (RGB). */
  readonly channels: 1 | 3;
  /** `width · height · channels` values in 0..1. */
  readonly data: Float32Array;
}

/** The shrink factor for an image of `w`×`h`. */
export function shrinkFactor(w: number, h: number, shrinkTo?: number): number {
  return shrinkTo && shrinkTo > 0 ? Math.max(1, Math.floor(Math.max(w, h) / shrinkTo)) : 1;
}

/**
 * Accumulates full-resolution rows into k×k block averages. Each row is
 * handed in as `channels` floats per pixel; every k rows (and at the end)
 * one output row is written.
 */
export class Shrinker {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
  readonly #acc: Float32Array;
  readonly #cols: Float32Array;
  #rows = 0;
  #out = 0;

  constructor(
    readonly srcW: number,
    readonly srcH: number,
    readonly k: number,
    readonly c: number,
  ) {
    this.width = Math.ceil(srcW / k);
    this.height = Math.ceil(srcH / k);
    this.data = new Float32Array(this.width * this.height * c);
    this.#acc = new Float32Array(this.width * c);
    this.#cols = new Float32Array(this.width);
    for (let x = 0; x < srcW; x++) this.#cols[Math.floor(x / k)]! += 1;
  }

  /** The accumulator row to add the next source row into (`channels` floats per output pixel). */
  get acc(): Float32Array {
    return this.#acc;
  }

  /** Marks one source row as added. */
  rowDone(): void {
    if (++this.#rows === this.k) this.#flush();
  }

  /** Writes the last partial block row; returns the image. */
  finish(): Image {
    if (this.#rows > 0) this.#flush();
    return { width: this.width, height: this.height, channels: this.c as 1 | 3, data: this.data };
  }

  #flush(): void {
    const acc = this.#acc, c = this.c, base = this.#out * this.width * c;
    for (let x = 0; x < this.width; x++) {
      const inv = 1 / (this.#cols[x]! * this.#rows);
      for (let j = 0; j < c; j++) {
        this.data[base + x * c + j] = acc[x * c + j]! * inv;
        acc[x * c + j] = 0;
      }
    }
    this.#rows = 0;
    this.#out++;
  }
}

/** Feeds full-size rows into a shrinker. */
export function shrinkRows(full: Float32Array, w: number, h: number, out: Shrinker): Image {
  const c = out.c, k = out.k;
  for (let y = 0; y < h; y++) {
    const acc = out.acc;
    for (let x = 0; x < w; x++) {
      const o = Math.floor(x / k) * c, i = (y * w + x) * c;
      for (let j = 0; j < c; j++) acc[o + j]! += full[i + j]!;
    }
    out.rowDone();
  }
  return out.finish();
}

// This module is browser compatible.

/**
 * EXIF orientation: the transform that makes an image upright, as
 * `ImageOps.exif_transpose` applies it.
 *
 * @module
 */

/**
 * Applies EXIF orientation `o` (1–8) to `c`-channel pixels of `w`×`h`;
 * orientations 5–8 swap width and height.
 */
export function orient(
  data: Uint8Array,
  w: number,
  h: number,
  c: number,
  o: number,
): { width: number; height: number; data: Uint8Array } {
  if (o <= 1 || o > 8) return { width: w, height: h, data };
  const swap = o >= 5, ow = swap ? h : w, oh = swap ? w : h;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      // The source pixel shown at (x, y) of the upright image.
      let sx: number, sy: number;
      switch (o) {
        case 2: // mirrored across
          sx = w - 1 - x, sy = y;
          break;
        case 3: // rotated 180°
          sx = w - 1 - x, sy = h - 1 - y;
          break;
        case 4: // mirrored down
          sx = x, sy = h - 1 - y;
          break;
        case 5: // transposed
          sx = y, sy = x;
          break;
        case 6: // rotated 90° clockwise to view
          sx = y, sy = h - 1 - x;
          break;
        case 7: // transversed
          sx = w - 1 - y, sy = h - 1 - x;
          break;
        default: // 8: rotated 90° counter-clockwise to view
          sx = w - 1 - y, sy = x;
      }
      const s = (sy * w + sx) * c, d = (y * ow + x) * c;
      for (let j = 0; j < c; j++) out[d + j] = data[s + j]!;
    }
  }
  return { width: ow, height: oh, data: out };
}

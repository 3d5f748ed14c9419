/**
 * A PNG encoder for tests (every colour type, bit depths, Adam7), built on
 * CompressionStream, plus helpers that draw digits the way a person would:
 * thick dark strokes on a large white canvas.
 *
 * @module
 */

/** Pixel samples of one image, row-major, `channels` per pixel, in 0..2^depth-1. */
export interface RawImage {
  width: number;
  height: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: 0 | 2 | 3 | 4 | 6;
  depth: 1 | 2 | 4 | 8 | 16;
  samples: ArrayLike<number>;
  palette?: Uint8Array;
  trns?: Uint8Array;
}

let table: Uint32Array | null = null;
function crc(bytes: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = table[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One chunk: length, type, data, CRC. */
export function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc(out.subarray(4, 8 + data.length)));
  return out;
}

/** zlib-compresses bytes. */
export async function deflate(data: Uint8Array): Promise<Uint8Array> {
  const cs = new CompressionStream("deflate");
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(cs);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [
  0,
  1,
  1,
  2,
]];

/** The filtered-free (filter 0, or `filter` for every line) scanlines of an image or pass. */
function scanlines(img: RawImage, interlace: boolean, filter: number): Uint8Array {
  const ch = CHANNELS[img.colorType], bits = ch * img.depth, bpp = Math.max(1, bits >> 3);
  const passes: readonly (readonly number[])[] = interlace ? ADAM7 : [[0, 0, 1, 1]];
  const out: number[] = [];
  for (const [x0, y0, dx, dy] of passes as readonly (readonly [number, number, number, number])[]) {
    const w = Math.max(0, Math.ceil((img.width - x0) / dx)),
      h = Math.max(0, Math.ceil((img.height - y0) / dy));
    if (w === 0 || h === 0) continue;
    const len = Math.ceil((w * bits) / 8);
    let prev = new Uint8Array(len);
    for (let y = 0; y < h; y++) {
      const line = new Uint8Array(len);
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < ch; c++) {
          const v = img.samples[((y0 + y * dy) * img.width + x0 + x * dx) * ch + c]!;
          const bit = (x * ch + c) * img.depth;
          if (img.depth === 16) {
            line[bit >> 3] = v >> 8;
            line[(bit >> 3) + 1] = v & 0xff;
          } else if (img.depth === 8) line[bit >> 3] = v;
          else line[bit >> 3]! |= v << (8 - img.depth - (bit & 7));
        }
      }
      const filtered = new Uint8Array(len);
      for (let i = 0; i < len; i++) {
        const a = i >= bpp ? line[i - bpp]! : 0, b = prev[i]!, c = i >= bpp ? prev[i - bpp]! : 0;
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter]!;
        filtered[i] = (line[i]! - pred) & 0xff;
      }
      out.push(filter, ...filtered);
      prev = line;
    }
  }
  return Uint8Array.from(out);
}

/** Encodes an image as a PNG. */
export async function encodePng(
  img: RawImage,
  options: { interlace?: boolean; filter?: number } = {},
): Promise<Uint8Array> {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, img.width);
  v.setUint32(4, img.height);
  ihdr.set([img.depth, img.colorType, 0, 0, options.interlace ? 1 : 0], 8);
  const parts = [Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr)];
  if (img.palette) parts.push(chunk("PLTE", img.palette));
  if (img.trns) parts.push(chunk("tRNS", img.trns));
  parts.push(
    chunk("IDAT", await deflate(scanlines(img, !!options.interlace, options.filter ?? 0))),
  );
  parts.push(chunk("IEND", new Uint8Array(0)));
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** An 8-bit grey PNG from values in 0..1. */
export function greyPng(
  width: number,
  height: number,
  grey: ArrayLike<number>,
): Promise<Uint8Array> {
  return encodePng({
    width,
    height,
    colorType: 0,
    depth: 8,
    samples: Array.from(grey, (g) => Math.round(g * 255)),
  });
}

/**
 * Draws an MNIST digit (28×28, white on black, 0..1) as a person would:
 * dark ink on a `size`×`size` white canvas, scaled up, offset from the centre.
 */
export function drawOnCanvas(
  mnist: ArrayLike<number>,
  size = 280,
  offset: [number, number] = [20, -10],
): Float32Array {
  const out = new Float32Array(size * size).fill(1);
  const scale = (size * 0.6) / 28;
  const cx = size / 2 + offset[0], cy = size / 2 + offset[1];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = (x - cx) / scale + 14, sy = (y - cy) / scale + 14;
      const ix = Math.floor(sx), iy = Math.floor(sy);
      if (ix >= 0 && ix < 28 && iy >= 0 && iy < 28) out[y * size + x] = 1 - mnist[iy * 28 + ix]!;
    }
  }
  return out;
}

/** Thick strokes along polylines (coordinates in 0..1) on a white `size`×`size` canvas. */
export function strokes(paths: [number, number][][], size = 400, width = 0.08): Float32Array {
  const out = new Float32Array(size * size).fill(1);
  const r = width * size / 2;
  for (const path of paths) {
    for (let i = 0; i + 1 < path.length; i++) {
      const [ax, ay] = path[i]!.map((v) => v * size) as [number, number];
      const [bx, by] = path[i + 1]!.map((v) => v * size) as [number, number];
      const steps = Math.ceil(Math.hypot(bx - ax, by - ay));
      for (let s = 0; s <= steps; s++) {
        const px = ax + ((bx - ax) * s) / Math.max(steps, 1),
          py = ay + ((by - ay) * s) / Math.max(steps, 1);
        for (let y = Math.floor(py - r); y <= Math.ceil(py + r); y++) {
          for (let x = Math.floor(px - r); x <= Math.ceil(px + r); x++) {
            if (
              x >= 0 && x < size && y >= 0 && y < size && (x - px) ** 2 + (y - py) ** 2 <= r * r
            ) out[y * size + x] = 0;
          }
        }
      }
    }
  }
  return out;
}

/** Stroke paths (in a unit square) for a few digits, as a person might draw them. */
export const DRAWN: Record<number, [number, number][][]> = {
  0: [Array.from({ length: 33 }, (_, i) => {
    const t = (i / 32) * 2 * Math.PI;
    return [0.5 + 0.22 * Math.sin(t), 0.5 - 0.32 * Math.cos(t)] as [number, number];
  })],
  1: [[[0.42, 0.26], [0.52, 0.16], [0.52, 0.84]]],
  7: [[[0.28, 0.2], [0.72, 0.2], [0.45, 0.85]]],
  4: [[[0.6, 0.84], [0.6, 0.16], [0.25, 0.62], [0.78, 0.62]]],
};

/** The PNG signature. */
export const SIGNATURE: Uint8Array = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);

/** An IHDR chunk. */
export function ihdr(
  width: number,
  height: number,
  depth = 8,
  colorType = 0,
  interlace = 0,
): Uint8Array {
  const d = new Uint8Array(13);
  const v = new DataView(d.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  d.set([depth, colorType, 0, 0, interlace], 8);
  return chunk("IHDR", d);
}

/** Concatenates byte arrays. */
export function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** An 8-bit grey PNG header of `side`×`side` whose data inflates to `bytes` zero bytes. */
export async function bombPng(side: number, bytes: number): Promise<Uint8Array> {
  return join(
    SIGNATURE,
    ihdr(side, side),
    chunk("IDAT", await deflate(new Uint8Array(bytes))),
    chunk("IEND", new Uint8Array(0)),
  );
}

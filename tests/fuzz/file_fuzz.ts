/**
 * Seeded fuzzing of the parsers that face untrusted bytes: the model
 * loader, the ONNX reader and importer, and the PNG decoder. Files are mutated (bit flips, byte runs,
 * truncation, length fields) and, for PNGs, chunk CRCs are often recomputed
 * so the damage reaches the decoder's logic instead of stopping at the CRC.
 * Each input must load, or be refused with the parser's own error type.
 *
 * @module
 */

import {
  loadModel,
  loadOnnx,
  ModelFormatError,
  OnnxFormatError,
  OnnxUnsupportedError,
  tensor,
} from "../../mod.ts";
import { mulberry32 } from "../../src/core/random.ts";
import { decodePng, PngError } from "../../src/image/_png.ts";
import { decodeImage, ImageError } from "../../src/image/mod.ts";
import { chunk } from "../_png.ts";

/** What a run found. */
export interface FileFuzzReport {
  /** Inputs tried. */
  tried: number;
  /** Inputs that parsed. */
  accepted: number;
  /** Inputs refused with the documented error. */
  refused: number;
  /** Inputs that broke the rules. */
  failures: string[];
  /** The largest growth of the process's resident memory seen across one input, in bytes. */
  maxRssGrowth: number;
}

/** Applies one random mutation to `bytes`. */
export function mutate(bytes: Uint8Array, r: () => number): Uint8Array {
  const out = bytes.slice();
  const at = Math.floor(r() * out.length);
  switch (Math.floor(r() * 6)) {
    case 0: // flip a bit
      out[at]! ^= 1 << Math.floor(r() * 8);
      return out;
    case 1: // random bytes over a run
      for (let i = at; i < Math.min(out.length, at + 1 + Math.floor(r() * 16)); i++) {
        out[i] = Math.floor(r() * 256);
      }
      return out;
    case 2: // truncate
      return out.subarray(0, at);
    case 3: // set a 32-bit field to an extreme
      if (at + 4 <= out.length) {
        new DataView(out.buffer).setUint32(
          at,
          [0, 0xffffffff, 0x80000000, 2049][Math.floor(r() * 4)]!,
        );
      }
      return out;
    case 4: { // duplicate a slice
      const n = Math.floor(r() * 64);
      const joined = new Uint8Array(out.length + n);
      joined.set(out.subarray(0, at));
      joined.set(out.subarray(at, at + n), at);
      joined.set(out.subarray(at), at + Math.min(n, out.length - at));
      return joined;
    }
    default: // zero a run
      out.fill(0, at, at + 1 + Math.floor(r() * 32));
      return out;
  }
}

/** Recomputes every chunk's CRC, so that a mutation inside a chunk passes the CRC check. */
export function fixCrcs(png: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [png.subarray(0, 8)];
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let at = 8;
  while (at + 12 <= png.length) {
    const len = v.getUint32(at);
    if (len > png.length - at - 12) break;
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    parts.push(chunk(type.padEnd(4, "?"), png.subarray(at + 8, at + 8 + len)));
    at += 12 + len;
  }
  parts.push(png.subarray(at));
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function rss(): number {
  return Deno.memoryUsage().rss;
}

/** Feeds `count` mutants of `seeds` to `loadModel`. */
export function fuzzModelFiles(seed: number, count: number, seeds: Uint8Array[]): FileFuzzReport {
  const r = mulberry32(seed);
  const rep: FileFuzzReport = { tried: 0, accepted: 0, refused: 0, failures: [], maxRssGrowth: 0 };
  for (let i = 0; i < count; i++) {
    let bytes = seeds[i % seeds.length]!;
    const rounds = 1 + Math.floor(r() * 3);
    for (let k = 0; k < rounds; k++) bytes = mutate(bytes, r);
    const before = rss();
    rep.tried++;
    try {
      loadModel(bytes);
      rep.accepted++;
    } catch (e) {
      if (e instanceof ModelFormatError) rep.refused++;
      else {rep.failures.push(
          `model mutant ${i}: ${e instanceof Error ? `${e.name}: ${e.message}` : e}`,
        );}
    }
    rep.maxRssGrowth = Math.max(rep.maxRssGrowth, rss() - before);
  }
  return rep;
}

/** Feeds `count` mutants of `seeds` to `decodePng`. */
export async function fuzzPngs(
  seed: number,
  count: number,
  seeds: Uint8Array[],
): Promise<FileFuzzReport> {
  const r = mulberry32(seed);
  const rep: FileFuzzReport = { tried: 0, accepted: 0, refused: 0, failures: [], maxRssGrowth: 0 };
  for (let i = 0; i < count; i++) {
    let bytes = seeds[i % seeds.length]!;
    const rounds = 1 + Math.floor(r() * 3);
    for (let k = 0; k < rounds; k++) bytes = mutate(bytes, r);
    if (r() < 0.7) bytes = fixCrcs(bytes);
    const before = rss();
    rep.tried++;
    try {
      const img = await decodePng(bytes);
      if (img.data.length !== img.width * img.height) {
        rep.failures.push(`png mutant ${i}: wrong pixel count`);
      } else rep.accepted++;
    } catch (e) {
      if (e instanceof PngError && (e.status === 400 || e.status === 413)) rep.refused++;
      else {rep.failures.push(
          `png mutant ${i}: ${e instanceof Error ? `${e.name}: ${e.message}` : e}`,
        );}
    }
    rep.maxRssGrowth = Math.max(rep.maxRssGrowth, rss() - before);
  }
  return rep;
}

/** What an ONNX run found, besides the common counts. */
export interface OnnxFuzzReport extends FileFuzzReport {
  /** Refused as malformed (OnnxFormatError). */
  malformed: number;
  /** Refused as unsupported (OnnxUnsupportedError). */
  unsupported: number;
  /** The longest time one input took, in milliseconds. */
  maxMs: number;
  /** The mutant that took longest, and its model's layers when it loaded. */
  slowest: string;
}

/** Writes a protobuf varint of `v` (up to 2^53) into a fresh array. */
function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** A protobuf-aware mutation: a huge or wrong varint (a length, a dim, a count) spliced in. */
function mutateVarint(bytes: Uint8Array, r: () => number): Uint8Array {
  const at = Math.floor(r() * bytes.length);
  const huge = [2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1, 2 ** 40, 1e9, 0][Math.floor(r() * 6)]!;
  const v = r() < 0.2 ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01] : varint(huge);
  // Replace the varint that starts here (its bytes up to the first without the high bit).
  let end = at;
  while (end < bytes.length && bytes[end]! >= 0x80 && end - at < 10) end++;
  end = Math.min(bytes.length, end + 1);
  const out = new Uint8Array(bytes.length - (end - at) + v.length);
  out.set(bytes.subarray(0, at));
  out.set(v, at);
  out.set(bytes.subarray(end), at + v.length);
  return out;
}

/**
 * Feeds `count` mutants of ONNX `seeds` to `loadOnnx`; each must load (and
 * then predict a zero image, or refuse it with a documented error) or be
 * refused with OnnxFormatError / OnnxUnsupportedError.
 */
export function fuzzOnnxFiles(seed: number, count: number, seeds: Uint8Array[]): OnnxFuzzReport {
  const r = mulberry32(seed);
  const rep: OnnxFuzzReport = {
    tried: 0,
    accepted: 0,
    refused: 0,
    malformed: 0,
    unsupported: 0,
    failures: [],
    maxRssGrowth: 0,
    maxMs: 0,
    slowest: "",
  };
  for (let i = 0; i < count; i++) {
    let bytes = seeds[i % seeds.length]!;
    const rounds = 1 + Math.floor(r() * 3);
    for (let k = 0; k < rounds; k++) bytes = r() < 0.4 ? mutateVarint(bytes, r) : mutate(bytes, r);
    const before = rss(), t0 = performance.now();
    rep.tried++;
    let what = `mutant ${i}: refused`;
    try {
      // Activations capped at 2^20 values a sample: predicting stays within a few MiB.
      const m = loadOnnx(bytes, { maxActivation: 2 ** 20 });
      what = `mutant ${i}: ${m.inputShape} → ${m.layers.map((l) => l.kind).join(",")}`;
      const size = m.inputShape.reduce((p, d) => p * d, 1);
      if (size <= 1 << 20) {
        try {
          m.predict(tensor(new Float32Array(size), [1, ...m.inputShape]));
        } catch (e) {
          if (!(e instanceof RangeError)) throw e;
        }
      }
      rep.accepted++;
    } catch (e) {
      if (e instanceof OnnxFormatError) {
        rep.refused++;
        rep.malformed++;
      } else if (e instanceof OnnxUnsupportedError) {
        rep.refused++;
        rep.unsupported++;
      } else {
        rep.failures.push(
          `onnx mutant ${i}: ${e instanceof Error ? `${e.name}: ${e.message}` : e}`,
        );
      }
    }
    const ms = performance.now() - t0;
    if (ms > rep.maxMs) rep.slowest = `${what} (${ms.toFixed(0)} ms)`;
    rep.maxMs = Math.max(rep.maxMs, ms);
    rep.maxRssGrowth = Math.max(rep.maxRssGrowth, rss() - before);
  }
  return rep;
}

/**
 * Feeds `count` mutants of JPEG `seeds` to `decodeImage` (grey and RGB, at
 * full size and DCT-scaled): each must decode to an image of a consistent
 * size or be refused with an ImageError (400 or 413); the slowest input is
 * reported.
 */
export async function fuzzJpegs(
  seed: number,
  count: number,
  seeds: Uint8Array[],
): Promise<FileFuzzReport & { maxMs: number }> {
  const r = mulberry32(seed);
  const rep = {
    tried: 0,
    accepted: 0,
    refused: 0,
    failures: [] as string[],
    maxRssGrowth: 0,
    maxMs: 0,
  };
  for (let i = 0; i < count; i++) {
    let bytes = seeds[i % seeds.length]!;
    const rounds = 1 + Math.floor(r() * 3);
    for (let k = 0; k < rounds; k++) bytes = mutate(bytes, r);
    const before = rss(), t0 = performance.now();
    rep.tried++;
    try {
      const channels = r() < 0.5 ? 1 : 3;
      const minSize = r() < 0.5 ? 1 + Math.floor(r() * 112) : undefined;
      const img = await decodeImage(bytes, minSize ? { channels, minSize } : { channels });
      if (img.data.length !== img.width * img.height * channels) {
        rep.failures.push(`jpeg mutant ${i}: wrong pixel count`);
      } else rep.accepted++;
    } catch (e) {
      if (e instanceof ImageError && (e.status === 400 || e.status === 413)) rep.refused++;
      else {rep.failures.push(
          `jpeg mutant ${i}: ${e instanceof Error ? `${e.name}: ${e.message}` : e}`,
        );}
    }
    rep.maxMs = Math.max(rep.maxMs, performance.now() - t0);
    rep.maxRssGrowth = Math.max(rep.maxRssGrowth, rss() - before);
  }
  return rep;
}

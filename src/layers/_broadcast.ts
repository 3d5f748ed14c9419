// This module is browser compatible.

/**
 * NumPy broadcasting of sample shapes for the element-wise merge layers
 * (private): the output shape, and for each input the index of its element
 * that each output element reads (the batch axis is never broadcast).
 *
 * @module
 */

import type { SampleShape } from "./layer.ts";

/** The broadcast of `shapes` (NumPy rules, right-aligned), or a RangeError naming the clash. */
export function broadcastShapes(kind: string, shapes: readonly SampleShape[]): SampleShape {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  shapes.forEach((s, i) => {
    for (let k = 0; k < s.length; k++) {
      const at = rank - s.length + k, d = s[k]!, o = out[at]!;
      if (d === o || d === 1) continue;
      if (o === 1) out[at] = d;
      else {
        throw new RangeError(
          `${kind} needs shapes that broadcast (each dimension equal or 1), but input ${i} is [${
            s.join(", ")
          }] and the others give [${out.join(", ")}]`,
        );
      }
    }
  });
  return out;
}

/**
 * How an input of sample shape `s` is read by each element of the broadcast
 * output `out`: `null` when the shapes are equal (element `i` for output
 * `i`), a period `P` when the input repeats whole (`[1, 1, c]` against
 * `[h, w, c]`: element `i % P`, squeeze-and-excitation's case, with no
 * table), else a table of indices.
 */
export type BroadcastMap = null | { readonly period: number } | Int32Array;

/** The {@linkcode BroadcastMap} of an input of sample shape `s` broadcast to `out`. */
export function broadcastMap(s: SampleShape, out: SampleShape): BroadcastMap {
  const size = out.reduce((a, b) => a * b, 1);
  const inSize = s.reduce((a, b) => a * b, 1);
  if (inSize === size) return null;
  const rank = out.length, pad = rank - s.length;
  const dim = (k: number) => (k >= pad ? s[k - pad]! : 1);
  // Leading 1s, then exactly the output's trailing dimensions: a whole repeat.
  let k = 0;
  while (k < rank && dim(k) === 1) k++;
  let whole = true;
  for (let j = k; j < rank; j++) if (dim(j) !== out[j]) whole = false;
  if (whole) return { period: inSize };
  // The input's stride for each output axis (0 where it is broadcast).
  const strides = new Array<number>(rank).fill(0);
  let st = 1;
  for (let j = rank - 1; j >= 0; j--) {
    const d = dim(j);
    strides[j] = d === 1 ? 0 : st;
    st *= d;
  }
  const map = new Int32Array(size), idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let i = 0; i < size; i++) {
    map[i] = src;
    for (let j = rank - 1; j >= 0; j--) {
      idx[j]!++;
      src += strides[j]!;
      if (idx[j]! < out[j]!) break;
      src -= strides[j]! * out[j]!;
      idx[j] = 0;
    }
  }
  return map;
}

/** Reads input `x` (a batch of `m` samples) broadcast to samples of `outSize` through `map`. */
export function expand(
  x: Float32Array,
  map: BroadcastMap,
  m: number,
  outSize: number,
): Float32Array {
  if (!map) return x;
  const out = new Float32Array(m * outSize);
  expandInto(out, x, map, m, outSize);
  return out;
}

/** {@linkcode expand} into `out` (`m · outSize` floats), a copy when `map` is null. */
export function expandInto(
  out: Float32Array,
  x: Float32Array,
  map: BroadcastMap,
  m: number,
  outSize: number,
): void {
  if (!map) {
    out.set(x);
    return;
  }
  const inSize = x.length / m;
  if (!(map instanceof Int32Array)) {
    for (let n = 0; n < m; n++) {
      const row = x.subarray(n * inSize, (n + 1) * inSize);
      for (let o = n * outSize, end = o + outSize; o < end; o += inSize) out.set(row, o);
    }
    return;
  }
  for (let n = 0; n < m; n++) {
    const o = n * outSize, b = n * inSize;
    for (let i = 0; i < outSize; i++) out[o + i] = x[b + map[i]!]!;
  }
}

/**
 * `out[i] = f(a[i], c[i])` over a batch of `m` samples of `size`, with `a`
 * and `c` read through their maps: in place when one equals the output's
 * shape and the other repeats whole (no expanded copy: the hot loop of
 * normalising by a mean), else through expanded copies.
 */
export function binaryInto(
  out: Float32Array,
  a: Float32Array,
  ma: BroadcastMap,
  c: Float32Array,
  mc: BroadcastMap,
  m: number,
  size: number,
  f: (a: number, c: number) => number,
): void {
  const pa = period(ma), pc = period(mc);
  if ((pa && !mc) || (pc && !ma)) {
    const P = pa || pc;
    for (let n = 0; n < m; n++) {
      const r = n * P;
      for (let o = n * size, end = o + size; o < end; o += P) {
        if (pa) { for (let k = 0; k < P; k++) out[o + k] = f(a[r + k]!, c[o + k]!); }
        else for (let k = 0; k < P; k++) out[o + k] = f(a[o + k]!, c[r + k]!);
      }
    }
    return;
  }
  const ea = expand(a, ma, m, size), ec = expand(c, mc, m, size);
  for (let i = 0; i < out.length; i++) out[i] = f(ea[i]!, ec[i]!);
}

/** A whole-repeat map's period, else 0. */
const period = (map: BroadcastMap): number => map && !(map instanceof Int32Array) ? map.period : 0;

/** Sums a gradient over the broadcast positions back to an input's shape (the adjoint of `expand`). */
export function reduceTo(
  g: Float32Array,
  map: BroadcastMap,
  m: number,
  inSize: number,
): Float32Array {
  if (!map) return g;
  const outSize = g.length / m, out = new Float32Array(m * inSize);
  if (!(map instanceof Int32Array)) {
    const acc = new Float64Array(inSize);
    for (let n = 0; n < m; n++) {
      acc.fill(0);
      for (let o = n * outSize, end = o + outSize; o < end; o += inSize) {
        for (let k = 0; k < inSize; k++) acc[k]! += g[o + k]!;
      }
      for (let k = 0; k < inSize; k++) out[n * inSize + k] = acc[k]!;
    }
    return out;
  }
  for (let n = 0; n < m; n++) {
    const o = n * outSize, b = n * inSize;
    for (let i = 0; i < outSize; i++) out[b + map[i]!]! += g[o + i]!;
  }
  return out;
}

/**
 * `out[i] = out[i] · x[read(i)]` (or `+`), reading a broadcast input in place
 * without expanding it: the hot loop of squeeze-and-excitation.
 */
export function combineInto(
  out: Float32Array,
  x: Float32Array,
  map: BroadcastMap,
  m: number,
  outSize: number,
  op: "add" | "mul",
): void {
  if (map instanceof Int32Array) {
    const inSize = x.length / m;
    for (let n = 0; n < m; n++) {
      const o = n * outSize, b = n * inSize;
      if (op === "add") {
        for (let i = 0; i < outSize; i++) out[o + i] = out[o + i]! + x[b + map[i]!]!;
      } else for (let i = 0; i < outSize; i++) out[o + i] = out[o + i]! * x[b + map[i]!]!;
    }
    return;
  }
  if (!map) {
    if (op === "add") { for (let i = 0; i < out.length; i++) out[i] = out[i]! + x[i]!; }
    else for (let i = 0; i < out.length; i++) out[i] = out[i]! * x[i]!;
    return;
  }
  const P = map.period;
  for (let n = 0; n < m; n++) {
    const b = n * P;
    for (let o = n * outSize, end = o + outSize; o < end; o += P) {
      if (op === "add") { for (let k = 0; k < P; k++) out[o + k] = out[o + k]! + x[b + k]!; }
      else for (let k = 0; k < P; k++) out[o + k] = out[o + k]! * x[b + k]!;
    }
  }
}

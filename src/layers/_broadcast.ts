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
 * For an input of sample shape `s` broadcast to `out`: the index into the
 * input's sample read by each element of the output's sample, or `null`
 * when the shapes are equal (read element `i` for output `i`).
 */
export function broadcastMap(s: SampleShape, out: SampleShape): Int32Array | null {
  const size = out.reduce((a, b) => a * b, 1);
  if (s.reduce((a, b) => a * b, 1) === size) return null;
  const rank = out.length, pad = rank - s.length;
  // The input's stride for each output axis (0 where it is broadcast).
  const strides = new Array<number>(rank).fill(0);
  let st = 1;
  for (let k = rank - 1; k >= 0; k--) {
    const d = k >= pad ? s[k - pad]! : 1;
    strides[k] = d === 1 ? 0 : st;
    st *= d;
  }
  const map = new Int32Array(size), idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let i = 0; i < size; i++) {
    map[i] = src;
    for (let k = rank - 1; k >= 0; k--) {
      idx[k]!++;
      src += strides[k]!;
      if (idx[k]! < out[k]!) break;
      src -= strides[k]! * out[k]!;
      idx[k] = 0;
    }
  }
  return map;
}

/** Reads input `x` (a batch of samples of `inSize`) broadcast to samples of `outSize` through `map`. */
export function expand(
  x: Float32Array,
  map: Int32Array | null,
  m: number,
  outSize: number,
): Float32Array {
  if (!map) return x;
  const inSize = x.length / m, out = new Float32Array(m * outSize);
  for (let n = 0; n < m; n++) {
    const o = n * outSize, b = n * inSize;
    for (let i = 0; i < outSize; i++) out[o + i] = x[b + map[i]!]!;
  }
  return out;
}

/** Sums a gradient over the broadcast positions back to an input's shape (the adjoint of `expand`). */
export function reduceTo(
  g: Float32Array,
  map: Int32Array | null,
  m: number,
  inSize: number,
): Float32Array {
  if (!map) return g;
  const outSize = g.length / m, out = new Float32Array(m * inSize);
  for (let n = 0; n < m; n++) {
    const o = n * outSize, b = n * inSize;
    for (let i = 0; i < outSize; i++) out[b + map[i]!]! += g[o + i]!;
  }
  return out;
}

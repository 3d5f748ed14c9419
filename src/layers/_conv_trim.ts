// This module is browser compatible.

/**
 * Filter taps that never reach the input: a 3×3 convolution dilated by 36
 * on a 14×14 map (DeepLabV3's ASPP) sees only padding through its outer
 * taps, so it is a 1×1 convolution. The forward pass runs the live taps
 * alone (the same sums less the zero terms); the backward pass keeps the
 * whole filter.
 *
 * @module
 */

import type { ConvGeometry } from "../core/types.ts";
import { sameSample, sampleOf, track, versionOf } from "../core/_versions.ts";

/** The live taps of one axis: the first and last, or null if every tap is live. */
function liveAxis(
  n: number,
  out: number,
  f: number,
  s: number,
  padBefore: number,
  padAfter: number,
  d: number,
): [number, number] | null {
  // Tap k reads rows o·s − padBefore + k·d, o in [0, out): live iff some of them lie in [0, n).
  let k0 = 0, k1 = f - 1;
  while (k0 < f && (out - 1) * s - padBefore + k0 * d < 0) k0++;
  while (k1 >= k0 && -padBefore + k1 * d >= n) k1--;
  if (k0 > k1 || (k0 === 0 && k1 === f - 1)) return null;
  // The trimmed geometry keeps the output size with the pads reduced, never below zero.
  if (padBefore - k0 * d < 0 || padAfter - (f - 1 - k1) * d < 0) return null;
  return [k0, k1];
}

/** The geometry with dead taps removed, and which taps stay, or null when every tap is live. */
export function trimmedGeometry(
  g: ConvGeometry,
): { g: ConvGeometry; h0: number; w0: number } | null {
  const rows = liveAxis(g.inH, g.outH, g.fH, g.strideH, g.padTop, g.padBottom, g.dilationH);
  const cols = liveAxis(g.inW, g.outW, g.fW, g.strideW, g.padLeft, g.padRight, g.dilationW);
  if (!rows && !cols) return null;
  const [h0, h1] = rows ?? [0, g.fH - 1], [w0, w1] = cols ?? [0, g.fW - 1];
  const fH = h1 - h0 + 1, fW = w1 - w0 + 1;
  return {
    h0,
    w0,
    g: {
      ...g,
      fH,
      fW,
      padTop: g.padTop - h0 * g.dilationH,
      padBottom: g.padBottom - (g.fH - 1 - h1) * g.dilationH,
      padLeft: g.padLeft - w0 * g.dilationW,
      padRight: g.padRight - (g.fW - 1 - w1) * g.dilationW,
      // One tap left on an axis: its spacing no longer matters (adjacent taps run faster).
      dilationH: fH === 1 ? 1 : g.dilationH,
      dilationW: fW === 1 ? 1 : g.dilationW,
    },
  };
}

/** Live taps by filter array: reused while the array's version is unchanged (see core/_versions.ts). */
const cache = new WeakMap<
  Float32Array,
  { version: number; sample: Int32Array; key: string; w: Float32Array | null }
>();

/**
 * The filter `w` ([fH, fW, cIn/groups, cOut]) cut to the live taps of `t`,
 * or null when a removed tap holds a non-finite weight (0 · ∞ is NaN: the
 * whole filter must run, as PyTorch's would).
 */
export function trimmedWeights(
  g: ConvGeometry,
  t: { g: ConvGeometry; h0: number; w0: number },
  w: Float32Array,
): Float32Array | null {
  const version = versionOf(w), key = `${t.h0},${t.w0},${t.g.fH},${t.g.fW}`;
  const hit = version === undefined ? undefined : cache.get(w);
  if (hit && hit.version === version && hit.key === key && sameSample(hit.sample, w)) return hit.w;
  const run = (g.cIn / g.groups) * g.cOut;
  let ok = true;
  const out = new Float32Array(t.g.fH * t.g.fW * run);
  for (let kh = 0; kh < g.fH; kh++) {
    for (let kw = 0; kw < g.fW; kw++) {
      const src = (kh * g.fW + kw) * run, i = kh - t.h0, j = kw - t.w0;
      if (i >= 0 && i < t.g.fH && j >= 0 && j < t.g.fW) {
        out.set(w.subarray(src, src + run), (i * t.g.fW + j) * run);
      } else {
        for (let k = src; k < src + run && ok; k++) ok = Number.isFinite(w[k]!);
      }
    }
  }
  const result = ok ? out : null;
  if (result) track(result);
  if (version !== undefined) cache.set(w, { version, sample: sampleOf(w), key, w: result });
  return result;
}

/**
 * The depthwise kernel that reads its input unpadded (`dwForwardRows`: the
 * taps on padding left out) against a float32 emulation of the same sums, bit
 * for bit on the plain-SIMD build (separate multiply and add, as emulated),
 * on geometries whose windows overlap the padding on every side, fall wholly
 * in it, stride, dilate and multiply channels; and the padded kernel kept
 * for filters that are not all finite (a tap on padding then gives 0·∞ =
 * NaN, as zero padding means).
 */
import assert from "node:assert/strict";
import { availableBackends } from "../mod.ts";
import { activeKernels } from "../src/backend/select.ts";
import type { ConvGeometry } from "../src/backend/types.ts";
import { convOutputSize } from "../src/core/_geometry.ts";
import { randArray, rng, withBackend } from "./_helpers.ts";

const WASM = availableBackends().filter((b) => b !== "js");

interface DwCase {
  m: number;
  inH: number;
  inW: number;
  c: number;
  mult: number;
  f: [number, number];
  s: [number, number];
  d: [number, number];
  /** top, bottom, left, right */
  p: [number, number, number, number];
}

function geometry(k: DwCase): ConvGeometry {
  const [t, b, l, r] = k.p;
  return {
    m: k.m,
    inH: k.inH,
    inW: k.inW,
    cIn: k.c,
    fH: k.f[0],
    fW: k.f[1],
    cOut: k.c * k.mult,
    strideH: k.s[0],
    strideW: k.s[1],
    padTop: t,
    padBottom: b,
    padLeft: l,
    padRight: r,
    dilationH: k.d[0],
    dilationW: k.d[1],
    groups: k.c,
    outH: convOutputSize(k.inH, k.f[0], t, b, k.s[0], k.d[0]),
    outW: convOutputSize(k.inW, k.f[1], l, r, k.s[1], k.d[1]),
  };
}

/** The sums in float32, in the kernel's order (bias, then taps row by row), padded taps left out. */
function emulate(
  g: ConvGeometry,
  x: Float32Array,
  w: Float32Array,
  b: Float32Array,
  act: 0 | 1 | 2,
): Float32Array {
  const N = g.cOut, mult = N / g.cIn, f = Math.fround;
  const z = new Float32Array(g.m * g.outH * g.outW * N);
  for (let i = 0; i < g.m; i++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        for (let n = 0; n < N; n++) {
          const ch = Math.floor(n / mult);
          let a = b[n]!;
          for (let kh = 0; kh < g.fH; kh++) {
            const ih = oh * g.strideH - g.padTop + kh * g.dilationH;
            if (ih < 0 || ih >= g.inH) continue;
            for (let kw = 0; kw < g.fW; kw++) {
              const iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
              if (iw < 0 || iw >= g.inW) continue;
              const xv = x[((i * g.inH + ih) * g.inW + iw) * g.cIn + ch]!;
              a = f(a + f(xv * w[(kh * g.fW + kw) * N + n]!));
            }
          }
          if (act) a = a < 0 ? 0 : a;
          if (act === 2) a = a > 6 ? 6 : a;
          z[((i * g.outH + oh) * g.outW + ow) * N + n] = a;
        }
      }
    }
  }
  return z;
}

const CASES: DwCase[] = [
  // 3×3 "same", channels through the 16-wide, 4-wide and scalar paths
  { m: 1, inH: 5, inW: 7, c: 23, mult: 1, f: [3, 3], s: [1, 1], d: [1, 1], p: [1, 1, 1, 1] },
  // stride 2, odd sizes, asymmetric padding (TensorFlow's "same")
  { m: 2, inH: 9, inW: 6, c: 37, mult: 1, f: [3, 3], s: [2, 2], d: [1, 1], p: [0, 1, 1, 1] },
  // 5×5 on a map smaller than the window: windows that are mostly padding
  { m: 1, inH: 3, inW: 2, c: 8, mult: 1, f: [5, 5], s: [1, 1], d: [1, 1], p: [2, 2, 2, 2] },
  // padding wider than the filter reach: whole windows on padding (the bias alone)
  { m: 1, inH: 2, inW: 2, c: 5, mult: 1, f: [3, 3], s: [1, 1], d: [1, 1], p: [3, 3, 3, 3] },
  // dilation 2, rectangular filter and strides
  { m: 3, inH: 8, inW: 11, c: 19, mult: 1, f: [3, 2], s: [1, 2], d: [2, 2], p: [2, 2, 1, 2] },
  // channel multiplier 2 and 3
  { m: 1, inH: 6, inW: 6, c: 7, mult: 2, f: [3, 3], s: [2, 1], d: [1, 1], p: [1, 1, 1, 1] },
  { m: 2, inH: 4, inW: 5, c: 17, mult: 3, f: [2, 3], s: [1, 1], d: [1, 1], p: [1, 0, 2, 1] },
  // one channel, 7×7 with a big pad
  { m: 1, inH: 10, inW: 9, c: 1, mult: 1, f: [7, 7], s: [2, 2], d: [1, 1], p: [3, 3, 3, 3] },
];

Deno.test("depthwise convolution without a padded copy: the float32 sums bit for bit (plain SIMD) and within 1e-6 (fused multiply-add)", () => {
  const r = rng(2026);
  for (const k of CASES) {
    const g = geometry(k);
    const x = randArray(r, g.m * g.inH * g.inW * g.cIn, -2, 2);
    const w = randArray(r, g.fH * g.fW * g.cOut), b = randArray(r, g.cOut);
    for (const act of [0, 1, 2] as const) {
      const want = emulate(g, x, w, b, act);
      for (const be of WASM) {
        const got = withBackend(be, () => activeKernels().convForward(g, x, w, b, act));
        const what = `${be} ${JSON.stringify(k)} act ${act}`;
        assert.equal(got.length, want.length, what);
        let top = 0;
        for (const v of want) top = Math.max(top, Math.abs(v));
        for (let i = 0; i < want.length; i++) {
          if (be === "wasm-simd") {
            // Object.is: -0 against +0 would pass an equality; the bits must be the same value.
            assert.ok(got[i] === want[i] || Object.is(got[i], want[i]), `${what} [${i}]`);
          } else {
            assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-6 * Math.max(1, top), `${what} [${i}]`);
          }
        }
      }
    }
  }
});

Deno.test("depthwise convolution with a non-finite filter keeps zero padding's meaning: 0·∞ on padding gives NaN", () => {
  // 3×3 "same" on a 4×4 map: the top-left tap reads padding for the first row and column.
  const k: DwCase = {
    m: 1,
    inH: 4,
    inW: 4,
    c: 6,
    mult: 1,
    f: [3, 3],
    s: [1, 1],
    d: [1, 1],
    p: [1, 1, 1, 1],
  };
  const g = geometry(k);
  const x = new Float32Array(16 * 6).fill(1), b = new Float32Array(6);
  const w = new Float32Array(9 * 6).fill(0.5);
  w[0 * 6 + 2] = Infinity; // tap (0, 0), channel 2
  for (const be of WASM) {
    const z = withBackend(be, () => activeKernels().convForward(g, x, w, b, 0));
    for (let oh = 0; oh < 4; oh++) {
      for (let ow = 0; ow < 4; ow++) {
        const v = z[(oh * 4 + ow) * 6 + 2]!;
        if (oh === 0 || ow === 0) assert.ok(Number.isNaN(v), `${be} (${oh}, ${ow}) is ${v}`);
        else assert.equal(v, Infinity, `${be} (${oh}, ${ow})`);
        // The other channels are finite sums of 0.5 over the taps inside the map.
        const taps = (Math.min(oh + 1, 3) - Math.max(oh - 1, 0) + 1) *
          (Math.min(ow + 1, 3) - Math.max(ow - 1, 0) + 1);
        assert.equal(z[(oh * 4 + ow) * 6 + 3], taps * 0.5, `${be} (${oh}, ${ow}) channel 3`);
      }
    }
  }
});

/**
 * Two rewrites of dilated convolutions, held to float64: taps that only
 * ever see padding are left out (src/layers/_conv_trim.ts; a non-finite
 * weight in a removed tap keeps the whole filter, as 0 · ∞ is NaN in
 * PyTorch), and dilated stride-1 convolutions run as their phase images
 * undilated where Winograd then applies (src/backend/_dilated.ts).
 */
import assert from "node:assert/strict";
import { availableBackends, Conv2D, type Padding, Sequential, tensor } from "../mod.ts";
import { trimmedGeometry } from "../src/layers/_conv_trim.ts";
import { planConv } from "../src/core/_geometry.ts";
import { _threadState, activeKernels } from "../src/backend/select.ts";
import { randArray, rng, withBackend } from "./_helpers.ts";

interface Case {
  h: number;
  w: number;
  cIn: number;
  cOut: number;
  f: [number, number];
  stride: [number, number];
  dilation: [number, number];
  padding: [number, number, number, number];
  /** The trimmed filter size expected, or null when every tap is live. */
  trimmed: [number, number] | null;
}

const CASES: Case[] = [
  // DeepLabV3's ASPP on a 14×14 map: dilation 36 leaves the centre tap.
  {
    h: 14,
    w: 14,
    cIn: 9,
    cOut: 5,
    f: [3, 3],
    stride: [1, 1],
    dilation: [36, 36],
    padding: [36, 36, 36, 36],
    trimmed: [1, 1],
  },
  // Dilation 24 on 7×11: rows keep the centre, columns keep all three.
  {
    h: 7,
    w: 25,
    cIn: 3,
    cOut: 7,
    f: [3, 3],
    stride: [1, 1],
    dilation: [24, 12],
    padding: [24, 24, 12, 12],
    trimmed: [1, 3],
  },
  // Lopsided padding: only the top taps are dead.
  {
    h: 5,
    w: 6,
    cIn: 4,
    cOut: 3,
    f: [5, 3],
    stride: [2, 1],
    dilation: [2, 1],
    padding: [8, 0, 1, 1],
    trimmed: [3, 3],
  },
  // Every tap live (dilation 12 on 14×14): untouched.
  {
    h: 14,
    w: 14,
    cIn: 2,
    cOut: 3,
    f: [3, 3],
    stride: [1, 1],
    dilation: [12, 12],
    padding: [12, 12, 12, 12],
    trimmed: null,
  },
];

/** The convolution in float64, straight from the definition. */
function conv64(c: Case, x: Float32Array, w: Float32Array, b: Float32Array, m: number) {
  const [pT, pB, pL, pR] = c.padding, [fH, fW] = c.f, [sH, sW] = c.stride, [dH, dW] = c.dilation;
  const outH = Math.floor((c.h + pT + pB - dH * (fH - 1) - 1) / sH) + 1;
  const outW = Math.floor((c.w + pL + pR - dW * (fW - 1) - 1) / sW) + 1;
  const out = new Float64Array(m * outH * outW * c.cOut);
  for (let i = 0; i < m; i++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        for (let co = 0; co < c.cOut; co++) {
          let s = b[co]!;
          for (let kh = 0; kh < fH; kh++) {
            for (let kw = 0; kw < fW; kw++) {
              const ih = oh * sH - pT + kh * dH, iw = ow * sW - pL + kw * dW;
              for (let ci = 0; ci < c.cIn; ci++) {
                const wv = w[((kh * fW + kw) * c.cIn + ci) * c.cOut + co]!;
                const xv = ih >= 0 && ih < c.h && iw >= 0 && iw < c.w
                  ? x[((i * c.h + ih) * c.w + iw) * c.cIn + ci]!
                  : 0;
                s += xv * wv;
              }
            }
          }
          out[((i * outH + oh) * outW + ow) * c.cOut + co] = s;
        }
      }
    }
  }
  return out;
}

/** The geometry of case `c` for a batch of `m`. */
const geometryOf = (c: Case, m: number) =>
  planConv("test", "f", m, c.h, c.w, c.cIn, c.f[0], c.f[1], c.cOut, {
    stride: c.stride,
    pads: c.padding,
    dilation: c.dilation,
    groups: 1,
  });

/** `got` is finite and within 1e-5 of the float64 `want` (relative to its largest value). */
function assertNear(got: Float32Array, want: Float64Array, what: string): void {
  assert.equal(got.length, want.length, what);
  let worst = 0, scale = 0;
  want.forEach((v, i) => {
    assert.ok(Number.isFinite(got[i]), `${what}: output ${i} is ${got[i]}`);
    worst = Math.max(worst, Math.abs(got[i]! - v));
    scale = Math.max(scale, Math.abs(v));
  });
  assert.ok(worst <= 1e-5 * Math.max(1, scale), `${what}: error ${worst}`);
}

Deno.test("trimmedGeometry finds the live taps and keeps the output size", () => {
  for (const c of CASES) {
    const g = geometryOf(c, 1);
    const t = trimmedGeometry(g);
    if (!c.trimmed) {
      assert.equal(t, null, JSON.stringify(c));
      continue;
    }
    assert.ok(t, JSON.stringify(c));
    assert.deepEqual([t.g.fH, t.g.fW], c.trimmed);
    assert.deepEqual([t.g.outH, t.g.outW], [g.outH, g.outW]);
    const outH = Math.floor(
      (t.g.inH + t.g.padTop + t.g.padBottom - t.g.dilationH * (t.g.fH - 1) - 1) / t.g.strideH,
    ) + 1;
    assert.equal(outH, g.outH, "the trimmed pads give the same output height");
  }
});

for (const be of availableBackends()) {
  Deno.test(`${be}: trimmed convolutions match the whole filter in float64`, () => {
    withBackend(be, () => {
      CASES.forEach((c, n) => {
        const r = rng(40 + n), m = 2;
        const layer = new Conv2D({
          filters: c.cOut,
          kernelSize: c.f,
          stride: c.stride,
          dilation: c.dilation,
          padding: c.padding as Padding,
        });
        const model = new Sequential([layer], [c.h, c.w, c.cIn], { seed: n });
        const [kernel, bias] = model.params();
        bias!.value.set(randArray(r, c.cOut, -0.5, 0.5));
        model.weightsChanged();
        const x = tensor(randArray(r, m * c.h * c.w * c.cIn, -1, 1), [m, c.h, c.w, c.cIn]);
        const want = conv64(c, x.data, kernel!.value, bias!.value, m);
        assertNear(model.predict(x).data, want, `case ${n}, predict`);
        assertNear(model.forward(x).data, want, `case ${n}, forward`);
        if (c.trimmed) {
          // An infinite weight in a removed tap: the whole filter runs, so the output is the
          // backend's for the whole filter (NaN where 0 · ∞ meets padding on the WebAssembly
          // backends, as in PyTorch; the TypeScript kernel skips padding taps).
          kernel!.value[0] = Infinity;
          model.weightsChanged();
          const whole = activeKernels().convForward(
            geometryOf(c, m),
            x.data,
            kernel!.value,
            bias!.value,
            0,
          );
          assert.deepEqual(model.predict(x).data, whole, `case ${n}`);
          if (be !== "js") assert.ok(whole.some(Number.isNaN), `case ${n}: NaN expected`);
        }
      });
    });
  });
}

/** Dilated convolutions big enough for Winograd on their phase images (fcn_resnet50's, DeepLab's). */
/** A dilated stride-1 3×3 or 5×5 case (nothing to trim). */
const dilated = (
  h: number,
  w: number,
  cIn: number,
  cOut: number,
  f: number,
  dilation: [number, number],
  padding: [number, number, number, number],
): Case => ({ h, w, cIn, cOut, f: [f, f], stride: [1, 1], dilation, padding, trimmed: null });

const PHASED: Case[] = [
  dilated(12, 12, 32, 64, 3, [2, 2], [2, 2, 2, 2]),
  dilated(13, 11, 64, 66, 3, [4, 3], [4, 4, 3, 3]),
  dilated(14, 14, 128, 130, 3, [12, 12], [12, 12, 12, 12]),
  dilated(15, 17, 16, 65, 5, [2, 2], [3, 5, 4, 4]),
];

for (const be of availableBackends().filter((b) => b !== "js")) {
  Deno.test(`${be}: dilated convolutions as phase images (Winograd) within 1e-5 of float64`, () => {
    withBackend(be, () => {
      const state = _threadState()!;
      PHASED.forEach((c, n) => {
        const r = rng(70 + n), m = 3;
        const g = geometryOf(c, m);
        const x = randArray(r, m * c.h * c.w * c.cIn, -1, 1);
        const w = randArray(r, c.f[0] * c.f[1] * c.cIn * c.cOut, -0.2, 0.2);
        const b = randArray(r, c.cOut, -0.5, 0.5);
        const calls = state.kernels.winogradCalls();
        const z = activeKernels().convForward(g, x, w, b, 0);
        assert.ok(state.kernels.winogradCalls() > calls, `case ${n}: took Winograd`);
        assertNear(z, conv64(c, x, w, b, m), `case ${n}`);
        // One image of the batch alone gives the same bits (phases are decided per image).
        const one = { ...g, m: 1 };
        const z1 = activeKernels().convForward(one, x.subarray(0, c.h * c.w * c.cIn), w, b, 0);
        assert.deepEqual(z1, z.subarray(0, z1.length), `case ${n}: batch of one`);
      });
    });
  });
}

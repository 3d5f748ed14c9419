/**
 * Winograd convolutions (stride-1 3×3 and 5×5 with enough channels and
 * tiles) held to a float64 direct convolution within 1e-5 of the largest
 * output, on every WebAssembly backend: odd output sizes (partial tiles),
 * channel counts that are not multiples of 4 or 8, batches, asymmetric
 * padding, fused ReLU and ReLU6, the input gradients that run on the forward
 * kernel, the filter gradients (Winograd over 2×2 blocks of outputs), and 64
 * channels (the error grows with the channel count). Inputs
 * holding ±∞ or NaN stay on the direct kernel. The transform matrices satisfy
 * the identity they are built for.
 */
import assert from "node:assert/strict";
import { availableBackends, getBackend, setBackend } from "../mod.ts";
import { _threadState, activeKernels } from "../src/backend/select.ts";
import { cookToom, WINOGRAD } from "../src/backend/_winograd.ts";
import type { ConvGeometry } from "../src/core/types.ts";
import { jsKernels } from "../src/backend/js.ts";
import { convGeo, randArray, rng } from "./_helpers.ts";

const WASM = availableBackends().filter((b) => b !== "js");

function geo(
  m: number,
  h: number,
  w: number,
  cIn: number,
  f: number,
  cOut: number,
  pads: [number, number, number, number],
): ConvGeometry {
  return convGeo(m, h, w, cIn, f, cOut, { pads });
}

/** Direct convolution in float64 (+ bias, then the activation), NHWC. */
function conv64(
  g: ConvGeometry,
  x: Float32Array,
  w: Float32Array,
  b: Float32Array,
  act: 0 | 1 | 2,
): Float64Array {
  const out = new Float64Array(g.m * g.outH * g.outW * g.cOut);
  for (let i = 0; i < g.m; i++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        for (let co = 0; co < g.cOut; co++) {
          let s = b[co]!;
          for (let kh = 0; kh < g.fH; kh++) {
            const ih = oh - g.padTop + kh;
            if (ih < 0 || ih >= g.inH) continue;
            for (let kw = 0; kw < g.fW; kw++) {
              const iw = ow - g.padLeft + kw;
              if (iw < 0 || iw >= g.inW) continue;
              for (let ci = 0; ci < g.cIn; ci++) {
                s += x[((i * g.inH + ih) * g.inW + iw) * g.cIn + ci]! *
                  w[((kh * g.fW + kw) * g.cIn + ci) * g.cOut + co]!;
              }
            }
          }
          if (act >= 1) s = Math.max(0, s);
          if (act === 2) s = Math.min(6, s);
          out[((i * g.outH + oh) * g.outW + ow) * g.cOut + co] = s;
        }
      }
    }
  }
  return out;
}

/** The filter gradient [fH, fW, cIn, cOut] of a stride-1 convolution, in float64. */
function dW64(g: ConvGeometry, x: Float32Array, dz: Float32Array): Float64Array {
  const out = new Float64Array(g.fH * g.fW * g.cIn * g.cOut);
  for (let i = 0; i < g.m; i++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        const zAt = ((i * g.outH + oh) * g.outW + ow) * g.cOut;
        for (let kh = 0; kh < g.fH; kh++) {
          const ih = oh - g.padTop + kh;
          if (ih < 0 || ih >= g.inH) continue;
          for (let kw = 0; kw < g.fW; kw++) {
            const iw = ow - g.padLeft + kw;
            if (iw < 0 || iw >= g.inW) continue;
            for (let ci = 0; ci < g.cIn; ci++) {
              const xv = x[((i * g.inH + ih) * g.inW + iw) * g.cIn + ci]!;
              const at = ((kh * g.fW + kw) * g.cIn + ci) * g.cOut;
              for (let co = 0; co < g.cOut; co++) out[at + co]! += xv * dz[zAt + co]!;
            }
          }
        }
      }
    }
  }
  return out;
}

/** max |got − want| / max |want|, failing on any non-finite value. */
function relError(got: Float32Array, want: Float64Array): number {
  assert.equal(got.length, want.length);
  let err = 0, scale = 0;
  for (let i = 0; i < got.length; i++) {
    assert.ok(Number.isFinite(got[i]), `output ${i} is ${got[i]}`);
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return err / scale;
}

const CASES: { g: ConvGeometry; act: 0 | 1 | 2 }[] = [
  { g: geo(2, 21, 19, 13, 3, 21, [1, 1, 1, 1]), act: 0 }, // odd sizes and channels
  { g: geo(2, 33, 34, 8, 3, 8, [0, 2, 1, 0]), act: 1 }, // asymmetric padding, ReLU
  { g: geo(1, 30, 30, 64, 3, 64, [1, 1, 1, 1]), act: 0 }, // 64 channels: the worst error
  { g: geo(4, 14, 14, 16, 5, 32, [2, 2, 2, 2]), act: 2 }, // the MNIST CNN's second layer, ReLU6
  { g: geo(32, 14, 14, 16, 5, 32, [2, 2, 2, 2]), act: 0 }, // … on a training batch: 8 parts
  { g: geo(4, 17, 15, 33, 5, 9, [2, 1, 0, 2]), act: 0 },
  { g: geo(1, 20, 20, 64, 5, 64, [2, 2, 2, 2]), act: 0 }, // 5×5 with 64 channels
];

Deno.test("Winograd matrices: Aᵀ[(G g) ⊙ (Bᵀ d)] is the correlation of d with g, in float64", () => {
  const r = rng(3);
  for (
    const [m, rr, pts] of [[2, 3, [0, 1, -1]], [2, 5, [0, 1, -1, 2, -0.5]], [4, 3, [
      0,
      1,
      -1,
      2,
      -2,
    ]]] as const
  ) {
    const t = cookToom(m, rr, pts);
    const a = t.alpha;
    const AT = t.mats.subarray(0, m * a), G = t.mats.subarray(m * a, m * a + a * rr);
    const BT = t.mats.subarray(m * a + a * rr);
    for (let trial = 0; trial < 20; trial++) {
      const d = Array.from({ length: a }, () => r() * 2 - 1);
      const g = Array.from({ length: rr }, () => r() * 2 - 1);
      const Gg = Array.from(
        { length: a },
        (_, j) => g.reduce((s, v, k) => s + G[j * rr + k]! * v, 0),
      );
      const Bd = Array.from(
        { length: a },
        (_, j) => d.reduce((s, v, x) => s + BT[j * a + x]! * v, 0),
      );
      for (let i = 0; i < m; i++) {
        const got = Gg.reduce((s, v, j) => s + AT[i * a + j]! * v * Bd[j]!, 0);
        const want = g.reduce((s, v, k) => s + v * d[i + k]!, 0);
        // The matrices are float32-rounded: agreement to float32 precision.
        assert.ok(Math.abs(got - want) < 1e-5, `F(${m},${rr}) y${i}: ${got} vs ${want}`);
      }
    }
  }
  assert.deepEqual([...WINOGRAD.keys()], [3, 5]);
});

for (const be of WASM) {
  Deno.test(`${be}: Winograd convolutions within 1e-5 of float64, with their input and filter gradients`, () => {
    const before = getBackend();
    setBackend(be);
    try {
      const k = activeKernels();
      const state = _threadState()!;
      const r = rng(17);
      for (const { g, act } of CASES) {
        const x = randArray(r, g.m * g.inH * g.inW * g.cIn, -1, 1);
        const scale = 1 / Math.sqrt(g.fH * g.fW * g.cIn);
        const w = randArray(r, g.fH * g.fW * g.cIn * g.cOut, -scale, scale);
        const b = randArray(r, g.cOut, -0.5, 0.5);
        const calls = state.kernels.winogradCalls();
        const z = k.convForward(g, x, w, b, act);
        assert.equal(state.kernels.winogradCalls(), calls + 1, "took the Winograd path");
        const e = relError(z, conv64(g, x, w, b, act));
        assert.ok(e <= 1e-5, `${be} forward ${JSON.stringify(g)}: ${e}`);
        // The input gradient (stride 1) runs on the forward kernel, so on Winograd too.
        const dz = randArray(r, g.m * g.outH * g.outW * g.cOut, -1, 1);
        const got = k.convBackwardData(g, dz, w);
        const want = jsKernels.convBackwardData(g, dz, w);
        assert.equal(state.kernels.winogradCalls(), calls + 2, "dX took the Winograd path");
        let err = 0, sc = 0;
        for (let i = 0; i < got.length; i++) {
          assert.ok(Number.isFinite(got[i]));
          err = Math.max(err, Math.abs(got[i]! - want[i]!));
          sc = Math.max(sc, Math.abs(want[i]!));
        }
        assert.ok(err / sc <= 1e-5, `${be} dX: ${err / sc}`);
        // The filter gradient: Winograd over 2×2 blocks of outputs, summed per part of the batch.
        const { dW, db } = k.convBackwardFilter(g, x, dz);
        assert.equal(state.kernels.winogradCalls(), calls + 3, "dW took the Winograd path");
        const eW = relError(dW, dW64(g, x, dz));
        assert.ok(eW <= 1e-5, `${be} dW ${JSON.stringify(g)}: ${eW}`);
        const db64 = new Float64Array(g.cOut);
        for (let q = 0; q < dz.length; q++) db64[q % g.cOut]! += dz[q]!;
        assert.ok(relError(db, db64) <= 1e-5, `${be} db`);
      }
    } finally {
      setBackend(before);
    }
  });

  Deno.test(`${be}: inputs holding ±∞ or NaN stay on the direct kernel (same as plain TypeScript)`, () => {
    const before = getBackend();
    setBackend(be);
    try {
      const k = activeKernels();
      const state = _threadState()!;
      const g = geo(1, 32, 32, 16, 3, 16, [1, 1, 1, 1]);
      const r = rng(5);
      const w = randArray(r, 9 * 16 * 16, -0.3, 0.3), b = new Float32Array(16);
      // With finite values this shape runs on Winograd…
      const before = state.kernels.winogradCalls();
      k.convForward(g, randArray(r, 32 * 32 * 16, -1, 1), w, b, 0);
      assert.equal(state.kernels.winogradCalls(), before + 1);
      for (const bad of [Infinity, -Infinity, NaN]) {
        // … and with one bad value it does not.
        const x = randArray(r, 32 * 32 * 16, -1, 1);
        x[(5 * 32 + 5) * 16 + 3] = bad;
        const calls = state.kernels.winogradCalls();
        const z = k.convForward(g, x, w, b, 0);
        assert.equal(state.kernels.winogradCalls(), calls, "not Winograd");
        const want = jsKernels.convForward(g, x, w, b, 0);
        for (let i = 0; i < z.length; i++) {
          // Only the outputs whose window holds the bad value are non-finite.
          assert.equal(Number.isFinite(z[i]), Number.isFinite(want[i]), `output ${i} (${bad})`);
        }
      }
    } finally {
      setBackend(before);
    }
  });
}

for (const be of WASM) {
  Deno.test(`${be}: transformed filters are kept for an unchanged filter array and redone when it changes`, () => {
    const before = getBackend();
    setBackend(be);
    try {
      const k = activeKernels();
      const g = geo(1, 14, 14, 32, 5, 64, [2, 2, 2, 2]); // one image: Winograd thanks to the cache
      const r = rng(9);
      const x = randArray(r, 14 * 14 * 32, -1, 1), b = randArray(r, 64, -0.1, 0.1);
      const w = randArray(r, 25 * 32 * 64, -0.05, 0.05);
      const check = (what: string) => {
        const e = relError(k.convForward(g, x, w, b, 0), conv64(g, x, w, b, 0));
        assert.ok(e <= 1e-5, `${be} ${what}: ${e}`);
      };
      check("first call");
      check("second call (filters transformed and kept)");
      check("third call (kept filters reused)");
      // Training updates weights in place: the kept transform must not be used any more.
      for (let i = 0; i < w.length; i += 7) w[i] = -w[i]!;
      check("after an in-place update");
      w[w.length - 1] = w[w.length - 1]! + 0.01;
      check("after one value changed");
    } finally {
      setBackend(before);
    }
  });
}

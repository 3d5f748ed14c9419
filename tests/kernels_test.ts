/**
 * The fast kernels held to the float64 oracle and to each other: random
 * shapes that are not multiples of the register tiles (MR = 4 or 6 rows, 8
 * columns), 1×1 images, windows larger and smaller than the stride, pad 0,
 * all-negative pooling windows, batches.
 */
import assert from "node:assert/strict";
import {
  availableBackends,
  type Backend,
  convBackward,
  convForward,
  poolBackward,
  poolForward,
  tensor,
} from "../mod.ts";
import { activeKernels } from "../src/backend/select.ts";
import { squareConv } from "../src/core/_geometry.ts";
import type { ConvGeometry } from "../src/core/types.ts";
import { assertClose, randArray, randInt, rng, withBackend } from "./_helpers.ts";
import { convBackward64, convForward64, f64, poolBackward64, poolForward64 } from "./_oracle.ts";

const BACKENDS = availableBackends();

interface ConvCfg {
  m: number;
  H: number;
  W: number;
  cIn: number;
  cOut: number;
  f: number;
  stride: number;
  pad: number;
}

/** Hand-picked edges, then random shapes up to 21 channels (M, N, K rarely tile-aligned). */
function convConfigs(): ConvCfg[] {
  const list: ConvCfg[] = [
    { m: 1, H: 1, W: 1, cIn: 1, cOut: 1, f: 1, stride: 1, pad: 0 }, // 1×1 image, 1×1 filter
    { m: 2, H: 1, W: 1, cIn: 3, cOut: 5, f: 3, stride: 1, pad: 1 }, // 1×1 image, window all padding but centre
    { m: 1, H: 7, W: 9, cIn: 5, cOut: 9, f: 2, stride: 3, pad: 0 }, // stride > f: skipped pixels
    { m: 3, H: 9, W: 7, cIn: 7, cOut: 13, f: 5, stride: 2, pad: 2 }, // f > stride
    { m: 1, H: 13, W: 11, cIn: 1, cOut: 7, f: 5, stride: 1, pad: 0 },
    { m: 2, H: 6, W: 6, cIn: 17, cOut: 25, f: 3, stride: 1, pad: 1 },
    { m: 1, H: 5, W: 5, cIn: 8, cOut: 8, f: 5, stride: 1, pad: 0 }, // one output pixel
    { m: 4, H: 3, W: 20, cIn: 2, cOut: 1, f: 3, stride: 1, pad: 1 },
    // One output row (M = 1): the vector-matrix path, its 16-, 4- and 1-column loops and odd K.
    { m: 1, H: 5, W: 5, cIn: 3, cOut: 37, f: 5, stride: 1, pad: 0 },
    { m: 1, H: 3, W: 3, cIn: 2, cOut: 21, f: 3, stride: 3, pad: 1 }, // padded window
    { m: 1, H: 1, W: 1, cIn: 33, cOut: 50, f: 1, stride: 1, pad: 0 }, // a dense layer
  ];
  const r = rng(2024);
  while (list.length < 110) {
    const c = {
      m: randInt(r, 1, 3),
      H: randInt(r, 1, 14),
      W: randInt(r, 1, 14),
      cIn: randInt(r, 1, 21),
      cOut: randInt(r, 1, 21),
      f: randInt(r, 1, 5),
      stride: randInt(r, 1, 3),
      pad: randInt(r, 0, 2),
    };
    if (c.f <= c.H + 2 * c.pad && c.f <= c.W + 2 * c.pad) list.push(c);
  }
  return list;
}

Deno.test(`every backend's conv forward/backward matches float64 on 110 shapes (rel. error ≤ 1e-4)`, () => {
  const r = rng(77);
  for (const c of convConfigs()) {
    const what = JSON.stringify(c);
    const x = tensor(randArray(r, c.m * c.H * c.W * c.cIn), [c.m, c.H, c.W, c.cIn]);
    const w = tensor(randArray(r, c.f * c.f * c.cIn * c.cOut), [c.f, c.f, c.cIn, c.cOut]);
    const b = randArray(r, c.cOut);
    const z64 = convForward64(f64(x), f64(w), b, c.stride, c.pad);
    const dZ = tensor(randArray(r, z64.data.length), z64.shape);
    const ref = convBackward64(f64(dZ), f64(x), f64(w), c.stride, c.pad);
    for (const be of BACKENDS) {
      withBackend(be, () => {
        const { z, cache } = convForward(x, w, b, { stride: c.stride, pad: c.pad });
        assert.deepEqual([...z.shape], z64.shape, `${be} z shape ${what}`);
        assertClose(z.data, z64.data, 1e-4, `${be} z ${what}`);
        const g = convBackward(dZ, cache);
        assertClose(g.dAPrev.data, ref.dA.data, 1e-4, `${be} dAPrev ${what}`);
        assertClose(g.dW.data, ref.dW.data, 1e-4, `${be} dW ${what}`);
        assertClose(g.db, ref.db, 1e-4, `${be} db ${what}`);
      });
    }
  }
});

Deno.test("every backend's pooling matches float64 on 110 shapes, half of them all-negative", () => {
  const r = rng(78);
  let n = 0;
  while (n < 110) {
    const m = randInt(r, 1, 3), H = randInt(r, 1, 13), W = randInt(r, 1, 13);
    const c = randInt(r, 1, 19), f = randInt(r, 1, 4), stride = randInt(r, 1, 3);
    if (f > H || f > W) continue;
    n++;
    const negative = n % 2 === 0;
    const x = tensor(randArray(r, m * H * W * c, negative ? -3 : -1, negative ? -0.01 : 1), [
      m,
      H,
      W,
      c,
    ]);
    for (const mode of ["max", "average"] as const) {
      const what = `${mode} m${m} ${H}x${W} c${c} f${f} s${stride}`;
      const a64 = poolForward64(f64(x), f, stride, mode);
      const dA = tensor(randArray(r, a64.data.length), a64.shape);
      const d64 = poolBackward64(f64(dA), f64(x), f, stride, mode);
      for (const be of BACKENDS) {
        withBackend(be, () => {
          const { a, cache } = poolForward(x, { f, stride }, mode);
          assertClose(a.data, a64.data, 1e-4, `${be} a ${what}`);
          assertClose(poolBackward(dA, cache).data, d64.data, 1e-4, `${be} dAPrev ${what}`);
        });
      }
    }
  }
});

Deno.test("max-pool ties route to the first maximum on every backend, in every channel lane", () => {
  // 6 channels so both the SIMD lanes and the scalar tail see ties.
  const c = 6;
  const x = new Float32Array(2 * 2 * c);
  for (let ch = 0; ch < c; ch++) {
    // Tie pattern per channel: the maximum 5 sits at window positions (ch % 4) and 3.
    for (let p = 0; p < 4; p++) x[p * c + ch] = p === ch % 4 || p === 3 ? 5 : -1;
  }
  const want = new Float32Array(2 * 2 * c);
  for (let ch = 0; ch < c; ch++) want[(ch % 4) * c + ch] = ch + 1;
  for (const be of BACKENDS) {
    withBackend(be, () => {
      const { cache } = poolForward(tensor(x, [1, 2, 2, c]), { f: 2, stride: 2 });
      const dA = tensor(Float32Array.from({ length: c }, (_, i) => i + 1), [1, 1, 1, c]);
      assert.deepEqual(poolBackward(dA, cache).data, want, be);
    });
  }
});

Deno.test("results are bit-identical across repeated calls, and the backends agree", () => {
  const r = rng(5);
  const x = tensor(randArray(r, 3 * 11 * 13 * 7), [3, 11, 13, 7]);
  const w = tensor(randArray(r, 3 * 3 * 7 * 10), [3, 3, 7, 10]);
  const b = randArray(r, 10);
  const outs = new Map<Backend, Float32Array[]>();
  for (const be of BACKENDS) {
    withBackend(be, () => {
      const first = convForward(x, w, b, { stride: 2, pad: 1 });
      const g1 = convBackward(tensor(first.z.data, first.z.shape), first.cache);
      for (let i = 0; i < 5; i++) {
        const again = convForward(x, w, b, { stride: 2, pad: 1 });
        assert.deepEqual(again.z.data, first.z.data, `${be} forward repeat ${i}`);
        const g = convBackward(tensor(again.z.data, again.z.shape), again.cache);
        assert.deepEqual(g.dW.data, g1.dW.data, `${be} dW repeat ${i}`);
        assert.deepEqual(g.dAPrev.data, g1.dAPrev.data, `${be} dAPrev repeat ${i}`);
      }
      outs.set(be, [first.z.data, g1.dAPrev.data, g1.dW.data, g1.db]);
    });
  }
  const js = outs.get("js")!;
  for (const [be, o] of outs) {
    for (let i = 0; i < o.length; i++) assertClose(o[i]!, js[i]!, 1e-5, `${be} vs js output ${i}`);
  }
});

Deno.test("a NaN in a max window gives NaN forward and no gradient backward, on every backend", () => {
  // 21 channels: a 16-channel SIMD chunk, a 4-channel vector and a scalar tail.
  const c = 21;
  const r = rng(9);
  const x = randArray(r, 1 * 4 * 4 * c);
  // NaN at pixel (1, 1) in channels 2, 17 and 20 (one per code path), inside window (0, 0).
  for (const ch of [2, 17, 20]) x[(1 * 4 + 1) * c + ch] = NaN;
  const xt = tensor(x, [1, 4, 4, c]);
  const dA = tensor(new Float32Array(2 * 2 * c).fill(1), [1, 2, 2, c]);
  for (const be of BACKENDS) {
    withBackend(be, () => {
      const { a, cache } = poolForward(xt, { f: 2, stride: 2 });
      const d = poolBackward(dA, cache).data;
      for (let ch = 0; ch < c; ch++) {
        const nan = [2, 17, 20].includes(ch);
        assert.equal(Number.isNaN(a.data[ch]), nan, `${be} forward channel ${ch}`);
        // Window (0, 0) covers pixels (0,0), (0,1), (1,0), (1,1).
        let routed = 0;
        for (const p of [0, 1, 4, 5]) routed += d[p * c + ch]!;
        assert.equal(routed, nan ? 0 : 1, `${be} backward channel ${ch}`);
      }
    });
  }
});

Deno.test("the fused ReLU equals a separate max(0, ·) on every backend, NaN included (NaN stays NaN)", () => {
  const r = rng(41);
  for (
    const [m, H, cIn, cOut, f, stride, pad] of <[
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ][]> [[2, 7, 3, 13, 3, 1, 1], [1, 5, 17, 9, 5, 2, 2], [
      3,
      4,
      1,
      1,
      1,
      1,
      0,
    ]]
  ) {
    const g = squareConv(m, H, H, cIn, f, cOut, stride, pad);
    const x = randArray(r, m * H * H * cIn),
      w = randArray(r, f * f * cIn * cOut),
      b = randArray(r, cOut);
    x[0] = NaN;
    for (const be of BACKENDS) {
      withBackend(be, () => {
        const plain = activeKernels().convForward(g, x, w, b);
        const fused = activeKernels().convForward(g, x, w, b, true);
        assert.deepEqual(fused, plain.map((v) => (v < 0 ? 0 : v)), `${be} ${JSON.stringify(g)}`);
        assert.ok(Number.isNaN(fused[0]), `${be}: the NaN input reaches output 0 and stays NaN`);
      });
    }
  }
});

Deno.test("erf and GELU kernels (exact and tanh) match float64 formulas on every backend (5e-7 · max(1, |x|)), NaN and ±Infinity included", () => {
  const r = rng(37);
  const erf64 = (v: number) => {
    // erf by its Maclaurin series (|v| < 3) or 1 (beyond: within 2.3e-5 of 1, below float32's step there).
    if (Math.abs(v) >= 3) return Math.sign(v) * (1 - 2.209e-5 * Math.exp(9 - v * v));
    let term = v, sum = v;
    for (let k = 1; k < 80; k++) {
      term *= -v * v / k;
      sum += term / (2 * k + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  };
  const want: Record<"erf" | "gelu" | "gelu_tanh" | "silu", (v: number) => number> = {
    erf: erf64,
    gelu: (v) => 0.5 * v * (1 + erf64(v / Math.SQRT2)),
    gelu_tanh: (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
    silu: (v) => v / (1 + Math.exp(-v)),
  };
  for (const n of [1, 3, 5, 8, 67, 1001]) {
    const x = randArray(r, n, -6, 6);
    if (n > 44) [x[41], x[42], x[43], x[44]] = [NaN, Infinity, -Infinity, -0];
    for (const be of BACKENDS) {
      withBackend(be, () => {
        for (const kind of ["erf", "gelu", "gelu_tanh", "silu"] as const) {
          const y = activeKernels().activation(kind, x);
          assert.equal(y.length, n);
          for (let i = 0; i < n; i++) {
            const v = x[i]!;
            if (Number.isNaN(v) || (kind !== "erf" && v === -Infinity)) {
              // NaN stays NaN; −∞ · 0 is NaN for GELU and SiLU, as PyTorch's formulas give.
              assert.ok(Number.isNaN(y[i]!), `${be} ${kind}(${v}) = ${y[i]}, not NaN`);
              continue;
            }
            if (!Number.isFinite(v)) {
              const inf = kind === "erf" ? Math.sign(v) : Infinity;
              assert.equal(y[i], inf, `${be} ${kind}(${v})`);
              continue;
            }
            const w = want[kind](v);
            assert.ok(
              Math.abs(y[i]! - w) <= 5e-7 * Math.max(1, Math.abs(v)),
              `${be} ${kind}(${v}) = ${y[i]}, not ${w}`,
            );
          }
        }
      });
    }
  }
});

Deno.test("exp, log, softplus and mish kernels match float64 formulas on every backend (1–11 ulps), over float32's range, NaN, ±Infinity, zeros, subnormals and negatives included", () => {
  const xs: number[] = [];
  for (let i = -2000; i <= 2000; i++) xs.push(i * 0.01);
  for (let v = -120; v <= 120; v += 0.37) xs.push(v);
  // The ends of exp's range, subnormals, tiny and huge values, and the special ones.
  xs.push(88.7, 88.72, 88.73, 89, -87, -88.5, -103, -104, 1e-7, -1e-7, 1e-30, 1e-38, 1e-40, 1e-45);
  xs.push(3e38, -3e38, 0, -0, NaN, Infinity, -Infinity);
  const x = Float32Array.from(xs);
  const sp = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
  const kinds = {
    exp: { f: Math.exp, tol: 2e-7 },
    log: { f: Math.log, tol: 2e-7 },
    softplus: { f: sp, tol: 3e-7 },
    // tanh's 1 − 2/(e²ˣ + 1) loses a few bits where softplus(x) is about 0.1–1 (mish near −2).
    mish: { f: (v: number) => v * Math.tanh(sp(v)), tol: 1e-6 },
  } as const;
  for (const be of BACKENDS) {
    withBackend(be, () => {
      for (const [kind, { f, tol }] of Object.entries(kinds)) {
        const y = activeKernels().activation(kind as keyof typeof kinds, x);
        assert.equal(y.length, x.length);
        for (let i = 0; i < x.length; i++) {
          const v = x[i]!, w = Math.fround(f(v)), got = y[i]!;
          if (Number.isNaN(w) || !Number.isFinite(w)) {
            // NaN, ±∞ and what overflows float32 come out exactly (log 0 = −∞, log −1 = NaN, …).
            assert.ok(Object.is(got, w), `${be} ${kind}(${v}) = ${got}, not ${w}`);
            continue;
          }
          assert.ok(
            Math.abs(got - w) <= tol * Math.abs(w) + 1e-37,
            `${be} ${kind}(${v}) = ${got}, not ${w}`,
          );
        }
      }
    });
  }
});

Deno.test("sigmoid and tanh kernels match Math.exp / Math.tanh on every backend (1e-6 relative), NaN and ±Infinity included", () => {
  const r = rng(31);
  for (const n of [1, 3, 7, 8, 65, 1001]) {
    const x = randArray(r, n, -30, 30);
    for (let i = 0; i < Math.min(n, 40); i++) x[i] = (i - 20) * 1e-3; // near 0, where tanh cancels
    if (n > 44) [x[41], x[42], x[43], x[44]] = [NaN, Infinity, -Infinity, -0];
    for (const be of BACKENDS) {
      withBackend(be, () => {
        const k = activeKernels();
        const sig = k.activation("sigmoid", x), th = k.activation("tanh", x);
        assert.equal(sig.length, n);
        for (let i = 0; i < n; i++) {
          const s = 1 / (1 + Math.exp(-x[i]!)), t = Math.tanh(x[i]!);
          if (Number.isNaN(x[i]!)) {
            assert.ok(Number.isNaN(sig[i]!) && Number.isNaN(th[i]!), `${be}: NaN in, NaN out`);
            continue;
          }
          assert.ok(
            Math.abs(sig[i]! - s) <= 1e-6 * Math.abs(s) + 1e-30,
            `${be} sigmoid(${x[i]}) = ${sig[i]}, not ${s}`,
          );
          assert.ok(
            Math.abs(th[i]! - t) <= 1e-6 * Math.abs(t),
            `${be} tanh(${x[i]}) = ${th[i]}, not ${t}`,
          );
        }
      });
    }
  }
});

Deno.test("BatchNorm's channel affine map is the float64 formula's bits on every backend, odd channel counts, ReLU/ReLU6, NaN and ±Infinity included", () => {
  const r = rng(41);
  for (const c of [1, 3, 16, 33]) {
    const n = 1 + Math.floor(r() * 300);
    const x = randArray(r, n * c, -9, 9);
    x[0] = NaN;
    x[Math.min(1, x.length - 1)] = Infinity;
    x[Math.min(2, x.length - 1)] = -Infinity;
    x[Math.min(3, x.length - 1)] = 3e38;
    const mean = Float64Array.from({ length: c }, () => r() * 2 - 1);
    const scale = Float64Array.from({ length: c }, () => (r() - 0.5) * 40);
    const shift = Float64Array.from(randArray(r, c));
    for (const act of [0, 1, 2] as const) {
      const hi = act === 2 ? 6 : Infinity;
      const want = new Float32Array(n * c);
      for (let i = 0; i < n * c; i++) {
        const k = i % c, v = Math.fround((x[i]! - mean[k]!) * scale[k]! + shift[k]!);
        want[i] = act === 0 ? v : v < 0 ? 0 : v > hi ? hi : v;
      }
      for (const b of BACKENDS) {
        const got = withBackend(
          b,
          () => activeKernels().channelAffine(x, c, mean, scale, shift, act),
        );
        const gw = new Uint32Array(got.buffer, got.byteOffset, got.length);
        const ww = new Uint32Array(want.buffer);
        for (let i = 0; i < want.length; i++) {
          if (Number.isNaN(want[i])) {
            assert.ok(Number.isNaN(got[i]), `${b} c=${c} act=${act} @${i}`);
          } else {assert.equal(
              gw[i],
              ww[i],
              `${b} c=${c} act=${act} @${i}: ${got[i]} vs ${want[i]}`,
            );}
        }
      }
    }
  }
});

Deno.test("channel concatenation and slicing copy every value exactly on every backend (odd widths, many inputs)", () => {
  const r = rng(43);
  for (
    const widths of [
      [1],
      [3, 5],
      [16, 1, 17, 4],
      Array.from({ length: 70 }, (_, i) => 1 + (i % 5)),
    ]
  ) {
    const rows = 1 + Math.floor(r() * 900);
    const xs = widths.map((w) => randArray(r, rows * w));
    const c = widths.reduce((a, b) => a + b, 0);
    const want = new Float32Array(rows * c);
    let at = 0;
    widths.forEach((w, k) => {
      for (let q = 0; q < rows; q++) want.set(xs[k]!.subarray(q * w, (q + 1) * w), q * c + at);
      at += w;
    });
    const begin = Math.floor(c / 3), width = Math.max(1, Math.floor(c / 2));
    const slice = new Float32Array(rows * width);
    for (let q = 0; q < rows; q++) {
      slice.set(want.subarray(q * c + begin, q * c + begin + width), q * width);
    }
    for (const b of BACKENDS) {
      withBackend(b, () => {
        const k = activeKernels();
        assert.deepEqual(k.concatLast(xs, widths, rows), want, `${b} concat ${widths.length}`);
        assert.deepEqual(k.sliceLast(want, c, begin, width), slice, `${b} slice`);
      });
    }
  }
});

Deno.test("a permutation of each row (the channel shuffle) moves every value exactly on every backend", () => {
  const r = rng(47);
  for (const c of [1, 2, 7, 24, 116]) {
    const rows = 1 + Math.floor(r() * 700);
    const x = randArray(r, rows * c);
    const perm = Int32Array.from({ length: c }, (_, k) => k);
    for (let k = c - 1; k > 0; k--) {
      const j = Math.floor(r() * (k + 1));
      [perm[k], perm[j]] = [perm[j]!, perm[k]!];
    }
    const want = new Float32Array(rows * c);
    for (let q = 0; q < rows; q++) {
      for (let k = 0; k < c; k++) want[q * c + k] = x[q * c + perm[k]!]!;
    }
    for (const b of BACKENDS) {
      assert.deepEqual(
        withBackend(b, () => activeKernels().permuteLast(x, perm)),
        want,
        `${b} c=${c}`,
      );
    }
  }
});

Deno.test("the residual sum is float32 addition left to right on every backend (2 and 3 inputs, fused ReLU, NaN and ±Infinity, odd lengths)", () => {
  const r = rng(53);
  for (const n of [1, 3, 4, 17, 1001]) {
    for (const k of [2, 3]) {
      const xs = Array.from({ length: k }, () => randArray(r, n, -4, 4));
      xs[0]![0] = NaN;
      if (n > 2) [xs[1]![1], xs[1]![2]] = [Infinity, -Infinity];
      for (const relu of [false, true]) {
        const want = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          let v = xs[0]![i]!;
          for (let j = 1; j < k; j++) v = Math.fround(v + xs[j]![i]!);
          want[i] = relu ? (v < 0 ? 0 : v) : v;
        }
        for (const b of BACKENDS) {
          const got = withBackend(b, () => activeKernels().addSame(xs, relu));
          for (let i = 0; i < n; i++) {
            if (Number.isNaN(want[i])) assert.ok(Number.isNaN(got[i]), `${b} n=${n} k=${k} @${i}`);
            else assert.equal(got[i], want[i], `${b} n=${n} k=${k} relu=${relu} @${i}`);
          }
        }
      }
    }
  }
});

Deno.test("a geometry block is kept only for a frozen geometry: an object changed between calls is read afresh", () => {
  const r = rng(5);
  const x = randArray(r, 2 * 6 * 6 * 3), w = randArray(r, 3 * 3 * 3 * 4), b = randArray(r, 4);
  for (const be of BACKENDS.filter((be) => be !== "js")) {
    withBackend(be, () => {
      const k = activeKernels();
      const g: { -readonly [K in keyof ConvGeometry]: ConvGeometry[K] } = {
        ...squareConv(1, 6, 6, 3, 3, 4, 1, 1),
      };
      const one = k.convForward(g, x, w, b);
      g.m = 2; // the same object, now a batch of two
      const two = k.convForward(g, x, w, b);
      assert.deepEqual(two, k.convForward(squareConv(2, 6, 6, 3, 3, 4, 1, 1), x, w, b), be);
      assert.deepEqual(two.subarray(0, one.length), one, be);
      const frozen = Object.freeze(squareConv(2, 6, 6, 3, 3, 4, 2, 1));
      const a = k.convForward(frozen, x, w, b), again = k.convForward(frozen, x, w, b);
      assert.deepEqual(again, a, be);
      assert.deepEqual(a, k.convForward(squareConv(2, 6, 6, 3, 3, 4, 2, 1), x, w, b), be);
    });
  }
});

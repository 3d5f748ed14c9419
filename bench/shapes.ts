/**
 * Convolutions on shapes no kernel was tuned on, against TensorFlow.js's
 * wasm backend (XNNPACK) through its fused op: odd sizes that are no
 * multiple of any tile, strided 5×5, 1×1 with many channels, an odd stem.
 *
 * Ours is a one-layer `Model`'s `predict` (what a user runs: the weights
 * stay packed in kernel memory, the input is copied in and the output out);
 * TensorFlow.js's is `tf.fused.conv2d` with its bias on tensors already in
 * its heap, plus `dataSync()`. One thread each, alternating rounds in one
 * process; the outputs are compared before timing.
 *
 * @module
 */

import { Conv2D, Input, Model, tensor } from "../mod.ts";
import { mulberry32 } from "../src/core/random.ts";
import { fmt, medianMs } from "./_timing.ts";
import { tf } from "./_tfjs.ts";

/** One convolution: a batch `[m, h, w, cIn]`, `f×f` filters, `cOut` of them, stride and padding. */
interface Shape {
  name: string;
  m: number;
  h: number;
  w: number;
  cIn: number;
  f: number;
  cOut: number;
  stride: number;
  pad: number;
}

/** Chosen after the kernels were written; none is a multiple of a tile on every axis. */
export const SHAPES: readonly Shape[] = [
  { name: "3×3, odd sizes", m: 1, h: 37, w: 53, cIn: 13, f: 3, cOut: 29, stride: 1, pad: 1 },
  {
    name: "3×3, odd sizes, batch 4",
    m: 4,
    h: 23,
    w: 19,
    cIn: 19,
    f: 3,
    cOut: 37,
    stride: 1,
    pad: 1,
  },
  { name: "3×3 stride 2", m: 1, h: 33, w: 33, cIn: 48, f: 3, cOut: 96, stride: 2, pad: 1 },
  { name: "5×5 stride 2", m: 1, h: 61, w: 61, cIn: 24, f: 5, cOut: 40, stride: 2, pad: 2 },
  {
    name: "5×5 stride 2, odd, batch 3",
    m: 3,
    h: 45,
    w: 39,
    cIn: 17,
    f: 5,
    cOut: 33,
    stride: 2,
    pad: 2,
  },
  { name: "1×1, 576 → 160", m: 1, h: 14, w: 14, cIn: 576, f: 1, cOut: 160, stride: 1, pad: 0 },
  { name: "1×1, 960 → 320", m: 1, h: 7, w: 7, cIn: 960, f: 1, cOut: 320, stride: 1, pad: 0 },
  { name: "1×1, 259 → 771", m: 1, h: 13, w: 11, cIn: 259, f: 1, cOut: 771, stride: 1, pad: 0 },
  {
    name: "7×7 stride 2 stem, odd",
    m: 1,
    h: 101,
    w: 75,
    cIn: 3,
    f: 7,
    cOut: 24,
    stride: 2,
    pad: 3,
  },
];

/** Measures every shape (ours and TensorFlow.js's wasm backend, which must be active) and returns the section. */
export function benchShapes(log: (s: string) => void): string {
  const rand = mulberry32(7);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rand() * 2 - 1);
  const rows: string[] = [];
  const ratios: number[] = [];
  for (const s of SHAPES) {
    const xi = Input([s.h, s.w, s.cIn]);
    const conv = new Conv2D({ filters: s.cOut, kernelSize: s.f, stride: s.stride, padding: s.pad });
    const model = new Model({ inputs: xi, outputs: conv.apply(xi) });
    const [kernel, bias] = conv.params();
    bias!.value.set(fill(s.cOut));
    const x = fill(s.m * s.h * s.w * s.cIn);
    const X = tensor(x, [s.m, s.h, s.w, s.cIn]);
    const tx = tf.tensor4d(x, [s.m, s.h, s.w, s.cIn]);
    const tw = tf.tensor4d(kernel!.value, [s.f, s.f, s.cIn, s.cOut]);
    const tb = tf.tensor1d(bias!.value);
    const theirs = () =>
      tf.fused.conv2d({ x: tx, filter: tw, strides: s.stride, pad: s.pad, bias: tb });
    const a = model.predict(X).data, t = theirs(), b = t.dataSync();
    t.dispose();
    if (a.length !== b.length) {
      throw new Error(`${s.name}: ${a.length} outputs against ${b.length}`);
    }
    let diff = 0, top = 0;
    for (let i = 0; i < a.length; i++) {
      diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
      top = Math.max(top, Math.abs(b[i]!));
    }
    // A NaN fails this comparison too.
    if (!(diff <= 1e-4 * top)) throw new Error(`${s.name}: outputs differ by ${diff} of ${top}`);
    let ours = Infinity, tfjs = Infinity;
    for (let r = 0; r < 3; r++) {
      ours = Math.min(ours, medianMs(() => model.predict(X), 250, 5));
      tfjs = Math.min(
        tfjs,
        medianMs(
          () => {
            const y = theirs();
            y.dataSync();
            y.dispose();
          },
          250,
          5,
        ),
      );
    }
    tf.dispose([tx, tw, tb]);
    const outH = Math.floor((s.h + 2 * s.pad - s.f) / s.stride) + 1;
    const outW = Math.floor((s.w + 2 * s.pad - s.f) / s.stride) + 1;
    const flops = 2 * s.m * outH * outW * s.cOut * s.f * s.f * s.cIn;
    ratios.push(tfjs / ours);
    rows.push(
      `| ${s.name} | ${s.m}×${s.h}×${s.w}×${s.cIn} → ${s.cOut} | ${fmt(ours, 3)} | ${
        fmt(flops / ours / 1e6, 1)
      } | ${fmt(tfjs, 3)} | ${fmt(tfjs / ours)}× | ${(diff / top).toExponential(1)} |`,
    );
    log(rows.at(-1)!);
  }
  const geo = Math.exp(ratios.reduce((p, r) => p + Math.log(r), 0) / ratios.length);
  return [
    "Ours `wasm-relaxed-simd`, one thread, a one-layer model's `predict`; TensorFlow.js 4.22.0",
    "`wasm` (XNNPACK, SIMD, one thread) `tf.fused.conv2d` with bias, plus `dataSync()`. The best",
    "of three alternating rounds' medians (ms). GFLOP/s counts the direct convolution's multiply-adds.",
    "",
    "| shape | batch × input → filters | ours, ms | GFLOP/s | TF.js wasm, ms | speed-up | outputs differ by (of the largest) |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    `Geometric mean **${geo.toFixed(2)}×**; range ${Math.min(...ratios).toFixed(2)}–${
      Math.max(...ratios).toFixed(2)
    }×.`,
  ].join("\n");
}

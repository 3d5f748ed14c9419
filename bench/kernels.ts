/**
 * Kernel benchmarks: every public conv/pool operation on our three backends
 * against TensorFlow.js 4.22 (wasm and cpu backends), in one process, one
 * thread, plus this core's measured FMA peak.
 *
 * Each timing is the median of repeated calls and includes what a user of
 * each API pays to get a Float32Array out: for us, the copies in and out of
 * WebAssembly memory; for TensorFlow.js, the op and `dataSync()` (inputs are
 * already tensors).
 *
 * @module
 */

import {
  convForward,
  convTransposeForward,
  getBackend,
  getThreads,
  initKernels,
  setBackend,
  setThreads,
  tensor,
} from "../mod.ts";
import { activeKernels } from "../src/backend/select.ts";
import { squareConv, squarePool } from "../src/core/_geometry.ts";
import type { Backend, ConvGeometry, PoolGeometry } from "../src/backend/types.ts";
import { measurePeak } from "./_peak.ts";
import { fmt, medianMs } from "./_timing.ts";
import { initTfjs, tf } from "./_tfjs.ts";

interface ConvCase {
  name: string;
  m: number;
  h: number;
  cIn: number;
  f: number;
  cOut: number;
  stride: number;
  pad: number;
}

const CONV: ConvCase[] = [
  { name: "A", m: 1, h: 28, cIn: 1, f: 5, cOut: 32, stride: 1, pad: 2 },
  { name: "B", m: 64, h: 28, cIn: 1, f: 5, cOut: 32, stride: 1, pad: 2 },
  { name: "C", m: 1, h: 14, cIn: 32, f: 5, cOut: 64, stride: 1, pad: 2 },
  { name: "D", m: 1, h: 56, cIn: 64, f: 3, cOut: 64, stride: 1, pad: 1 },
  { name: "E", m: 8, h: 32, cIn: 3, f: 3, cOut: 16, stride: 2, pad: 1 },
];

const OURS: Backend[] = ["wasm-relaxed-simd", "wasm-simd", "js"];

function geometry(c: ConvCase): ConvGeometry {
  return squareConv(c.m, c.h, c.h, c.cIn, c.f, c.cOut, c.stride, c.pad);
}

function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/** One row of the results table. */
export interface Row {
  case: string;
  op: string;
  flops: number;
  ms: Partial<Record<Impl, number>>;
}

/** Ours on relaxed SIMD with every core (`setThreads(CORES)`). */
const THREADED = "wasm-relaxed-simd+threads";
type Impl = Backend | typeof THREADED | "tfjs-wasm" | "tfjs-cpu";
/** The cores the threaded column uses. */
export const CORES: number = Math.min(16, navigator.hardwareConcurrency);

/** Selects one of our implementations: backend and thread count (waiting for the workers). */
async function useOurs(impl: Backend | typeof THREADED): Promise<void> {
  const threaded = impl === THREADED;
  setBackend(threaded ? "wasm-relaxed-simd" : impl);
  setThreads(threaded ? CORES : 1);
  if (threaded) await initKernels();
}

/** Something to time: which implementation, and one call of it. */
interface Candidate {
  impl: Impl;
  run: () => unknown;
}

const ROUNDS = 3;

/**
 * Times every candidate in `ROUNDS` rounds, rotating the order each round,
 * and keeps each one's best median. Slow peers (our js, tfjs-cpu) get one
 * short round. A candidate that throws (no such kernel) is left out.
 */
async function measure(row: Row, candidates: Candidate[]): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < candidates.length; i++) {
      const { impl, run } = candidates[(i + round) % candidates.length]!;
      const slow = impl === "js" || impl === "tfjs-cpu";
      if (slow && round > 0) continue;
      if (impl.startsWith("tfjs-")) await tf.setBackend(impl.slice(5));
      else await useOurs(impl as Backend | typeof THREADED);
      try {
        const ms = medianMs(run, slow ? 150 : 250, slow ? 1 : 5);
        row.ms[impl] = Math.min(row.ms[impl] ?? Infinity, ms);
      } catch (_e) {
        // No kernel on this backend (tfjs-wasm has no Conv2DBackpropFilter): leave the cell empty.
      }
    }
  }
}

const ours = (run: () => unknown): Candidate[] =>
  [...OURS, ...(CORES > 1 ? [THREADED] as const : [])].map((impl) => ({ impl, run }));

function tfjs(make: () => tf.Tensor, cpu = true): Candidate[] {
  const run = () => {
    const y = make();
    y.dataSync();
    y.dispose();
  };
  return cpu
    ? [{ impl: "tfjs-wasm", run }, { impl: "tfjs-cpu", run }]
    : [{ impl: "tfjs-wasm", run }];
}

/** Runs every case and returns the rows. */
export async function benchKernels(log: (s: string) => void): Promise<Row[]> {
  const before = getBackend(), threads = getThreads();
  try {
    return await benchKernelsOn(log);
  } finally {
    // The sections after this one measure the default backend, not the last one tried here.
    setBackend(before);
    setThreads(threads);
  }
}

async function benchKernelsOn(log: (s: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  for (const c of CONV) {
    const g = geometry(c);
    const x = random(c.m * c.h * c.h * c.cIn), w = random(c.f * c.f * c.cIn * c.cOut);
    const b = random(c.cOut), dz = random(c.m * g.outH * g.outW * c.cOut);
    const flops = 2 * c.m * g.outH * g.outW * c.cOut * c.f * c.f * c.cIn;
    const tx = tf.tensor4d(x, [c.m, c.h, c.h, c.cIn]);
    const tw = tf.tensor4d(w, [c.f, c.f, c.cIn, c.cOut]);
    const tb = tf.tensor1d(b);
    const tdz = tf.tensor4d(dz, [c.m, g.outH, g.outW, c.cOut]);
    const fwd: Row = { case: c.name, op: "conv forward (+bias)", flops, ms: {} };
    await measure(fwd, [
      ...ours(() => activeKernels().convForward(g, x, w, b)),
      ...tfjs(() => tf.add(tf.conv2d(tx, tw, c.stride, c.pad), tb)),
    ]);
    rows.push(fwd);
    log(`${c.name} forward done`);
    if (c.name === "C" || c.name === "D") {
      const withCpu = c.name === "C";
      const dx: Row = { case: c.name, op: "conv backward dAPrev", flops, ms: {} };
      await measure(dx, [
        ...ours(() => activeKernels().convBackwardData(g, dz, w)),
        ...tfjs(
          () => tf.conv2dTranspose(tdz, tw, [c.m, c.h, c.h, c.cIn], c.stride, c.pad),
          withCpu,
        ),
      ]);
      rows.push(dx);
      const dw: Row = { case: c.name, op: "conv backward dW (+db)", flops, ms: {} };
      await measure(dw, [
        ...ours(() => activeKernels().convBackwardFilter(g, x, dz)),
        ...tfjs(() =>
          tf.engine().runKernel("Conv2DBackpropFilter", { x: tx, dy: tdz }, {
            strides: c.stride,
            pad: c.pad,
            dataFormat: "NHWC",
            filterShape: [c.f, c.f, c.cIn, c.cOut],
          }) as tf.Tensor, withCpu),
      ]);
      rows.push(dw);
      log(`${c.name} backward done`);
    }
    tf.dispose([tx, tw, tb, tdz]);
  }
  rows.push(...await benchGeometries(log));
  // Pooling P: 64×28×28×32, 2×2 stride 2.
  const pg: PoolGeometry = squarePool(64, 28, 28, 32, 2, 2);
  const px = random(64 * 28 * 28 * 32), pdy = random(64 * 14 * 14 * 32);
  const tpx = tf.tensor4d(px, [64, 28, 28, 32]), tpdy = tf.tensor4d(pdy, [64, 14, 14, 32]);
  await tf.setBackend("wasm");
  const wasmOut = tf.maxPool(tpx, 2, 2, "valid");
  await tf.setBackend("cpu");
  const cpuOut = tf.maxPool(tpx, 2, 2, "valid");
  for (const mode of ["max", "average"] as const) {
    const fwd: Row = { case: "P", op: `${mode} pool forward`, flops: 0, ms: {} };
    await measure(fwd, [
      ...ours(() => activeKernels().poolForward(pg, px, mode)),
      ...tfjs(() =>
        mode === "max" ? tf.maxPool(tpx, 2, 2, "valid") : tf.avgPool(tpx, 2, 2, "valid")
      ),
    ]);
    rows.push(fwd);
    const bwd: Row = { case: "P", op: `${mode} pool backward`, flops: 0, ms: {} };
    const attrs = { filterSize: 2, strides: 2, pad: "valid" };
    await measure(bwd, [
      ...ours(() => activeKernels().poolBackward(pg, px, pdy, mode)),
      ...tfjs(() =>
        (mode === "max"
          ? tf.engine().runKernel("MaxPoolGrad", {
            dy: tpdy,
            input: tpx,
            output: tf.getBackend() === "wasm" ? wasmOut : cpuOut,
          }, attrs)
          : tf.engine().runKernel("AvgPoolGrad", { dy: tpdy, input: tpx }, attrs)) as tf.Tensor
      ),
    ]);
    rows.push(bwd);
    log(`P ${mode} done`);
  }
  return rows;
}

/**
 * The geometries beyond square, one-stride, symmetric convolutions, through
 * the public functions (validation and copies included):
 * - DW1, DW2: depthwise 3×3 on 1×56×56×64, stride 1 and 2 ("same"), against
 *   TF.js `depthwiseConv2d` (+ bias);
 * - DIL: case D's shape with a dilated 3×3 (dilation 2, pad 2), against
 *   TF.js `conv2d` with dilation (+ bias), to compare with undilated D;
 * - T: transposed 2×2 stride 2, 1×28×28×32 → 1×56×56×64, against TF.js
 *   `conv2dTranspose` (+ bias).
 */
async function benchGeometries(log: (s: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  const x56 = random(56 * 56 * 64), b64 = random(64);
  const tx56 = tf.tensor4d(x56, [1, 56, 56, 64]), tb64 = tf.tensor1d(b64);
  const wdw = random(3 * 3 * 64);
  const x = tensor(x56, [1, 56, 56, 64]);
  const w = tensor(wdw, [3, 3, 1, 64]);
  const tw = tf.tensor4d(wdw, [3, 3, 64, 1]);
  for (const stride of [1, 2]) {
    const out = Math.ceil(56 / stride);
    const row: Row = {
      case: `DW${stride}`,
      op: `depthwise 3×3 stride ${stride} forward (+bias)`,
      flops: 2 * out * out * 64 * 9,
      ms: {},
    };
    await measure(row, [
      ...ours(() => convForward(x, w, b64, { stride, pad: "same", groups: 64 })),
      ...tfjs(() => tf.add(tf.depthwiseConv2d(tx56, tw, stride, "same"), tb64)),
    ]);
    rows.push(row);
    log(`DW${stride} done`);
  }
  const wd = random(3 * 3 * 64 * 64);
  const twd = tf.tensor4d(wd, [3, 3, 64, 64]);
  const dil: Row = {
    case: "DIL",
    op: "dilated 3×3 (dilation 2) forward (+bias)",
    flops: 2 * 56 * 56 * 64 * 9 * 64,
    ms: {},
  };
  await measure(dil, [
    ...ours(() => convForward(x, tensor(wd, [3, 3, 64, 64]), b64, { pad: 2, dilation: 2 })),
    ...tfjs(() => tf.add(tf.conv2d(tx56, twd, 1, 2, "NHWC", 2), tb64)),
  ]);
  rows.push(dil);
  log("DIL done");
  const xt = random(28 * 28 * 32), wt = random(2 * 2 * 64 * 32);
  const txt = tf.tensor4d(xt, [1, 28, 28, 32]), twt = tf.tensor4d(wt, [2, 2, 64, 32]);
  const t: Row = {
    case: "T",
    op: "transposed 2×2 stride 2, 32 → 64 (+bias)",
    flops: 2 * 28 * 28 * 32 * 64 * 4,
    ms: {},
  };
  const xT = tensor(xt, [1, 28, 28, 32]), wT = tensor(wt, [2, 2, 64, 32]);
  await measure(t, [
    ...ours(() => convTransposeForward(xT, wT, b64, { stride: 2 })),
    ...tfjs(() => tf.add(tf.conv2dTranspose(txt, twt, [1, 56, 56, 64], 2, "valid"), tb64)),
  ]);
  rows.push(t);
  log("T done");
  tf.dispose([tx56, tb64, tw, twd, txt, twt]);
  return rows;
}

/** Renders the rows as a Markdown table. */
export function kernelTable(rows: Row[], peak: number): string {
  const head =
    `| case | operation | ours relaxed ms | GFLOP/s | % peak | ours simd ms | ours js ms | tfjs-wasm ms | tfjs-cpu ms | relaxed vs tfjs-wasm | ours relaxed, ${CORES} threads ms | ${CORES} threads vs 1 |\n` +
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |";
  const lines = rows.map((r) => {
    const ours = r.ms["wasm-relaxed-simd"]!;
    const gf = r.flops ? r.flops / (ours * 1e6) : undefined;
    const tw = r.ms["tfjs-wasm"], tt = r.ms[THREADED];
    return `| ${r.case} | ${r.op} | ${fmt(ours, 3)} | ${fmt(gf, 1)} | ${
      gf ? fmt((100 * gf) / peak, 0) : "–"
    } | ${fmt(r.ms["wasm-simd"], 3)} | ${fmt(r.ms.js, 2)} | ${
      tw === undefined ? "no kernel" : fmt(tw, 3)
    } | ${fmt(r.ms["tfjs-cpu"], 1)} | ${tw === undefined ? "–" : fmt(tw / ours, 2) + "×"} | ${
      fmt(tt, 3)
    } | ${tt === undefined ? "–" : fmt(ours / tt, 2) + "×"} |`;
  });
  return [head, ...lines].join("\n");
}

if (import.meta.main) {
  const ok = await initTfjs();
  if (!ok) throw new Error("tfjs wasm backend failed to initialise");
  const peak = await measurePeak();
  console.log(`measured 128-bit FMA peak: ${peak.toFixed(1)} GFLOP/s`);
  const rows = await benchKernels((s) => console.error(s));
  console.log(kernelTable(rows, peak));
}

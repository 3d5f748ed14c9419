/**
 * Real models: torchvision 0.14's architectures (scripts/zoo_fixtures.py;
 * seeded random weights, 224×224 unless noted), one image, ours on one thread
 * against onnxruntime-web (WebAssembly, SIMD, one thread), on the same
 * `.onnx` bytes, in one Deno process; also `loadOnnx` against
 * `InferenceSession.create`. Needs Debian's PyTorch for the exports (cached
 * in `.cache/zoo`, as the zoo tests do).
 *
 * @module
 */

import * as ort from "onnxruntime-web";
import { getBackend, loadOnnx, nchwToNhwc, setThreads, tensor } from "../mod.ts";
import { fmt, medianMs } from "./_timing.ts";
import { exportZoo, ZOO_ARCHITECTURES, ZOO_CACHE } from "../scripts/_zoo.ts";

async function medianAsync(fn: () => Promise<unknown>, budgetMs: number): Promise<number> {
  for (let i = 0; i < 2; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start < budgetMs && times.length < 200)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

const geomean = (v: number[]) => Math.exp(v.reduce((a, b) => a + Math.log(b), 0) / v.length);

/** Runs the benchmark; returns the BENCHMARKS.md section. */
export async function benchZoo(log: (s: string) => void = console.error): Promise<string> {
  log("exporting any missing architecture with PyTorch…");
  await exportZoo(ZOO_ARCHITECTURES);
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  const rows: string[] = [];
  const ratios: number[] = [], loadRatios: number[] = [];
  for (const name of ZOO_ARCHITECTURES) {
    const bytes = await Deno.readFile(`${ZOO_CACHE}/${name}.onnx`);
    const fx = JSON.parse(await Deno.readTextFile(`${ZOO_CACHE}/${name}.json`)) as {
      input: number[];
      shape: number[];
    };
    const [, c, h, w] = fx.shape as [number, number, number, number];
    const nchw = Float32Array.from(fx.input.slice(0, c * h * w));
    const x = nchwToNhwc(tensor(nchw, [1, c, h, w]));
    let t0 = performance.now();
    const model = loadOnnx(bytes);
    const oursLoad = performance.now() - t0;
    t0 = performance.now();
    model.predict(x);
    const firstPredict = performance.now() - t0;
    t0 = performance.now();
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
    const ortLoad = performance.now() - t0;
    const feeds = { [session.inputNames[0]!]: new ort.Tensor("float32", nchw, [1, c, h, w]) };
    const budget = 1500;
    let ours = Infinity, theirs = Infinity;
    for (let round = 0; round < 2; round++) {
      ours = Math.min(ours, medianMs(() => model.predict(x), budget));
      theirs = Math.min(theirs, await medianAsync(() => session.run(feeds), budget));
    }
    await session.release();
    const ratio = theirs / ours;
    ratios.push(ratio);
    loadRatios.push(ortLoad / oursLoad);
    const row = `| ${name}${h !== 224 ? ` (${h}×${w})` : ""} | loads | ${fmt(ours)} | ${
      fmt(theirs)
    } | ${ratio.toFixed(2)}× | ${fmt(firstPredict)} | ${fmt(oursLoad)} | ${fmt(ortLoad)} |`;
    log(row);
    rows.push(row);
  }
  const below = ratios.filter((r) => r < 1).length;
  return [
    `Backend: ours \`${getBackend()}\`, one thread; onnxruntime-web ${ort.env.versions.web} (\`wasm\`, SIMD, \`numThreads = 1\`). One image, the same \`.onnx\` bytes (seeded random weights, exported by \`scripts/zoo_fixtures.py\`); each time is the better of two rounds' medians (ms).`,
    "",
    "| model | ours | ours, ms | onnxruntime-web, ms | speed-up | ours, first predict, ms | loadOnnx, ms | InferenceSession.create, ms |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    `**Geometric mean ${
      geomean(ratios).toFixed(2)
    }×** onnxruntime-web over ${ratios.length} architectures; range ${
      Math.min(...ratios).toFixed(2)
    }× to ${Math.max(...ratios).toFixed(2)}×; ${below} below 1.0×. \`loadOnnx\` takes ${
      (1 / geomean(loadRatios)).toFixed(1)
    }× as long as \`InferenceSession.create\` by geometric mean.`,
  ].join("\n");
}

if (import.meta.main) {
  // One thread, as onnxruntime-web is given (bench/run.ts does the same before this section).
  setThreads(1);
  console.log(await benchZoo());
  console.log(await benchTfjsZoo());
}

/**
 * MobileNetV2 and ResNet-18 (torchvision's, 224×224, one image) against
 * TensorFlow.js's wasm backend (XNNPACK) running the same architecture with
 * the same weights through its fused ops (bench/_tfjs_graph.ts), one thread
 * each. The outputs are compared first (within 1e-4 of the largest).
 */
export async function benchTfjsZoo(log: (s: string) => void = console.error): Promise<string> {
  const { initTfjs, tf } = await import("./_tfjs.ts");
  const { tfjsGraph } = await import("./_tfjs_graph.ts");
  if (!(await initTfjs())) throw new Error("tfjs wasm backend failed to initialise");
  const names = ["mobilenet_v2", "resnet18"] as const;
  await exportZoo(names);
  const rows: string[] = [];
  for (const name of names) {
    const bytes = await Deno.readFile(`${ZOO_CACHE}/${name}.onnx`);
    const fx = JSON.parse(await Deno.readTextFile(`${ZOO_CACHE}/${name}.json`)) as {
      input: number[];
      shape: number[];
    };
    const [, c, h, w] = fx.shape as [number, number, number, number];
    const x = nchwToNhwc(tensor(Float32Array.from(fx.input.slice(0, c * h * w)), [1, c, h, w]));
    const model = loadOnnx(bytes);
    const run = tfjsGraph(model);
    if (typeof run === "string") throw new Error(`${name}: TF.js cannot run ${run}`);
    const tx = tf.tensor4d(x.data, [1, h, w, c]);
    const theirs = run(tx);
    const a = await theirs.data(), b = model.predict(x).data;
    theirs.dispose();
    let err = 0, top = 0;
    for (let i = 0; i < b.length; i++) {
      err = Math.max(err, Math.abs(a[i]! - b[i]!));
      top = Math.max(top, Math.abs(b[i]!));
    }
    if (!(err <= 1e-4 * top)) {
      throw new Error(`${name}: TF.js and ours differ by ${err} (max ${top})`);
    }
    let ours = Infinity, tfjs = Infinity;
    for (let round = 0; round < 2; round++) {
      ours = Math.min(ours, medianMs(() => model.predict(x), 1500));
      tfjs = Math.min(
        tfjs,
        await medianAsync(async () => {
          const y = run(tx);
          await y.data();
          y.dispose();
        }, 1500),
      );
    }
    tx.dispose();
    const row = `| ${name} | ${fmt(ours)} | ${fmt(tfjs)} | ${(tfjs / ours).toFixed(2)}× | ${
      (err / top).toExponential(1)
    } |`;
    log(row);
    rows.push(row);
  }
  return [
    `Ours \`${getBackend()}\`, one thread; TensorFlow.js ${tf.version_core} \`wasm\` (XNNPACK, SIMD, one thread) running the same architecture and weights with \`tf.fused.conv2d\` / \`depthwiseConv2d\` / \`matMul\` (bias and ReLU or ReLU6 fused), built from our loaded model by \`bench/_tfjs_graph.ts\`. One 224×224 image; the better of two rounds' medians (ms).`,
    "",
    "| model | ours, ms | TF.js wasm, ms | speed-up | outputs differ by (of the largest) |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

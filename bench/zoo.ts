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
import { getBackend, loadOnnx, nchwToNhwc, tensor } from "../mod.ts";
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

if (import.meta.main) console.log(await benchZoo());

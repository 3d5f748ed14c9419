/**
 * The operator fixtures of tests/fixtures/onnx/ (`ops_*`: PyTorch exports
 * written to test the importer's coverage, not for speed: squeeze-excite,
 * attention, norms, reductions, resizes, shuffles, a chain of unary math)
 * against onnxruntime-web, one image each, one thread, side by side: small
 * models no kernel or fixed cost was tuned on.
 *
 * @module
 */

import * as ort from "onnxruntime-web";
import { loadOnnx, nchwToNhwc, tensor } from "../mod.ts";
import { fmt, medianMs } from "./_timing.ts";

async function medianAsync(f: () => Promise<unknown>, budgetMs = 150): Promise<number> {
  for (let i = 0; i < 5; i++) await f();
  const t: number[] = [];
  const start = performance.now();
  while (t.length < 5 || performance.now() - start < budgetMs) {
    const t0 = performance.now();
    await f();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1]!;
}

/** Runs the comparison; returns the BENCHMARKS.md section. */
export async function benchOnnxOps(log: (s: string) => void = console.error): Promise<string> {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  const dir = new URL("../tests/fixtures/onnx/", import.meta.url);
  const names = [...Deno.readDirSync(dir)].map((e) => e.name)
    .filter((n) => n.startsWith("ops_") && n.endsWith(".onnx")).map((n) => n.slice(0, -5)).sort();
  const rows: string[] = [], ratios: number[] = [];
  for (const name of names) {
    const bytes = await Deno.readFile(new URL(`${name}.onnx`, dir));
    const { input } = JSON.parse(await Deno.readTextFile(new URL(`${name}.json`, dir)));
    const shape = input.shape as number[];
    if (shape.length !== 4) continue;
    const [, c, h, w] = shape as [number, number, number, number];
    const one = Float32Array.from((input.data as number[]).slice(0, c * h * w));
    const ours = loadOnnx(bytes);
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
    const x = nchwToNhwc(tensor(one, [1, c, h, w]));
    const feeds = { [session.inputNames[0]!]: new ort.Tensor("float32", one, [1, c, h, w]) };
    let a = Infinity, b = Infinity;
    for (let round = 0; round < 4; round++) {
      a = Math.min(a, medianMs(() => ours.predict(x), 150));
      b = Math.min(b, await medianAsync(() => session.run(feeds)));
    }
    await session.release();
    ratios.push(b / a);
    rows.push(
      `| ${name} | ${c}×${h}×${w} | ${ours.layers.length} | ${fmt(a * 1000, 1)} | ${
        fmt(b * 1000, 1)
      } | ${fmt(b / a)}× |`,
    );
    log(rows.at(-1)!);
  }
  const geo = Math.exp(ratios.reduce((s, v) => s + Math.log(v), 0) / ratios.length);
  return [
    `onnxruntime-web ${ort.env.versions.web} (\`wasm\`, SIMD, one thread); ours one thread. One image; the best of four alternating rounds' medians, in µs.`,
    "",
    "| fixture | input (C×H×W) | our layers | ours, µs | ORT, µs | speed-up |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    `Geometric mean over ${ratios.length} fixtures **${geo.toFixed(2)}×**; range ${
      Math.min(...ratios).toFixed(2)
    }–${Math.max(...ratios).toFixed(2)}×.`,
  ].join("\n");
}

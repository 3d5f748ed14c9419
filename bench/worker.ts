/**
 * Worker benchmarks: bundle size, start to first answer, and predict latency
 * over 1,000 sequential requests against local workerd, plus the inference
 * time alone (the same model and kernels, timed in Deno: workerd's clock does
 * not advance during a request's computation, a Spectre mitigation).
 *
 * @module
 */

import { loadModel, tensor } from "../mod.ts";
import { loadMnist } from "../train/mnist.ts";
import { startWorkerd } from "../tests/_workerd.ts";
import { fmt, medianMs } from "./_timing.ts";
import { buildWorker, bundleSize } from "../scripts/build_worker.ts";

/** Builds the dry-run bundle into a temporary folder and sizes it. */
async function buildAndSize(): Promise<{ raw: number; gzip: number; files: string[] }> {
  const out = await Deno.makeTempDir();
  await buildWorker(out, [], true);
  const { raw, gzip, files } = await bundleSize(out);
  await Deno.remove(out, { recursive: true });
  return { raw, gzip, files: files.map((f) => f.name).sort() };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs the worker benchmarks and returns the Markdown section. */
export async function benchWorker(log: (s: string) => void): Promise<string> {
  const size = await buildAndSize();
  log(`bundle ${size.raw} bytes, ${size.gzip} gzip`);

  const t0 = performance.now();
  const worker = await startWorkerd();
  const ready = performance.now() - t0;
  const { heldOut } = await loadMnist();
  const body = (i: number) =>
    JSON.stringify({ pixels: Array.from(heldOut.x.subarray(i * 784, i * 784 + 784)) });
  const post = (i: number) =>
    fetch(new URL("/v1/predict", worker.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body(i),
    });
  let lat: number[] = [];
  let firstMs = 0;
  try {
    const t1 = performance.now();
    await (await post(0)).json();
    firstMs = performance.now() - t1;
    for (let k = 0; k < 1000; k++) {
      const s = performance.now();
      const r = await post(k % heldOut.n);
      await r.json();
      lat.push(performance.now() - s);
    }
  } finally {
    await worker.stop();
  }
  lat = lat.sort((a, b) => a - b);
  log(`latency p50 ${fmt(percentile(lat, 50), 3)} ms, p99 ${fmt(percentile(lat, 99), 3)} ms`);

  const model = loadModel(
    await Deno.readFile(new URL("../models/mnist.safetensors", import.meta.url)),
  );
  const one = tensor(heldOut.x.slice(0, 784), [1, 28, 28, 1]);
  const infer = medianMs(() => model.predict(one), 1000, 100);
  return [
    `| measure | value |`,
    `| --- | ---: |`,
    `| bundle (${size.files.join(", ")}) | ${(size.raw / 1024).toFixed(0)} KiB, **${
      (size.gzip / 1024).toFixed(0)
    } KiB gzip** |`,
    `| wrangler start (build + workerd boot) until ready | ${fmt(ready, 0)} ms |`,
    `| first predict after start (isolate loads the model and kernels) | ${fmt(firstMs, 2)} ms |`,
    `| predict latency over 1,000 sequential requests (JSON pixels), p50 / p99 | ${
      fmt(percentile(lat, 50), 3)
    } / ${fmt(percentile(lat, 99), 3)} ms |`,
    `| in-worker inference alone, one 28×28 image, median (timed in Deno: same code and kernels) | **${
      fmt(infer, 3)
    } ms** |`,
  ].join("\n");
}

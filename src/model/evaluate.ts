// This module is browser compatible.

import { checkOptions, checkPositiveInt } from "../core/_validate.ts";
import { softmaxCrossEntropy } from "../layers/softmax.ts";
import { checkData, type CheckedData, type Dataset } from "./_data.ts";
import type { Model } from "./model.ts";

/** What {@linkcode evaluate} returns. */
export interface Evaluation {
  /** The mean softmax cross-entropy over the samples. */
  readonly loss: number;
  /** The share of samples whose largest score is at their label. */
  readonly accuracy: number;
  /** How many samples were classified correctly. */
  readonly correct: number;
  /** How many samples there were. */
  readonly count: number;
  /** `confusion[truth][predicted]`: counts, `classes × classes`. */
  readonly confusion: number[][];
}

/**
 * Measures a classifier on labelled data: mean loss, accuracy and the
 * confusion matrix, running the model in batches of `batchSize`, in
 * inference mode. Ties go to the lower class index.
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
 * @param options `batchSize`: samples per forward pass (default 256).
 * @returns Loss, accuracy, counts and the confusion matrix.
 * @throws {TypeError | RangeError} On an invalid argument, naming it.
 * @throws {RangeError} If the model's output holds NaN (its weights are broken).
 */
export function evaluate(
  model: Model,
  data: Dataset,
  options: { batchSize?: number } = {},
): Evaluation {
  const o = checkOptions("evaluate", "options", options, ["batchSize"]);
  const batchSize = checkPositiveInt("evaluate", "options.batchSize", o["batchSize"] ?? 256);
  const d = checkData("evaluate", "data", data, model);
  const wasTraining = model.training;
  if (wasTraining) model.setTraining(false);
  try {
    return evaluateIn(model, d, batchSize);
  } finally {
    if (wasTraining) model.setTraining(true);
  }
}

function evaluateIn(model: Model, d: CheckedData, batchSize: number): Evaluation {
  const k = d.classes;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let lossSum = 0, correct = 0;
  for (let at = 0; at < d.m; at += batchSize) {
    const n = Math.min(batchSize, d.m - at);
    const x = {
      shape: [n, ...model.inputShape],
      data: d.x.data.subarray(at * d.sampleSize, (at + n) * d.sampleSize),
    };
    const logits = model.forward(x);
    const labels = Array.from({ length: n }, (_, i) => d.labels[at + i]!);
    const z = logits.data;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 0; j < k; j++) {
        const v = z[i * k + j]!;
        if (Number.isNaN(v)) {
          throw new RangeError(
            `evaluate: the model's output for sample ${at + i} holds NaN; its weights are broken`,
          );
        }
        if (v > z[i * k + best]!) best = j;
      }
      confusion[labels[i]!]![best]!++;
      if (best === labels[i]) correct++;
    }
    lossSum += softmaxCrossEntropy(logits, labels).loss * n;
  }
  return { loss: lossSum / d.m, accuracy: correct / d.m, correct, count: d.m, confusion };
}

// This module is browser compatible.

import { markChanged } from "../core/_versions.ts";
import { softmaxCrossEntropy } from "../layers/softmax.ts";
import { zeroGrad } from "../layers/layer.ts";
import type { Tensor } from "../core/tensor.ts";
import type { Optimizer } from "./optimizers.ts";
import type { Model } from "./model.ts";
import { hooks } from "./_hooks.ts";

/**
 * One step of supervised training of a classifier whose output is logits:
 * forward, softmax cross-entropy, backward, optimiser update. It sets every
 * parameter's gradient to zero before the backward pass, so gradients never
 * carry over from one step to the next (accumulate over several batches with
 * `model.backward` and `zeroGrad` yourself). {@linkcode fit} runs it over a
 * whole data set.
 *
 * @example Usage
 * ```ts
 * import { Adam, Dense, Sequential, tensor, trainStep } from "@convnet/wasm";
 * const model = new Sequential([new Dense({ units: 2 })], [3]);
 * const x = tensor([1, 0, 0, 0, 1, 0], [2, 3]);
 * const { loss } = trainStep(model, x, [0, 1], new Adam({ lr: 0.1 }));
 * ```
 *
 * @param model The model; its output must be `[classes]` logits (or end in a `Softmax`, trained through as in `fit`).
 * @param x A batch `[m, ...inputShape]`.
 * @param labels The class of each sample.
 * @param optimizer Updates the weights.
 * @returns The batch's mean loss and how many samples it classified correctly (before the update).
 */
export function trainStep(
  model: Model,
  x: Tensor,
  labels: ArrayLike<number>,
  optimizer: Optimizer,
): { loss: number; correct: number } {
  const was = model.training;
  if (!was) model.setTraining(true);
  try {
    const out = model.forward(x);
    // A trailing Softmax is the end of the logits, as in fit.
    const tail = hooks.trailingSoftmax(model);
    const logits = tail ? tail.logits() : out;
    const { loss, dLogits, correct } = softmaxCrossEntropy(logits, labels);
    const params = model.params();
    zeroGrad(params);
    if (tail) tail.backward({ shape: logits.shape, data: dLogits.data });
    else model.backward(dLogits);
    optimizer.step(params);
    // A custom optimiser writes into the arrays without saying so.
    for (const p of params) markChanged(p.value);
    return { loss, correct };
  } finally {
    if (!was) model.setTraining(false);
  }
}

// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";

function checkLogits(fn: string, logits: Tensor): [number, number] {
  const s = logits?.shape;
  if (
    !Array.isArray(s) || s.length !== 2 || !(logits.data instanceof Float32Array) ||
    logits.data.length !== s[0] * s[1]
  ) {
    throw new RangeError(
      `${fn}: logits must be a [m, classes] tensor, got shape ${
        Array.isArray(s) ? `[${s.join(", ")}]` : String(s)
      }`,
    );
  }
  return [s[0], s[1]];
}

/**
 * Row-wise softmax of a `[m, classes]` tensor, computed stably (the row
 * maximum is subtracted first).
 *
 * @example Usage
 * ```ts
 * import { softmax, tensor } from "@convnet/wasm";
 * softmax(tensor([0, 0], [1, 2])).data; // Float32Array [0.5, 0.5]
 * ```
 *
 * @param logits Scores `[m, classes]`.
 * @returns Probabilities `[m, classes]`; each row sums to 1.
 * @throws {RangeError} If `logits` is not rank 2.
 */
export function softmax(logits: Tensor): Tensor {
  const [m, k] = checkLogits("softmax", logits);
  const z = logits.data, p = new Float32Array(m * k);
  for (let i = 0; i < m; i++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, z[i * k + j]!);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(z[i * k + j]! - max);
    for (let j = 0; j < k; j++) p[i * k + j] = Math.exp(z[i * k + j]! - max) / sum;
  }
  return { shape: [m, k], data: p };
}

/** What {@linkcode softmaxCrossEntropy} returns. */
export interface SoftmaxCrossEntropy {
  /** The mean cross-entropy over the batch. */
  readonly loss: number;
  /** The gradient of `loss` with respect to the logits: `(p - onehot) / m`. */
  readonly dLogits: Tensor;
  /** The softmax probabilities. */
  readonly probs: Tensor;
  /** How many rows have their largest probability at the label. */
  readonly correct: number;
}

/**
 * Softmax followed by cross-entropy against integer labels, fused so the
 * gradient is the simple and stable `(softmax(logits) - onehot(labels)) / m`.
 *
 * @example Usage
 * ```ts
 * import { softmaxCrossEntropy, tensor } from "@convnet/wasm";
 * const { loss, dLogits } = softmaxCrossEntropy(tensor([2, 0, 0, 2], [2, 2]), [0, 1]);
 * loss.toFixed(3); // "0.127"
 * dLogits.shape; // [2, 2]
 * ```
 *
 * @param logits Scores `[m, classes]`.
 * @param labels The class of each row, integers in `[0, classes)`.
 * @returns The mean loss, its gradient, the probabilities and the count of correct rows.
 * @throws {RangeError} If the shapes disagree or a label is out of range.
 */
export function softmaxCrossEntropy(
  logits: Tensor,
  labels: ArrayLike<number>,
): SoftmaxCrossEntropy {
  const [m, k] = checkLogits("softmaxCrossEntropy", logits);
  if (!labels || labels.length !== m) {
    throw new RangeError(
      `softmaxCrossEntropy: labels must have one entry per row (${m}), got ${labels?.length}`,
    );
  }
  const probs = softmax(logits);
  const p = probs.data, d = new Float32Array(m * k);
  let loss = 0, correct = 0;
  for (let i = 0; i < m; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= k) {
      throw new RangeError(
        `softmaxCrossEntropy: labels[${i}] must be an integer in [0, ${k}), got ${y}`,
      );
    }
    let best = 0, finite = true;
    for (let j = 0; j < k; j++) {
      const pj = p[i * k + j]!;
      d[i * k + j] = (pj - (j === y ? 1 : 0)) / m;
      if (Number.isNaN(pj)) finite = false;
      if (pj > p[i * k + best]!) best = j;
    }
    // A row whose logits hold NaN (training has diverged) is never counted correct.
    if (finite && best === y) correct++;
    loss -= Math.log(Math.max(p[i * k + y]!, 1e-30));
  }
  return { loss: loss / m, dLogits: { shape: [m, k], data: d }, probs, correct };
}

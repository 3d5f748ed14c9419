// This module is browser compatible.

/**
 * Data sets and losses for fit and evaluate (private): checks a data set
 * against a model and a loss, gathers batches, and computes each loss with
 * its gradient from logits.
 *
 * @module
 */

import { checkObject, checkTensor, fail } from "../core/_validate.ts";
import type { Tensor } from "../core/types.ts";
import { softmaxCrossEntropy } from "../layers/softmax.ts";
import type { Model } from "./model.ts";

/**
 * Samples and their targets: `x` is `[m, ...inputShape]`; `labels` holds one
 * class per sample (or, for a `[h, w, classes]` output, one per pixel:
 * `m·h·w` of them, row-major) for `"softmax-cross-entropy"`; `y` holds the
 * targets, shaped like the model's output batch, for `"mse"` and
 * `"sigmoid-cross-entropy"`.
 */
export interface Dataset {
  /** The samples, `[m, ...inputShape]`. */
  readonly x: Tensor;
  /** The class of each sample (or pixel), integers in `[0, classes)`. */
  readonly labels?: ArrayLike<number>;
  /** The targets, `[m, ...outputShape]` (mse, sigmoid cross-entropy). */
  readonly y?: Tensor;
}

/** The losses `fit` and `evaluate` know. */
export type LossName = "softmax-cross-entropy" | "mse" | "sigmoid-cross-entropy";

/** The loss names, for checks. */
export const LOSSES: readonly LossName[] = [
  "softmax-cross-entropy",
  "mse",
  "sigmoid-cross-entropy",
];

/** A checked data set. */
export interface CheckedData {
  readonly x: Tensor;
  readonly labels: ArrayLike<number> | null;
  readonly y: Tensor | null;
  readonly m: number;
  readonly sampleSize: number;
  /** Targets per sample: labels (1 or h·w) or values of `y`. */
  readonly targetSize: number;
  /** Classes (softmax cross-entropy), else the output's last dimension. */
  readonly classes: number;
}

/** Throws a RangeError naming the first non-finite value of `t`, its index and its sample. */
function checkFiniteData(fn: string, arg: string, t: Tensor, m: number): void {
  const d = t.data, per = d.length / m;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (v - v !== 0) {
      throw new RangeError(
        `${fn}: ${arg} must be finite, but holds ${v} at index ${i} (sample ${
          Math.floor(i / per)
        }); clean or drop that sample before training`,
      );
    }
  }
}

/**
 * Checks `data` against the model and the loss: `x` shaped
 * `[m, ...model.inputShape]` and finite, then the targets the loss needs.
 */
export function checkData(
  fn: string,
  arg: string,
  data: unknown,
  model: Model,
  loss: LossName = "softmax-cross-entropy",
): CheckedData {
  const d = checkObject(fn, arg, data);
  for (const k of Object.keys(d)) {
    if (k !== "x" && k !== "labels" && k !== "y") {
      throw new TypeError(`${fn}: ${arg}.${k} is not a data field; the fields are x, labels, y`);
    }
  }
  const x = checkTensor(fn, `${arg}.x`, d["x"]);
  const want = model.inputShape;
  const s = x.shape;
  if (s.length !== want.length + 1 || want.some((v, i) => s[i + 1] !== v) || s[0] === 0) {
    throw new RangeError(
      `${fn}: ${arg}.x.shape must be [m, ${want.join(", ")}] with m ≥ 1, got [${s.join(", ")}]`,
    );
  }
  const m = s[0]!;
  checkFiniteData(fn, `${arg}.x`, x, m);
  const out = model.outputShape;
  const classes = out[out.length - 1]!;
  if (loss !== "softmax-cross-entropy") {
    const y = d["y"];
    if (y === undefined) {
      fail(
        TypeError,
        fn,
        `${arg}.y`,
        `a tensor of targets [m, ${out.join(", ")}] (loss "${loss}")`,
        y,
      );
    }
    const yt = checkTensor(fn, `${arg}.y`, y);
    if (
      yt.shape.length !== out.length + 1 || yt.shape[0] !== m ||
      out.some((v, i) => yt.shape[i + 1] !== v)
    ) {
      throw new RangeError(
        `${fn}: ${arg}.y.shape must be [${m}, ${out.join(", ")}] (the model's output), got [${
          yt.shape.join(", ")
        }]`,
      );
    }
    checkFiniteData(fn, `${arg}.y`, yt, m);
    if (loss === "sigmoid-cross-entropy") {
      const bad = yt.data.findIndex((v) => v < 0 || v > 1);
      if (bad >= 0) {
        fail(RangeError, fn, `${arg}.y[${bad}]`, "a probability in [0, 1]", yt.data[bad]);
      }
    }
    return {
      x,
      labels: null,
      y: yt,
      m,
      sampleSize: x.data.length / m,
      targetSize: yt.data.length / m,
      classes,
    };
  }
  const perPixel = out.length === 3;
  if (out.length !== 1 && !perPixel) {
    throw new RangeError(
      `${fn}: softmax cross-entropy needs class scores [classes] or per-pixel scores [h, w, classes], ` +
        `but the model outputs [${
          out.join(", ")
        }] (use loss "mse" or "sigmoid-cross-entropy" with data.y)`,
    );
  }
  const per = perPixel ? out[0]! * out[1]! : 1;
  const labels = d["labels"];
  if (
    labels === null || typeof labels !== "object" ||
    typeof (labels as ArrayLike<number>).length !== "number"
  ) {
    fail(TypeError, fn, `${arg}.labels`, "an array of class indices", labels);
  }
  const l = labels as ArrayLike<unknown>;
  if (l.length !== m * per) {
    throw new RangeError(
      `${fn}: ${arg}.labels must hold one label per ${
        perPixel ? `pixel (${m}·${out[0]}·${out[1]} = ${m * per})` : `sample (${m})`
      }, got ${l.length}`,
    );
  }
  for (let i = 0; i < l.length; i++) {
    const v = l[i];
    if (typeof v !== "number") {
      fail(TypeError, fn, `${arg}.labels[${i}]`, `an integer in [0, ${classes})`, v);
    }
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      fail(RangeError, fn, `${arg}.labels[${i}]`, `an integer in [0, ${classes})`, v);
    }
  }
  return {
    x,
    labels: l as ArrayLike<number>,
    y: null,
    m,
    sampleSize: x.data.length / m,
    targetSize: per,
    classes,
  };
}

/** The samples at `indices`, copied into one batch tensor. */
export function gather(d: CheckedData, indices: ArrayLike<number>): Tensor {
  const n = indices.length, size = d.sampleSize;
  const out = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    const k = indices[i]!;
    out.set(d.x.data.subarray(k * size, (k + 1) * size), i * size);
  }
  return { shape: [n, ...d.x.shape.slice(1)], data: out };
}

/** The targets of the samples at `indices`: labels, or rows of `y`. */
export function gatherTargets(d: CheckedData, indices: ArrayLike<number>): number[] | Float32Array {
  const n = indices.length, per = d.targetSize;
  if (d.labels) {
    const out = new Array<number>(n * per);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < per; j++) out[i * per + j] = d.labels[indices[i]! * per + j]!;
    }
    return out;
  }
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i++) {
    out.set(d.y!.data.subarray(indices[i]! * per, (indices[i]! + 1) * per), i * per);
  }
  return out;
}

/** A loss's value on a batch, its gradient with respect to the logits, and the correct count. */
export interface LossResult {
  /** The mean loss. */
  readonly loss: number;
  /** d loss / d logits, shaped like the logits. */
  readonly dLogits: Tensor;
  /** Correct predictions (samples, pixels, or multi-label entries); NaN for mse. */
  readonly correct: number;
  /** What `correct` counts out of. */
  readonly count: number;
  /** The predicted class of each row (softmax cross-entropy), for confusion matrices. */
  readonly predicted: number[] | null;
}

/** Computes `loss` on `logits` against `targets` (from {@linkcode gatherTargets}). */
export function computeLoss(
  loss: LossName,
  logits: Tensor,
  targets: number[] | Float32Array,
): LossResult {
  const z = logits.data, n = z.length;
  if (loss === "softmax-cross-entropy") {
    const k = logits.shape[logits.shape.length - 1]!, rows = n / k;
    const r = softmaxCrossEntropy({ shape: [rows, k], data: z }, targets as number[]);
    const predicted = new Array<number>(rows);
    for (let i = 0; i < rows; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (z[i * k + j]! > z[i * k + best]!) best = j;
      predicted[i] = best;
    }
    return {
      loss: r.loss,
      dLogits: { shape: logits.shape, data: r.dLogits.data },
      correct: r.correct,
      count: rows,
      predicted,
    };
  }
  const t = targets as Float32Array, d = new Float32Array(n);
  let sum = 0, correct = 0;
  if (loss === "mse") {
    for (let i = 0; i < n; i++) {
      const e = z[i]! - t[i]!;
      sum += e * e;
      d[i] = (2 * e) / n;
    }
    return {
      loss: sum / n,
      dLogits: { shape: logits.shape, data: d },
      correct: NaN,
      count: n,
      predicted: null,
    };
  }
  for (let i = 0; i < n; i++) {
    const v = z[i]!, y = t[i]!;
    // log(1 + e^v) − v·y, computed stably.
    sum += Math.max(v, 0) - v * y + Math.log1p(Math.exp(-Math.abs(v)));
    d[i] = (1 / (1 + Math.exp(-v)) - y) / n;
    if (v > 0 === y >= 0.5 && !Number.isNaN(v)) correct++;
  }
  return {
    loss: sum / n,
    dLogits: { shape: logits.shape, data: d },
    correct,
    count: n,
    predicted: null,
  };
}

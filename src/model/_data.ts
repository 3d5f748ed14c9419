// This module is browser compatible.

/**
 * Checks a labelled data set against a classifier (private to fit and evaluate).
 *
 * @module
 */

import { checkObject, checkTensor, fail } from "../core/_validate.ts";
import type { Tensor } from "../core/types.ts";
import type { Model } from "./model.ts";

/** Labelled samples: `x` is `[m, ...inputShape]`, `labels` one class index per sample. */
export interface Dataset {
  /** The samples, `[m, ...inputShape]`. */
  readonly x: Tensor;
  /** The class of each sample, integers in `[0, classes)`. */
  readonly labels: ArrayLike<number>;
}

/** A checked data set: its samples, labels, count and the size of one sample. */
export interface CheckedData {
  readonly x: Tensor;
  readonly labels: ArrayLike<number>;
  readonly m: number;
  readonly sampleSize: number;
  readonly classes: number;
}

/**
 * Checks that `data` is `{ x, labels }` with `x` shaped `[m, ...model.inputShape]`,
 * one integer label in `[0, classes)` per sample, and that the model outputs
 * `[classes]` scores.
 */
export function checkData(fn: string, arg: string, data: unknown, model: Model): CheckedData {
  const d = checkObject(fn, arg, data);
  const x = checkTensor(fn, `${arg}.x`, d["x"]);
  const want = model.inputShape;
  const s = x.shape;
  if (s.length !== want.length + 1 || want.some((v, i) => s[i + 1] !== v) || s[0] === 0) {
    throw new RangeError(
      `${fn}: ${arg}.x.shape must be [m, ${want.join(", ")}] with m ≥ 1, got [${s.join(", ")}]`,
    );
  }
  if (model.outputShape.length !== 1) {
    throw new RangeError(
      `${fn}: the model must output class scores [classes], but its output is [${
        model.outputShape.join(", ")
      }]`,
    );
  }
  const classes = model.outputShape[0]!;
  const m = s[0]!;
  const labels = d["labels"];
  if (
    labels === null || typeof labels !== "object" ||
    typeof (labels as ArrayLike<number>).length !== "number"
  ) {
    fail(TypeError, fn, `${arg}.labels`, "an array of class indices", labels);
  }
  const l = labels as ArrayLike<unknown>;
  if (l.length !== m) {
    throw new RangeError(
      `${fn}: ${arg}.labels must hold one label per sample (${m}), got ${l.length}`,
    );
  }
  for (let i = 0; i < m; i++) {
    const y = l[i];
    if (typeof y !== "number") {
      fail(TypeError, fn, `${arg}.labels[${i}]`, `an integer in [0, ${classes})`, y);
    }
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      fail(RangeError, fn, `${arg}.labels[${i}]`, `an integer in [0, ${classes})`, y);
    }
  }
  return { x, labels: l as ArrayLike<number>, m, sampleSize: x.data.length / m, classes };
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

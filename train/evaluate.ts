/**
 * Accuracy and confusion matrix of a classifier on a digit set.
 *
 * @module
 */

import { type Sequential, tensor } from "../mod.ts";
import type { DigitSet } from "./mnist.ts";

/** The outcome of {@linkcode evaluate}. */
export interface Evaluation {
  /** Share of digits classified correctly. */
  accuracy: number;
  /** `matrix[truth][predicted]` counts. */
  matrix: number[][];
}

/** Classifies every digit of `set` in batches and counts. */
export function evaluate(model: Sequential, set: DigitSet, batch = 250): Evaluation {
  const matrix = Array.from({ length: 10 }, () => new Array(10).fill(0));
  let correct = 0;
  for (let i = 0; i < set.n; i += batch) {
    const m = Math.min(batch, set.n - i);
    const x = set.x.subarray(i * 784, (i + m) * 784);
    const out = model.predict(tensor(x, [m, 28, 28, 1])).data;
    for (let b = 0; b < m; b++) {
      let best = 0;
      for (let j = 1; j < 10; j++) if (out[b * 10 + j]! > out[b * 10 + best]!) best = j;
      const truth = set.labels[i + b]!;
      matrix[truth]![best]!++;
      if (best === truth) correct++;
    }
  }
  return { accuracy: correct / set.n, matrix };
}

/** Formats a confusion matrix with row and column headings. */
export function formatMatrix(matrix: number[][]): string {
  const head = "truth\\pred " + [...Array(10).keys()].map((d) => String(d).padStart(5)).join("");
  const rows = matrix.map((r, t) =>
    `${String(t).padStart(10)} ` + r.map((v) => String(v).padStart(5)).join("")
  );
  return [head, ...rows].join("\n");
}

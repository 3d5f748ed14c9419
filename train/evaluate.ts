/**
 * Formatting of the library's `evaluate` results for the terminal.
 *
 * @module
 */

/** Formats a confusion matrix (`matrix[truth][predicted]`) with row and column headings. */
export function formatMatrix(matrix: number[][]): string {
  const head = "truth\\pred " + matrix.map((_, d) => String(d).padStart(5)).join("");
  const rows = matrix.map((r, t) =>
    `${String(t).padStart(10)} ` + r.map((v) => String(v).padStart(5)).join("")
  );
  return [head, ...rows].join("\n");
}

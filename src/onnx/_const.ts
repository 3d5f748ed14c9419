// This module is browser compatible.

/**
 * Constant folding for the small integer and float tensors of an ONNX
 * graph's shape arithmetic (private): the `Shape → Gather → Unsqueeze →
 * Concat → Reshape` chain of `x.view(x.size(0), -1)`, the pads PyTorch
 * computes for `F.pad`. The batch dimension, unknown until run time, is NaN.
 *
 * @module
 */

/** A constant tensor: dims and row-major values. */
export interface Const {
  dims: number[];
  data: number[] | Float32Array;
  /** Integer-typed (INT64, INT32) rather than float. */
  isInt: boolean;
}

/** The most elements a folded constant may have. */
export const MAX_FOLD = 1 << 20;

/** The element count of `dims`. */
export function size(dims: readonly number[]): number {
  return dims.reduce((p, d) => p * d, 1);
}

function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1]! * dims[i + 1]!;
  return s;
}

/** Normalises an axis in [-rank, rank) (or [-rank-1, rank] when `plusOne`); null when out of range. */
export function axis(a: number, rank: number, plusOne = false): number | null {
  const r = plusOne ? rank + 1 : rank;
  const v = a < 0 ? a + r : a;
  return Number.isInteger(v) && v >= 0 && v < r ? v : null;
}

/** Transposes by `perm`. */
export function transpose(c: Const, perm: readonly number[]): Const {
  const dims = perm.map((p) => c.dims[p]!), st = strides(c.dims), n = size(dims);
  const out: number[] = new Array(n);
  const idx = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < n; i++) {
    let src = 0;
    for (let k = 0; k < dims.length; k++) src += idx[k]! * st[perm[k]!]!;
    out[i] = c.data[src]!;
    for (let k = dims.length - 1; k >= 0; k--) {
      if (++idx[k]! < dims[k]!) break;
      idx[k] = 0;
    }
  }
  return { dims, data: out, isInt: c.isInt };
}

/** Slices with ONNX `Slice` semantics (starts, ends, axes, steps; clamped). */
export function slice(
  c: Const,
  starts: readonly number[],
  ends: readonly number[],
  axes: readonly number[],
  steps: readonly number[],
): Const | string {
  const rank = c.dims.length;
  const lo = c.dims.map(() => 0), step = c.dims.map(() => 1), count = [...c.dims];
  for (let j = 0; j < starts.length; j++) {
    const ax = axis(axes[j]!, rank);
    if (ax === null) return `axis ${axes[j]} is out of range`;
    const d = c.dims[ax]!, s = steps[j]!;
    if (s === 0 || !Number.isFinite(s)) return "a step of 0";
    let b = starts[j]!, e = ends[j]!;
    if (b < 0) b += d;
    if (e < 0) e += d;
    if (s > 0) {
      b = Math.min(Math.max(b, 0), d);
      e = Math.min(Math.max(e, 0), d);
      count[ax] = Math.max(0, Math.ceil((e - b) / s));
    } else {
      b = Math.min(Math.max(b, -1), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
      count[ax] = Math.max(0, Math.ceil((e - b) / s));
    }
    lo[ax] = b;
    step[ax] = s;
  }
  const st = strides(c.dims), n = size(count), out: number[] = new Array(n);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += (lo[k]! + idx[k]! * step[k]!) * st[k]!;
    out[i] = c.data[src]!;
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k]! < count[k]!) break;
      idx[k] = 0;
    }
  }
  return { dims: count, data: out, isInt: c.isInt };
}

/** Concatenates along `ax`. */
export function concat(parts: readonly Const[], ax: number): Const {
  const dims = [...parts[0]!.dims];
  dims[ax] = parts.reduce((s, p) => s + p.dims[ax]!, 0);
  const outer = size(dims.slice(0, ax)), out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const inner = size(p.dims.slice(ax));
      for (let i = 0; i < inner; i++) out.push(p.data[o * inner + i]!);
    }
  }
  return { dims, data: out, isInt: parts[0]!.isInt };
}

/** Gathers along `ax` with integer indices (negative ones count from the end). */
export function gather(c: Const, indices: Const, ax: number): Const | string {
  const d = c.dims[ax]!, outer = size(c.dims.slice(0, ax)), inner = size(c.dims.slice(ax + 1));
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const raw of indices.data) {
      const i = raw < 0 ? raw + d : raw;
      if (!Number.isInteger(i) || i < 0 || i >= d) return `index ${raw} is out of range for ${d}`;
      for (let k = 0; k < inner; k++) out.push(c.data[(o * d + i) * inner + k]!);
    }
  }
  return {
    dims: [...c.dims.slice(0, ax), ...indices.dims, ...c.dims.slice(ax + 1)],
    data: out,
    isInt: c.isInt,
  };
}

/** Element-wise arithmetic with NumPy broadcasting of equal shapes or a scalar. */
export function arith(op: string, a: Const, b: Const): Const | string {
  const na = size(a.dims), nb = size(b.dims);
  if (na !== nb && na !== 1 && nb !== 1) return "operands of different sizes";
  const n = Math.max(na, nb), out: number[] = new Array(n);
  const isInt = a.isInt && b.isInt;
  for (let i = 0; i < n; i++) {
    const x = a.data[na === 1 ? 0 : i]!, y = b.data[nb === 1 ? 0 : i]!;
    let v = op === "Add" ? x + y : op === "Sub" ? x - y : op === "Mul" ? x * y : x / y;
    if (isInt && op === "Div") v = Math.trunc(v);
    out[i] = v;
  }
  return { dims: na >= nb ? [...a.dims] : [...b.dims], data: out, isInt };
}

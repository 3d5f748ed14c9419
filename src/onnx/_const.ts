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

/** NumPy's broadcast of two shapes, or null when they do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const r = Math.max(a.length, b.length), out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1, y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** For each index of `out`, the index of the element of `dims` it reads under broadcasting. */
function broadcastIndex(dims: readonly number[], out: readonly number[]): number[] {
  const n = size(out), idx: number[] = new Array(n);
  const st = strides(dims), r = out.length, off = r - dims.length;
  const pos = new Array<number>(r).fill(0);
  for (let i = 0; i < n; i++) {
    let src = 0;
    for (let k = off; k < r; k++) if (dims[k - off] !== 1) src += pos[k]! * st[k - off]!;
    idx[i] = src;
    for (let k = r - 1; k >= 0; k--) {
      if (++pos[k]! < out[k]!) break;
      pos[k] = 0;
    }
  }
  return idx;
}

const ARITH: Readonly<Record<string, (x: number, y: number) => number>> = {
  Add: (x, y) => x + y,
  Sub: (x, y) => x - y,
  Mul: (x, y) => x * y,
  Div: (x, y) => x / y,
  Pow: (x, y) => Math.pow(x, y),
  Equal: (x, y) => (x === y ? 1 : 0),
  Less: (x, y) => (x < y ? 1 : 0),
  Greater: (x, y) => (x > y ? 1 : 0),
};

/** The binary operators {@linkcode arith} folds. */
export const ARITH_OPS: readonly string[] = Object.keys(ARITH);

/**
 * Element-wise arithmetic (Add, Sub, Mul, Div, Pow) and comparison (Equal,
 * Less, Greater: 1 or 0, integer-typed) with NumPy broadcasting. Integer
 * division truncates, as ONNX's does.
 */
export function arith(op: string, a: Const, b: Const): Const | string {
  const f = ARITH[op];
  if (!f) return `operator ${op}`;
  const dims = broadcastShape(a.dims, b.dims);
  if (!dims) return `operands of shapes [${a.dims.join(", ")}] and [${b.dims.join(", ")}]`;
  if (size(dims) > MAX_FOLD) return `a result of ${size(dims)} elements`;
  const ia = broadcastIndex(a.dims, dims), ib = broadcastIndex(b.dims, dims);
  const compare = op === "Equal" || op === "Less" || op === "Greater";
  const isInt = compare || (a.isInt && b.isInt);
  const out: number[] = ia.map((i, k) => {
    const v = f(a.data[i]!, b.data[ib[k]!]!);
    return isInt && op === "Div" ? Math.trunc(v) : v;
  });
  return { dims, data: compare || isInt ? out : Float32Array.from(out), isInt };
}

/** ONNX `Where`: `cond ? a : b`, element-wise with broadcasting. */
export function where(cond: Const, a: Const, b: Const): Const | string {
  const ab = broadcastShape(a.dims, b.dims), dims = ab && broadcastShape(cond.dims, ab);
  if (!dims) return "operands that do not broadcast";
  if (size(dims) > MAX_FOLD) return `a result of ${size(dims)} elements`;
  const ic = broadcastIndex(cond.dims, dims), ia = broadcastIndex(a.dims, dims);
  const ib = broadcastIndex(b.dims, dims);
  const out = ic.map((i, k) => (cond.data[i] ? a.data[ia[k]!]! : b.data[ib[k]!]!));
  const isInt = a.isInt && b.isInt;
  return { dims, data: isInt ? out : Float32Array.from(out), isInt };
}

/** ONNX `Expand`: `c` broadcast against `shape` (the result has the broadcast of both). */
export function expand(c: Const, shape: readonly number[]): Const | string {
  const dims = broadcastShape(c.dims, shape);
  if (!dims) return `[${c.dims.join(", ")}] does not broadcast to [${shape.join(", ")}]`;
  if (size(dims) > MAX_FOLD) return `a result of ${size(dims)} elements`;
  const data = broadcastIndex(c.dims, dims).map((i) => c.data[i]!);
  return { dims, data: c.isInt ? data : Float32Array.from(data), isInt: c.isInt };
}

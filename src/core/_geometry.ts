// This module is browser compatible.

/**
 * Validation and output-size arithmetic for convolution and pooling: the one
 * place this library turns hyper-parameters (strides, paddings, dilations,
 * groups) into a geometry. Ops, layers, benchmarks and tests all call it.
 *
 * @module
 */

import {
  checkBoolean,
  checkFloat32Array,
  checkObject,
  checkOutputSize,
  checkPositiveInt,
  checkTensor4,
  describe,
  fail,
} from "./_validate.ts";
import { checkKeys } from "./_options.ts";
import type { ConvGeometry, PoolGeometry, PoolMode, Tensor4 } from "./types.ts";

/** The keys of {@linkcode ConvParams}. */
const CONV_KEYS = ["stride", "pad", "dilation", "groups"] as const;
/** The keys of {@linkcode ConvTransposeParams}. */
const CONV_TRANSPOSE_KEYS = [...CONV_KEYS, "outputPadding"] as const;
/** The keys of {@linkcode PoolParams}. */
const POOL_KEYS = ["f", "stride", "pad", "dilation", "ceilMode", "countIncludePad"] as const;

/** Checks that `hp` is an object holding only the `accepted` hyper-parameters. */
function checkHp(fn: string, hp: unknown, accepted: readonly string[]): Record<string, unknown> {
  const o = checkObject(fn, "hp", hp);
  checkKeys(fn, "hp", o, accepted);
  return o;
}

/** One number for both axes, or `[height, width]`. */
export type Pair = number | readonly [number, number];

/**
 * Zeros around the input: one number for every side, `[h, w]` (top and
 * bottom `h`, left and right `w`), `[top, bottom, left, right]`, `"valid"`
 * (none) or `"same"` (`out = ceil(in / stride)`, an odd extra at the bottom
 * and right).
 */
export type Padding =
  | number
  | readonly [number, number]
  | readonly [number, number, number, number]
  | "valid"
  | "same";

/** Convolution hyper-parameters; every one is optional. */
export interface ConvParams {
  /** Step between windows: a positive integer or `[h, w]`; default 1. */
  readonly stride?: Pair;
  /** Zeros around the input (see {@linkcode Padding}); default 0. */
  readonly pad?: Padding;
  /** Step between filter taps: a positive integer or `[h, w]`; default 1 (adjacent). */
  readonly dilation?: Pair;
  /** Channel groups: `cIn` and `cOut` must be multiples of it; default 1. */
  readonly groups?: number;
}

/** Transposed-convolution hyper-parameters. */
export interface ConvTransposeParams extends ConvParams {
  /** Extra rows and columns at the bottom and right of the output, less than the stride; default 0. */
  readonly outputPadding?: Pair;
}

/** Pooling hyper-parameters. */
export interface PoolParams {
  /** Window size: a positive integer or `[h, w]`. */
  readonly f: Pair;
  /** Step between windows; default `f`. */
  readonly stride?: Pair;
  /** Padding around the input (see {@linkcode Padding}); default 0. It never wins a maximum. */
  readonly pad?: Padding;
  /** Step between window taps; default 1. */
  readonly dilation?: Pair;
  /** Round the output size up (a window must still start inside the input or its begin padding); default false. */
  readonly ceilMode?: boolean;
  /** Average: divide by every tap inside the padded input, not only the input's; default false. */
  readonly countIncludePad?: boolean;
}

/** Checks `mode` and returns it. */
export function checkMode(fn: string, arg: string, mode: unknown): PoolMode {
  if (mode !== "max" && mode !== "average") {
    const Kind = typeof mode === "string" ? RangeError : TypeError;
    throw new Kind(
      `${fn}: ${arg} must be "max" or "average", got ${
        typeof mode === "string" ? JSON.stringify(mode) : String(mode)
      }`,
    );
  }
  return mode;
}

/** Checks a {@linkcode Pair} of integers ≥ `min` and returns `[h, w]`. */
export function checkPair(fn: string, arg: string, v: unknown, min = 1): [number, number] {
  const what = min === 1 ? "a positive integer" : "a non-negative integer";
  const expected = `${what} or [h, w] of them`;
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < min) fail(RangeError, fn, arg, expected, v);
    return [v, v];
  }
  if (!Array.isArray(v)) fail(TypeError, fn, arg, expected, v);
  if (v.length !== 2) fail(RangeError, fn, arg, `${expected} (2 numbers)`, v);
  for (let i = 0; i < 2; i++) {
    const d: unknown = v[i];
    if (typeof d !== "number") fail(TypeError, fn, `${arg}[${i}]`, what, d);
    if (!Number.isInteger(d) || d < min) fail(RangeError, fn, `${arg}[${i}]`, what, d);
  }
  return [v[0], v[1]];
}

/** A checked padding: `"same"`, or `[top, bottom, left, right]`. */
export type PadSpec = "same" | readonly [number, number, number, number];

/** Checks a {@linkcode Padding}. */
export function checkPadding(fn: string, arg: string, v: unknown): PadSpec {
  const expected = 'a non-negative integer, [h, w], [top, bottom, left, right], "valid" or "same"';
  if (v === "same") return "same";
  if (v === "valid") return [0, 0, 0, 0];
  if (typeof v === "string") fail(RangeError, fn, arg, expected, v);
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < 0) fail(RangeError, fn, arg, "a non-negative integer", v);
    return [v, v, v, v];
  }
  if (!Array.isArray(v)) fail(TypeError, fn, arg, expected, v);
  if (v.length !== 2 && v.length !== 4) {
    fail(RangeError, fn, arg, `${expected}: an array of 2 or 4 numbers`, v);
  }
  for (let i = 0; i < v.length; i++) {
    const d: unknown = v[i];
    if (typeof d !== "number") fail(TypeError, fn, `${arg}[${i}]`, "a non-negative integer", d);
    if (!Number.isInteger(d) || d < 0) {
      fail(RangeError, fn, `${arg}[${i}]`, "a non-negative integer", d);
    }
  }
  return v.length === 2 ? [v[0], v[0], v[1], v[1]] : [v[0], v[1], v[2], v[3]];
}

/**
 * The output length of a convolution or pooling along one axis:
 * `floor((n + padBegin + padEnd − dilation·(f − 1) − 1) / stride) + 1`
 * (rounded up instead with `ceil`, dropping a last window that would start
 * in the end padding).
 */
export function convOutputSize(
  n: number,
  f: number,
  padBegin: number,
  padEnd: number,
  stride: number,
  dilation = 1,
  ceil = false,
): number {
  const span = n + padBegin + padEnd - dilation * (f - 1) - 1;
  if (!ceil) return Math.floor(span / stride) + 1;
  let out = Math.ceil(span / stride) + 1;
  if ((out - 1) * stride >= n + padBegin) out--;
  return out;
}

/** `[begin, end]` zeros for "same" along one axis: `out = ceil(n / stride)`, the odd one at the end. */
export function samePadding(n: number, f: number, stride: number, dilation = 1): [number, number] {
  const out = Math.ceil(n / stride);
  const total = Math.max((out - 1) * stride + dilation * (f - 1) + 1 - n, 0);
  const begin = Math.floor(total / 2);
  return [begin, total - begin];
}

/** Resolves a padding spec for a window of `fH × fW` taps. */
export function resolvePadding(
  spec: PadSpec,
  inH: number,
  inW: number,
  fH: number,
  fW: number,
  stride: readonly [number, number],
  dilation: readonly [number, number],
): [number, number, number, number] {
  if (spec !== "same") return [...spec];
  const [t, b] = samePadding(inH, fH, stride[0], dilation[0]);
  const [l, r] = samePadding(inW, fW, stride[1], dilation[1]);
  return [t, b, l, r];
}

/** Everything {@linkcode planConv} needs besides the shapes. */
export interface ConvPlan {
  readonly stride: readonly [number, number];
  readonly pads: readonly [number, number, number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
}

/**
 * The geometry of a convolution for a batch of `m` (0 for "not yet known"),
 * or a `RangeError` (prefixed with `who`) when the dilated filter is larger
 * than the padded input. `fArg` names the filter size in the message.
 */
export function planConv(
  who: string,
  fArg: string,
  m: number,
  inH: number,
  inW: number,
  cIn: number,
  fH: number,
  fW: number,
  cOut: number,
  plan: ConvPlan,
): ConvGeometry {
  const [sh, sw] = plan.stride, [dh, dw] = plan.dilation, [t, b, l, r] = plan.pads;
  const eh = dh * (fH - 1) + 1, ew = dw * (fW - 1) + 1;
  if (eh > inH + t + b || ew > inW + l + r) {
    const size = fH === fW ? `${fH}` : `${fH}×${fW}`;
    const dil = dh === 1 && dw === 1 ? "" : `, ${eh}×${ew} with dilation`;
    throw new RangeError(
      `${who}: ${fArg} = ${size}${dil} must not exceed the padded input ${inH + t + b}×${
        inW + l + r
      } (input ${inH}×${inW}, pad ${describe(plan.pads)})`,
    );
  }
  return {
    m,
    inH,
    inW,
    cIn,
    fH,
    fW,
    cOut,
    strideH: sh,
    strideW: sw,
    padTop: t,
    padBottom: b,
    padLeft: l,
    padRight: r,
    dilationH: dh,
    dilationW: dw,
    groups: plan.groups,
    outH: convOutputSize(inH, fH, t, b, sh, dh),
    outW: convOutputSize(inW, fW, l, r, sw, dw),
  };
}

/** Reads the optional convolution hyper-parameters of `hp` (named `arg`), for filters `fH × fW`. */
export function convPlan(
  fn: string,
  arg: string,
  hp: Record<string, unknown>,
  inH: number,
  inW: number,
  fH: number,
  fW: number,
): ConvPlan {
  const stride = checkPair(fn, `${arg}.stride`, hp["stride"] ?? 1);
  const dilation = checkPair(fn, `${arg}.dilation`, hp["dilation"] ?? 1);
  const groups = checkPositiveInt(fn, `${arg}.groups`, hp["groups"] ?? 1);
  const spec = checkPadding(fn, `${arg}.pad`, hp["pad"] ?? 0);
  const pads = resolvePadding(spec, inH, inW, fH, fW, stride, dilation);
  return { stride, pads, dilation, groups };
}

/**
 * Checks that `groups` divides `cIn` and `cOut`, and that the filter's
 * input-channel dimension is `cIn / groups`.
 */
function checkGroups(
  fn: string,
  groupsArg: string,
  groups: number,
  cIn: number,
  cInArg: string,
  wcIn: number,
  wcInArg: string,
  cOut: number,
  cOutArg: string,
): void {
  if (cIn % groups !== 0) {
    throw new RangeError(
      `${fn}: ${groupsArg} must divide the ${cIn} input channels (${cInArg}), got ${groups}`,
    );
  }
  if (cOut % groups !== 0) {
    throw new RangeError(
      `${fn}: ${groupsArg} must divide the ${cOut} output channels (${cOutArg}), got ${groups}`,
    );
  }
  if (wcIn !== cIn / groups) {
    throw new RangeError(
      groups === 1
        ? `${fn}: ${wcInArg} (input channels) must equal ${cInArg} = ${cIn}, got ${wcIn}`
        : `${fn}: ${wcInArg} (input channels per group) must equal ${cInArg} / ${groupsArg} = ${
          cIn / groups
        }, got ${wcIn}`,
    );
  }
}

/** Validates convolution arguments and computes the output geometry. */
export function convGeometry(
  fn: string,
  aPrev: unknown,
  w: unknown,
  b: unknown,
  hp: unknown,
): { x: Tensor4; w: Tensor4; b: Float32Array; g: ConvGeometry } {
  const x = checkTensor4(fn, "aPrev", aPrev);
  const wt = checkTensor4(fn, "w", w);
  const params = checkHp(fn, hp, CONV_KEYS);
  const [m, inH, inW, cIn] = x.shape;
  const [fH, fW, wcIn, cOut] = wt.shape;
  const plan = convPlan(fn, "hp", params, inH, inW, fH, fW);
  checkGroups(
    fn,
    "hp.groups",
    plan.groups,
    cIn,
    "aPrev.shape[3]",
    wcIn,
    "w.shape[2]",
    cOut,
    "w.shape[3]",
  );
  const bias = checkFloat32Array(fn, "b", b, cOut, ` (w.shape[3], the number of filters)`);
  const g = planConv(fn, "the filter size f", m, inH, inW, cIn, fH, fW, cOut, plan);
  checkOutputSize(fn, "the output", [m, g.outH, g.outW, cOut]);
  checkOutputSize(fn, "the zero-padded input", [
    m,
    inH + g.padTop + g.padBottom,
    inW + g.padLeft + g.padRight,
    cIn,
  ]);
  return { x, w: wt, b: bias, g };
}

/**
 * The geometry of the convolution whose input gradient a transposed
 * convolution is: its input is the transposed convolution's output
 * (`[outH, outW, cOut]`, in `g.inH`, `g.inW`, `g.cIn`) and its output the
 * transposed convolution's input. `arg` names the hyper-parameters in messages.
 */
export function planConvTranspose(
  fn: string,
  arg: string,
  m: number,
  h: number,
  wd: number,
  cIn: number,
  fH: number,
  fW: number,
  cOut: number,
  p: {
    stride: readonly [number, number];
    spec: PadSpec;
    dilation: readonly [number, number];
    groups: number;
    outputPadding: readonly [number, number];
  },
): ConvGeometry {
  const { stride, dilation, groups, outputPadding: op } = p;
  for (let a = 0; a < 2; a++) {
    if (op[a]! >= stride[a]!) {
      throw new RangeError(
        `${fn}: ${arg}.outputPadding must be less than ${arg}.stride (${describe(stride)}), got ${
          describe(op)
        }`,
      );
    }
  }
  if (cIn % groups !== 0 || cOut % groups !== 0) {
    throw new RangeError(
      `${fn}: ${arg}.groups must divide the ${cIn} input and ${cOut} output channels, got ${groups}`,
    );
  }
  const eh = dilation[0] * (fH - 1) + 1, ew = dilation[1] * (fW - 1) + 1;
  let pads: [number, number, number, number];
  if (p.spec === "same") {
    // out = in·stride: the padding is what the full output would have beyond that.
    const th = eh + op[0] - stride[0], tw = ew + op[1] - stride[1];
    if (th < 0 || tw < 0) {
      throw new RangeError(
        `${fn}: ${arg}.pad "same" needs dilation·(f − 1) + 1 + outputPadding ≥ stride on each axis`,
      );
    }
    const t = Math.floor(th / 2), l = Math.floor(tw / 2);
    pads = [t, th - t, l, tw - l];
  } else {
    pads = [...p.spec];
  }
  const fullH = (h - 1) * stride[0] + eh + op[0], fullW = (wd - 1) * stride[1] + ew + op[1];
  const outH = fullH - pads[0] - pads[1], outW = fullW - pads[2] - pads[3];
  if (outH < 1 || outW < 1) {
    throw new RangeError(
      `${fn}: the output would be ${outH}×${outW}: ${arg}.pad ${
        describe(pads)
      } removes more than the ${fullH}×${fullW} the transposed convolution makes`,
    );
  }
  return planConv(fn, "the filter size f", m, outH, outW, cOut, fH, fW, cIn, {
    stride,
    pads,
    dilation,
    groups,
  });
}

/**
 * Validates transposed-convolution arguments. The result is the geometry of
 * the convolution whose input gradient the transposed convolution is: its
 * input is the transposed convolution's output `z` and its output is `x`.
 */
export function convTransposeGeometry(
  fn: string,
  xIn: unknown,
  w: unknown,
  b: unknown,
  hp: unknown,
): { x: Tensor4; w: Tensor4; b: Float32Array; g: ConvGeometry } {
  const x = checkTensor4(fn, "x", xIn);
  const wt = checkTensor4(fn, "w", w);
  const params = checkHp(fn, hp, CONV_TRANSPOSE_KEYS);
  const [m, h, wd, cIn] = x.shape;
  const [fH, fW, cOutG, wcIn] = wt.shape;
  const stride = checkPair(fn, "hp.stride", params["stride"] ?? 1);
  const dilation = checkPair(fn, "hp.dilation", params["dilation"] ?? 1);
  const groups = checkPositiveInt(fn, "hp.groups", params["groups"] ?? 1);
  const op = checkPair(fn, "hp.outputPadding", params["outputPadding"] ?? 0, 0);
  const spec = checkPadding(fn, "hp.pad", params["pad"] ?? 0);
  if (wcIn !== cIn) {
    throw new RangeError(
      `${fn}: w.shape[3] (input channels) must equal x.shape[3] = ${cIn}, got ${wcIn}`,
    );
  }
  const bias = checkFloat32Array(
    fn,
    "b",
    b,
    cOutG * groups,
    ` (w.shape[2] · hp.groups, the output channels)`,
  );
  const g = planConvTranspose(fn, "hp", m, h, wd, cIn, fH, fW, cOutG * groups, {
    stride,
    spec,
    dilation,
    groups,
    outputPadding: op,
  });
  checkOutputSize(fn, "the output", [m, g.inH, g.inW, g.cIn]);
  return { x, w: wt, b: bias, g };
}

/** The geometry of a pooling, or a `RangeError` when a window exceeds the padded input or lies wholly in the padding. */
export function planPool(
  who: string,
  fArg: string,
  m: number,
  inH: number,
  inW: number,
  c: number,
  fH: number,
  fW: number,
  stride: readonly [number, number],
  pads: readonly [number, number, number, number],
  dilation: readonly [number, number] = [1, 1],
  ceilMode = false,
  countIncludePad = false,
): PoolGeometry {
  const [t, b, l, r] = pads, [dh, dw] = dilation;
  const eh = dh * (fH - 1) + 1, ew = dw * (fW - 1) + 1;
  if (eh > inH + t + b || ew > inW + l + r) {
    const size = fH === fW ? `${fH}` : `[${fH}, ${fW}]`;
    throw new RangeError(
      `${who}: ${fArg} = ${size} must not exceed the input's height ${inH} and width ${inW}${
        t + b + l + r ? ` with padding ${describe(pads)}` : ""
      }${dh * dw > 1 ? ` (dilated to ${eh}×${ew})` : ""}`,
    );
  }
  const outH = convOutputSize(inH, fH, t, b, stride[0], dh, ceilMode);
  const outW = convOutputSize(inW, fW, l, r, stride[1], dw, ceilMode);
  // Before any loop over windows: a huge padding means a huge output.
  checkOutputSize(who, "the output", [Math.max(m, 1), outH, outW, c]);
  /** The first output index whose window holds no input pixel along one axis, or -1. */
  const empty = (n: number, f: number, pb: number, s: number, d: number, out: number) => {
    const e = d * (f - 1) + 1;
    if (pb >= e) return 0; // the first window lies wholly in the begin padding
    const hasTap = (o: number) => {
      const st = o * s - pb;
      if (st >= 0) return st < n;
      const k = Math.ceil(-st / d); // the first tap at or after 0
      return k < f && st + k * d < n;
    };
    // Only windows starting outside the input can be empty: fewer than e at the start, and
    // at the end at most `out` (bounded by the output-size check above).
    for (let o = 0; o < out && o * s - pb < 0; o++) if (!hasTap(o)) return o;
    for (let o = out - 1; o >= 0 && o * s - pb >= n; o--) if (!hasTap(o)) return o;
    return -1;
  };
  const eH = empty(inH, fH, t, stride[0], dh, outH), eW = empty(inW, fW, l, stride[1], dw, outW);
  if (eH >= 0 || eW >= 0) {
    throw new RangeError(
      `${who}: with padding ${describe(pads)} the window at output ${
        eH >= 0 ? `row ${eH}` : `column ${eW}`
      } lies wholly in the padding; use less padding`,
    );
  }
  return {
    m,
    inH,
    inW,
    c,
    fH,
    fW,
    strideH: stride[0],
    strideW: stride[1],
    padTop: t,
    padBottom: b,
    padLeft: l,
    padRight: r,
    dilationH: dh,
    dilationW: dw,
    countIncludePad,
    outH,
    outW,
  };
}

/** Reads pooling hyper-parameters (named `arg`) for an input of `inH × inW`. */
export function poolPlan(
  fn: string,
  arg: string,
  params: Record<string, unknown>,
  fArg = `${arg}.f`,
): {
  f: [number, number];
  stride: [number, number];
  spec: PadSpec;
  dilation: [number, number];
  ceilMode: boolean;
  countIncludePad: boolean;
} {
  const f = checkPair(fn, fArg, params["f"]);
  const stride = checkPair(fn, `${arg}.stride`, params["stride"] ?? f);
  const spec = checkPadding(fn, `${arg}.pad`, params["pad"] ?? 0);
  const dilation = checkPair(fn, `${arg}.dilation`, params["dilation"] ?? 1);
  const ceilMode = checkBoolean(fn, `${arg}.ceilMode`, params["ceilMode"] ?? false);
  const countIncludePad = checkBoolean(
    fn,
    `${arg}.countIncludePad`,
    params["countIncludePad"] ?? false,
  );
  return { f, stride, spec, dilation, ceilMode, countIncludePad };
}

/** Validates pooling arguments and computes the output geometry. */
export function poolGeometry(
  fn: string,
  aPrev: unknown,
  hp: unknown,
): { x: Tensor4; g: PoolGeometry } {
  const x = checkTensor4(fn, "aPrev", aPrev);
  const params = checkHp(fn, hp, POOL_KEYS);
  const p = poolPlan(fn, "hp", params);
  const [m, inH, inW, c] = x.shape;
  const pads = resolvePadding(p.spec, inH, inW, p.f[0], p.f[1], p.stride, p.dilation);
  const g = planPool(
    fn,
    "hp.f",
    m,
    inH,
    inW,
    c,
    p.f[0],
    p.f[1],
    p.stride,
    pads,
    p.dilation,
    p.ceilMode,
    p.countIncludePad,
  );
  return { x, g };
}

/** The geometry of a square-filter convolution with one stride and symmetric padding (benchmarks, tests). */
export function squareConv(
  m: number,
  inH: number,
  inW: number,
  cIn: number,
  f: number,
  cOut: number,
  stride: number,
  pad: number,
): ConvGeometry {
  return planConv("squareConv", "f", m, inH, inW, cIn, f, f, cOut, {
    stride: [stride, stride],
    pads: [pad, pad, pad, pad],
    dilation: [1, 1],
    groups: 1,
  });
}

/** The geometry of an unpadded square-window pooling (benchmarks, tests). */
export function squarePool(
  m: number,
  inH: number,
  inW: number,
  c: number,
  f: number,
  stride: number,
): PoolGeometry {
  return planPool("squarePool", "f", m, inH, inW, c, f, f, [stride, stride], [0, 0, 0, 0]);
}

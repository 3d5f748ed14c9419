// This module is browser compatible.

import { checkFinite, checkOneOf, fail } from "../core/_validate.ts";
import { mish, softplus } from "../core/_math.ts";
import { activeKernels } from "../backend/select.ts";
import type { ActivationKind } from "../backend/types.ts";
import { type OptionDecls, readOptions } from "./_declare.ts";
import { ElementwiseLayer } from "./elementwise.ts";

/** SELU's constants (Klambauer et al.; PyTorch's and ONNX's defaults). */
const SELU_ALPHA = 1.6732632423543772, SELU_SCALE = 1.0507009873554805;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** The name of a {@linkcode Unary} function (the keys of {@linkcode UNARY_FUNCTIONS}). */
export type UnaryFunction =
  | "exp"
  | "log"
  | "sqrt"
  | "reciprocal"
  | "square"
  | "abs"
  | "softplus"
  | "softsign"
  | "mish"
  | "elu"
  | "selu";

/** One function of {@linkcode UNARY_FUNCTIONS}. */
export interface UnaryDecl {
  /** The ONNX operator it is (`""`: written another way). */
  readonly onnx: string;
  /** `y = f(x)` (`y` unused; `a` is ELU's alpha). */
  readonly f: (x: number, y: number, a: number) => number;
  /** `f'(x)`, given `x`, `y = f(x)` and `a`. */
  readonly df: (x: number, y: number, a: number) => number;
}

/**
 * The math functions {@linkcode Unary} computes, one declaration each: the
 * function, its derivative (given `x`, `y` and `alpha`), and the ONNX
 * operator it is (which drives `loadOnnx` and `saveOnnx` alike).
 */
export const UNARY_FUNCTIONS: Readonly<Record<UnaryFunction, UnaryDecl>> = {
  exp: { onnx: "Exp", f: (x: number) => Math.exp(x), df: (_x: number, y: number) => y },
  log: { onnx: "Log", f: (x: number) => Math.log(x), df: (x: number) => 1 / x },
  sqrt: { onnx: "Sqrt", f: (x: number) => Math.sqrt(x), df: (_x: number, y: number) => 0.5 / y },
  reciprocal: { onnx: "Reciprocal", f: (x: number) => 1 / x, df: (x: number) => -1 / (x * x) },
  square: { onnx: "", f: (x: number) => x * x, df: (x: number) => 2 * x },
  abs: {
    onnx: "Abs",
    f: (x: number) => Math.abs(x),
    df: (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  },
  softplus: { onnx: "Softplus", f: softplus, df: (x: number) => sigmoid(x) },
  softsign: {
    onnx: "Softsign",
    f: (x: number) => x / (1 + Math.abs(x)),
    df: (x: number) => 1 / (1 + Math.abs(x)) ** 2,
  },
  mish: {
    onnx: "Mish",
    f: mish,
    df: (x: number) => {
      const t = Math.tanh(softplus(x));
      return t + x * (1 - t * t) * sigmoid(x);
    },
  },
  elu: {
    onnx: "Elu",
    f: (x: number, _y: number, a: number) => (x > 0 ? x : a * Math.expm1(x)),
    df: (x: number, _y: number, a: number) => (x > 0 ? 1 : a * Math.exp(x)),
  },
  selu: {
    onnx: "Selu",
    f: (x: number) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
    df: (x: number) => SELU_SCALE * (x > 0 ? 1 : SELU_ALPHA * Math.exp(x)),
  },
};

const NAMES = Object.keys(UNARY_FUNCTIONS) as UnaryFunction[];
const F = UNARY_FUNCTIONS;
/** The functions the kernels compute (`activation`; float32 SIMD, within a few ulps of `f`). */
const KERNEL_FNS: ReadonlySet<UnaryFunction> = new Set(["exp", "log", "softplus", "mish"]);

/**
 * `y[i] = fn(x[i])`: one loop per function, each calling its declaration's
 * `f` from a call site of its own, so V8 inlines it (one loop for every
 * function calls through a megamorphic site: 30–100 ns an element).
 */
function mapUnary(fn: UnaryFunction, x: Float32Array, y: Float32Array, a: number): void {
  const n = x.length;
  switch (fn) {
    case "exp":
      for (let i = 0; i < n; i++) y[i] = F.exp.f(x[i]!, 0, a);
      break;
    case "log":
      for (let i = 0; i < n; i++) y[i] = F.log.f(x[i]!, 0, a);
      break;
    case "sqrt":
      for (let i = 0; i < n; i++) y[i] = F.sqrt.f(x[i]!, 0, a);
      break;
    case "reciprocal":
      for (let i = 0; i < n; i++) y[i] = F.reciprocal.f(x[i]!, 0, a);
      break;
    case "square":
      for (let i = 0; i < n; i++) y[i] = F.square.f(x[i]!, 0, a);
      break;
    case "abs":
      for (let i = 0; i < n; i++) y[i] = F.abs.f(x[i]!, 0, a);
      break;
    case "softplus":
      for (let i = 0; i < n; i++) y[i] = F.softplus.f(x[i]!, 0, a);
      break;
    case "softsign":
      for (let i = 0; i < n; i++) y[i] = F.softsign.f(x[i]!, 0, a);
      break;
    case "mish":
      for (let i = 0; i < n; i++) y[i] = F.mish.f(x[i]!, 0, a);
      break;
    case "elu":
      for (let i = 0; i < n; i++) y[i] = F.elu.f(x[i]!, 0, a);
      break;
    case "selu":
      for (let i = 0; i < n; i++) y[i] = F.selu.f(x[i]!, 0, a);
      break;
    default:
      throw new Error(`unreachable: Unary function ${fn satisfies never}`);
  }
}

const UNARY_OPTIONS = {
  fn: {
    type: NAMES.map((n) => `"${n}"`).join(" | "),
    default: "required",
    doc: "The function (see `UNARY_FUNCTIONS`).",
    read: (k: string, a: string, v: unknown) => checkOneOf(k, a, v, NAMES),
  },
  alpha: {
    type: "number",
    default: "1 (elu)",
    doc: 'ELU\'s `alpha`; only with `fn: "elu"`.',
    read: (k: string, a: string, v: unknown, all: Record<string, unknown>) => {
      if (v === undefined) return all["fn"] === "elu" ? 1 : undefined;
      if (all["fn"] !== "elu") fail(TypeError, k, a, 'absent unless fn is "elu"', v);
      return checkFinite(k, a, v);
    },
  },
} as const;

/**
 * One math function element-wise, from {@linkcode UNARY_FUNCTIONS}: `exp`,
 * `log`, `sqrt`, `reciprocal`, `square`, `abs`, `softplus`, `softsign`,
 * `mish`, `elu` (with `alpha`) and `selu` (ONNX `Exp`, `Log`, `Sqrt`,
 * `Reciprocal`, `Pow` by 2, `Abs`, `Softplus`, `Softsign`, `Mish`, `Elu`,
 * `Selu`). Out-of-domain inputs give NaN, as in PyTorch. On the WebAssembly
 * backends exp, log, softplus and mish run as SIMD kernels in float32
 * (within 1–11 ulps of the float64 formula); the others, and every function
 * on the TypeScript backend, run in float64 and round once.
 *
 * @example Usage
 * ```ts
 * import { Sequential, tensor, Unary } from "@convnet/wasm";
 * new Sequential([new Unary({ fn: "softplus" })], [2]).predict(tensor([0, 20], [1, 2])).data; // about [0.6931, 20]
 * ```
 */
export class Unary extends ElementwiseLayer {
  /** `"Unary"`. */
  readonly kind = "Unary" as const;
  /** `"Unary"`. */
  static readonly kind = "Unary" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = UNARY_OPTIONS;
  /** The function. */
  readonly fn: UnaryFunction;
  /** ELU's alpha (undefined for the others). */
  readonly alpha: number | undefined;

  /**
   * Creates a Unary.
   *
   * @param options `fn` (required), `alpha` (elu only, default 1), name.
   */
  constructor(options: { fn: UnaryFunction; alpha?: number; name?: string }) {
    const c = readOptions("Unary", UNARY_OPTIONS, options);
    super(c.name);
    this.fn = c.fn;
    this.alpha = c.alpha;
  }
  /** `y = fn(x)`. */
  protected f(x: Float32Array, y: Float32Array): void {
    mapUnary(this.fn, x, y, this.alpha ?? 1);
  }
  /** The kernel for the functions that have one (exp, log, softplus, mish), at every size. */
  protected override whole(x: Float32Array): Float32Array | null {
    return KERNEL_FNS.has(this.fn)
      ? activeKernels().activation(this.fn as ActivationKind, x)
      : null;
  }
  /** `dx = g · fn'(x)`. */
  protected df(g: Float32Array, x: Float32Array, y: Float32Array, d: Float32Array): void {
    const df = UNARY_FUNCTIONS[this.fn].df;
    const a = this.alpha ?? 1;
    for (let i = 0; i < g.length; i++) d[i] = g[i]! * df(x[i]!, y[i]!, a);
  }
}

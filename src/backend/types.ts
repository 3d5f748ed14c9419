// This module is browser compatible.

/**
 * The contract every kernel backend fulfils. Public functions validate their
 * arguments, work out the geometry and then call one of these; a backend
 * never sees an invalid shape.
 *
 * @module
 */

import type { ConvGeometry, PoolGeometry, PoolMode } from "../core/types.ts";
import type { OutputSource } from "../core/_outputs.ts";

export type { ConvGeometry, PoolGeometry, PoolMode } from "../core/types.ts";

/** The element-wise functions of {@linkcode Kernels.activation}. */
export type ActivationKind =
  | "sigmoid"
  | "tanh"
  | "erf"
  | "gelu"
  | "gelu_tanh"
  | "silu"
  | "exp"
  | "log"
  | "softplus"
  | "mish";

/** The name of a kernel backend, fastest first. */
export type Backend = "wasm-relaxed-simd" | "wasm-simd" | "js";

/**
 * One implementation of the five heavy operations. Each returns a fresh
 * array and never writes to its inputs.
 */
export interface Kernels {
  /** Which implementation this is. */
  readonly backend: Backend;
  /**
   * `z[m, outH, outW, cOut] = conv(x, w) + b`, then `max(0, z)` if `relu` is true or 1, or
   * `min(max(0, z), 6)` if it is 2 (ReLU6); NaN becomes 0.
   */
  convForward(
    g: ConvGeometry,
    x: Float32Array,
    w: Float32Array,
    b: Float32Array,
    relu?: boolean | 0 | 1 | 2,
  ): Float32Array;
  /** The gradient with respect to the input, `dx[m, inH, inW, cIn]`. */
  convBackwardData(g: ConvGeometry, dz: Float32Array, w: Float32Array): Float32Array;
  /** The gradients with respect to the filter `[f, f, cIn, cOut]` and the bias `[cOut]`. */
  convBackwardFilter(
    g: ConvGeometry,
    x: Float32Array,
    dz: Float32Array,
  ): { dW: Float32Array; db: Float32Array };
  /** `y[m, outH, outW, c]`: the maximum or mean of each window. */
  poolForward(g: PoolGeometry, x: Float32Array, mode: PoolMode): Float32Array;
  /**
   * `1 / (1 + e^−x)`, `tanh(x)`, `erf(x)`, GELU `x·(1 + erf(x/√2))/2` or its
   * tanh approximation, or SiLU `x · sigmoid(x)` (the sigmoid rounded to
   * float32 first), element-wise, into a new array (the WebAssembly
   * backends approximate exp to about 1 ulp of float32; erf is Abramowitz and
   * Stegun's, absolute error 1.5e-7, on every backend).
   */
  activation(kind: ActivationKind, x: Float32Array): Float32Array;
  /**
   * The gradient with respect to the pooling input. Max routes each window's
   * gradient to the first position (row-major within the window) that holds
   * the window's maximum; average spreads it evenly. Overlapping windows add.
   */
  poolBackward(g: PoolGeometry, x: Float32Array, dy: Float32Array, mode: PoolMode): Float32Array;
  /**
   * Values concatenated along the last axis: `rows` rows, input `k`
   * contributing `widths[k]` values to each (a channel concatenation of NHWC
   * values, a row being a pixel).
   */
  concatLast(xs: readonly Float32Array[], widths: readonly number[], rows: number): Float32Array;
  /** Values `begin … begin + width − 1` of each row of `c` (a block of channels of NHWC values). */
  sliceLast(x: Float32Array, c: number, begin: number, width: number): Float32Array;
  /**
   * The element-wise sum of same-length arrays, added left to right in
   * float32, then `max(0, ·)` if `relu` (NaN stays NaN): a residual Add.
   */
  addSame(xs: readonly Float32Array[], relu: boolean): Float32Array;
  /** Each row of `perm.length` values permuted: `y[r, k] = x[r, perm[k]]` (a channel shuffle of NHWC values). */
  permuteLast(x: Float32Array, perm: Int32Array): Float32Array;
  /**
   * BatchNorm's per-channel affine map over NHWC values of `c` channels:
   * `y = (x − mean[k]) · scale[k] + shift[k]`, each step in float64, rounded
   * to float32 once, then ReLU (`act` 1) or ReLU6 (2); NaN stays NaN. The
   * same bits on every backend.
   */
  channelAffine(
    x: Float32Array,
    c: number,
    mean: Float64Array,
    scale: Float64Array,
    shift: Float64Array,
    act: 0 | 1 | 2,
  ): Float32Array;
  /**
   * Where a prediction's outputs may stay between kernel calls (the
   * WebAssembly backends' arena in their memory), or null for JavaScript
   * arrays. Absent on backends without one.
   */
  arena?(hintBytes: number): OutputSource | null;
}

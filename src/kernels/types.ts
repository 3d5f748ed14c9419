// This module is browser compatible.

/**
 * The contract every kernel backend fulfils. Public functions validate their
 * arguments, work out the geometry and then call one of these; a backend
 * never sees an invalid shape.
 *
 * @module
 */

/** The name of a kernel backend, fastest first. */
export type Backend = "wasm-relaxed-simd" | "wasm-simd" | "js";

/** A pooling mode. */
export type PoolMode = "max" | "average";

/** The validated geometry of one convolution (NHWC input, `[f, f, cIn, cOut]` filter). */
export interface ConvGeometry {
  /** Batch size. */
  readonly m: number;
  /** Input height. */
  readonly inH: number;
  /** Input width. */
  readonly inW: number;
  /** Input channels. */
  readonly cIn: number;
  /** Filter size (square). */
  readonly f: number;
  /** Output channels (number of filters). */
  readonly cOut: number;
  /** Step between windows. */
  readonly stride: number;
  /** Zeros added on each side of height and width. */
  readonly pad: number;
  /** Output height: `floor((inH - f + 2·pad) / stride) + 1`. */
  readonly outH: number;
  /** Output width: `floor((inW - f + 2·pad) / stride) + 1`. */
  readonly outW: number;
}

/** The validated geometry of one pooling (NHWC input, square window, no padding). */
export interface PoolGeometry {
  /** Batch size. */
  readonly m: number;
  /** Input height. */
  readonly inH: number;
  /** Input width. */
  readonly inW: number;
  /** Channels (unchanged by pooling). */
  readonly c: number;
  /** Window size. */
  readonly f: number;
  /** Step between windows. */
  readonly stride: number;
  /** Output height: `floor((inH - f) / stride) + 1`. */
  readonly outH: number;
  /** Output width: `floor((inW - f) / stride) + 1`. */
  readonly outW: number;
}

/**
 * One implementation of the five heavy operations. Each returns a fresh
 * array and never writes to its inputs.
 */
export interface Kernels {
  /** Which implementation this is. */
  readonly backend: Backend;
  /** `z[m, outH, outW, cOut] = conv(x, w) + b`, then `max(0, z)` if `relu` (NaN becomes 0). */
  convForward(
    g: ConvGeometry,
    x: Float32Array,
    w: Float32Array,
    b: Float32Array,
    relu?: boolean,
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
   * The gradient with respect to the pooling input. Max routes each window's
   * gradient to the first position (row-major within the window) that holds
   * the window's maximum; average spreads it evenly. Overlapping windows add.
   */
  poolBackward(g: PoolGeometry, x: Float32Array, dy: Float32Array, mode: PoolMode): Float32Array;
}

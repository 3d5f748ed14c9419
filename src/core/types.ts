// This module is browser compatible.

/**
 * The plain data types every other module speaks: tensors, shapes and the
 * validated geometry of a convolution or a pooling. No code, no imports.
 *
 * @module
 */

/** A tensor shape: one non-negative integer per dimension, outermost first. */
export type Shape = readonly number[];

/** A rank-4 shape. Activations are `[m, height, width, channels]` (NHWC). */
export type Shape4 = readonly [number, number, number, number];

/**
 * A dense, row-major tensor of 32-bit floats.
 *
 * Activations use NHWC (`[m, height, width, channels]`) and convolution
 * filters use `[f, f, cIn, cOut]`.
 */
export interface Tensor {
  /** The size of each dimension, outermost first. */
  readonly shape: Shape;
  /** The elements in row-major order; `data.length` is the product of `shape`. */
  readonly data: Float32Array;
}

/** A tensor whose shape is known to have rank 4. */
export interface Tensor4 extends Tensor {
  /** `[m, height, width, channels]` for activations, `[f, f, cIn, cOut]` for filters. */
  readonly shape: Shape4;
}

/** A pooling mode. */
export type PoolMode = "max" | "average";

/**
 * The validated geometry of one 2-D convolution: NHWC input, filters
 * `[fH, fW, cIn / groups, cOut]`. Window `(oh, ow)` reads input row
 * `oh·strideH − padTop + kh·dilationH` and column
 * `ow·strideW − padLeft + kw·dilationW`; positions outside the input are zeros.
 * Group `g` maps input channels `[g·cIn/groups, (g+1)·cIn/groups)` to output
 * channels `[g·cOut/groups, (g+1)·cOut/groups)`.
 */
export interface ConvGeometry {
  /** Batch size. */
  readonly m: number;
  /** Input height. */
  readonly inH: number;
  /** Input width. */
  readonly inW: number;
  /** Input channels (all groups). */
  readonly cIn: number;
  /** Filter height. */
  readonly fH: number;
  /** Filter width. */
  readonly fW: number;
  /** Output channels (all groups). */
  readonly cOut: number;
  /** Step between windows, vertically. */
  readonly strideH: number;
  /** Step between windows, horizontally. */
  readonly strideW: number;
  /** Zeros above the input. */
  readonly padTop: number;
  /** Zeros below the input. */
  readonly padBottom: number;
  /** Zeros left of the input. */
  readonly padLeft: number;
  /** Zeros right of the input. */
  readonly padRight: number;
  /** Step between filter taps, vertically (1: adjacent). */
  readonly dilationH: number;
  /** Step between filter taps, horizontally. */
  readonly dilationW: number;
  /** Channel groups; `cIn` and `cOut` are multiples of it. */
  readonly groups: number;
  /** `floor((inH + padTop + padBottom − dilationH·(fH − 1) − 1) / strideH) + 1`. */
  readonly outH: number;
  /** `floor((inW + padLeft + padRight − dilationW·(fW − 1) − 1) / strideW) + 1`. */
  readonly outW: number;
}

/**
 * The validated geometry of one 2-D pooling over NHWC input. Window
 * `(oh, ow)` covers input rows `oh·strideH − padTop + kh·dilationH` (and
 * likewise columns); positions in the padding never win a maximum, and an
 * average divides by the in-bounds count unless `countIncludePad` (then by
 * the taps inside the padded input).
 */
export interface PoolGeometry {
  /** Batch size. */
  readonly m: number;
  /** Input height. */
  readonly inH: number;
  /** Input width. */
  readonly inW: number;
  /** Channels (unchanged by pooling). */
  readonly c: number;
  /** Window height. */
  readonly fH: number;
  /** Window width. */
  readonly fW: number;
  /** Step between windows, vertically. */
  readonly strideH: number;
  /** Step between windows, horizontally. */
  readonly strideW: number;
  /** Padding above. */
  readonly padTop: number;
  /** Padding below. */
  readonly padBottom: number;
  /** Padding left. */
  readonly padLeft: number;
  /** Padding right. */
  readonly padRight: number;
  /** Step between window taps, vertically. */
  readonly dilationH: number;
  /** Step between window taps, horizontally. */
  readonly dilationW: number;
  /** Whether an average counts the padding's taps in its divisor. */
  readonly countIncludePad: boolean;
  /** Output height (with `ceilMode` already applied). */
  readonly outH: number;
  /** Output width. */
  readonly outW: number;
}

/**
 * A compiled WebAssembly module: `WebAssembly.Module` wherever the type
 * environment declares it (Deno, browsers, Workers), and `object` where it
 * does not (a Node project typed with `@types/node` alone), so that this
 * library's types check in both.
 */
export type WasmModule = typeof globalThis extends {
  WebAssembly: { Module: abstract new (...args: never[]) => infer M };
} ? M
  : object;

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
 * A compiled WebAssembly module: `WebAssembly.Module` wherever the type
 * environment declares it (Deno, browsers, Workers), and `object` where it
 * does not (a Node project typed with `@types/node` alone), so that this
 * library's types check in both.
 */
export type WasmModule = typeof globalThis extends {
  WebAssembly: { Module: abstract new (...args: never[]) => infer M };
} ? M
  : object;

// This module is browser compatible.

/**
 * Validation and output-size arithmetic for convolution and pooling.
 *
 * @module
 */

import {
  checkFloat32Array,
  checkNonNegativeInt,
  checkObject,
  checkOutputSize,
  checkPositiveInt,
  checkTensor4,
} from "./_validate.ts";
import type { ConvGeometry, PoolGeometry, PoolMode } from "./types.ts";
import type { Tensor4 } from "./types.ts";

/** Convolution hyper-parameters: the step between windows and the zeros added on each side. */
export interface ConvParams {
  /** Step between windows, a positive integer. */
  readonly stride: number;
  /** Zeros added on each side of height and width, a non-negative integer. */
  readonly pad: number;
}

/** Pooling hyper-parameters: the window size and the step between windows. */
export interface PoolParams {
  /** Window size (square), a positive integer. */
  readonly f: number;
  /** Step between windows, a positive integer. */
  readonly stride: number;
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

/**
 * The output length of a convolution or pooling along one axis:
 * `floor((n + padBegin + padEnd - f) / stride) + 1`. The one place this
 * library computes it (ops, layers, benchmarks and tests call it).
 */
export function convOutputSize(
  n: number,
  f: number,
  padBegin: number,
  padEnd: number,
  stride: number,
): number {
  return Math.floor((n + padBegin + padEnd - f) / stride) + 1;
}

/**
 * The geometry of a convolution for a batch of `m` (0 for "not yet known"),
 * or a `RangeError` (prefixed with `who`) when the filter is larger than the
 * padded input.
 */
export function planConv(
  who: string,
  fArg: string,
  m: number,
  inH: number,
  inW: number,
  cIn: number,
  f: number,
  cOut: number,
  stride: number,
  pad: number,
): ConvGeometry {
  if (f > inH + 2 * pad || f > inW + 2 * pad) {
    throw new RangeError(
      `${who}: ${fArg} = ${f} must not exceed the padded input ${inH + 2 * pad}×${
        inW + 2 * pad
      } (input ${inH}×${inW}, pad ${pad})`,
    );
  }
  const outH = convOutputSize(inH, f, pad, pad, stride);
  const outW = convOutputSize(inW, f, pad, pad, stride);
  return { m, inH, inW, cIn, f, cOut, stride, pad, outH, outW };
}

/** The geometry of a pooling (no padding), or a `RangeError` when the window exceeds the input. */
export function planPool(
  who: string,
  fArg: string,
  m: number,
  inH: number,
  inW: number,
  c: number,
  f: number,
  stride: number,
): PoolGeometry {
  if (f > inH || f > inW) {
    throw new RangeError(
      `${who}: ${fArg} = ${f} must not exceed the input's height ${inH} and width ${inW}`,
    );
  }
  const outH = convOutputSize(inH, f, 0, 0, stride);
  const outW = convOutputSize(inW, f, 0, 0, stride);
  return { m, inH, inW, c, f, stride, outH, outW };
}

/** Validates convolution arguments and computes the output geometry. */
export function convGeometry(
  fn: string,
  aPrev: unknown,
  w: unknown,
  b: unknown,
  hp: unknown,
): { x: Tensor4; w: Tensor4; b: Float32Array; hp: ConvParams; g: ConvGeometry } {
  const x = checkTensor4(fn, "aPrev", aPrev);
  const wt = checkTensor4(fn, "w", w);
  const params = checkObject(fn, "hp", hp);
  const stride = checkPositiveInt(fn, "hp.stride", params["stride"]);
  const pad = checkNonNegativeInt(fn, "hp.pad", params["pad"]);
  const [m, inH, inW, cIn] = x.shape;
  const [f, f2, wcIn, cOut] = wt.shape;
  if (f !== f2) {
    throw new RangeError(
      `${fn}: w.shape must be [f, f, cIn, cOut] with a square filter, got [${wt.shape.join(", ")}]`,
    );
  }
  if (wcIn !== cIn) {
    throw new RangeError(
      `${fn}: w.shape[2] (input channels) must equal aPrev.shape[3] = ${cIn}, got ${wcIn}`,
    );
  }
  const bias = checkFloat32Array(fn, "b", b, cOut, ` (w.shape[3], the number of filters)`);
  const g = planConv(fn, "the filter size f", m, inH, inW, cIn, f, cOut, stride, pad);
  const { outH, outW } = g;
  checkOutputSize(fn, "the output", [m, outH, outW, cOut]);
  checkOutputSize(fn, "the zero-padded input", [m, inH + 2 * pad, inW + 2 * pad, cIn]);
  return {
    x,
    w: wt,
    b: bias,
    hp: { stride, pad },
    g,
  };
}

/** Validates pooling arguments and computes the output geometry. */
export function poolGeometry(
  fn: string,
  aPrev: unknown,
  hp: unknown,
): { x: Tensor4; hp: PoolParams; g: PoolGeometry } {
  const x = checkTensor4(fn, "aPrev", aPrev);
  const params = checkObject(fn, "hp", hp);
  const f = checkPositiveInt(fn, "hp.f", params["f"]);
  const stride = checkPositiveInt(fn, "hp.stride", params["stride"]);
  const [m, inH, inW, c] = x.shape;
  const g = planPool(fn, "hp.f", m, inH, inW, c, f, stride);
  return { x, hp: { f, stride }, g };
}

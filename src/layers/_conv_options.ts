// This module is browser compatible.

/**
 * The options the convolution layers share, checked once (private).
 *
 * @module
 */

import {
  checkPadding,
  checkPair,
  type Padding,
  type PadSpec,
  type Pair,
} from "../core/_geometry.ts";
import { checkPositiveInt, fail } from "../core/_validate.ts";
import { checkActivation, checkInit } from "./_util.ts";

/** Checked convolution options. */
export interface ConvOptions {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: Padding;
  readonly spec: PadSpec;
  readonly dilation: [number, number];
  readonly activation: "relu" | "relu6" | "linear";
  readonly init: "he" | "glorot";
}

/**
 * Reads `kernelSize`, `stride` (or Keras's `strides`), `padding` (default
 * `"valid"`), `dilation`, `activation` and `init` from a layer's options.
 */
export function convOptions(kind: string, o: Record<string, unknown>): ConvOptions {
  const kernelSize = checkPair(kind, "options.kernelSize", o["kernelSize"]);
  if (o["stride"] !== undefined && o["strides"] !== undefined) {
    fail(TypeError, kind, "options.strides", "absent when options.stride is given", o["strides"]);
  }
  const stride = checkPair(kind, "options.stride", o["stride"] ?? o["strides"] ?? 1);
  const padding = (o["padding"] ?? "valid") as Padding;
  const spec = checkPadding(kind, "options.padding", padding);
  const dilation = checkPair(kind, "options.dilation", o["dilation"] ?? 1);
  return {
    kernelSize,
    stride,
    padding,
    spec,
    dilation,
    activation: checkActivation(kind, o["activation"]),
    init: checkInit(kind, o["init"], "he"),
  };
}

/** A pair as stored in a model file: one number when both axes agree. */
export function pairConfig(p: readonly [number, number]): number | readonly number[] {
  return p[0] === p[1] ? p[0] : [p[0], p[1]];
}

/** A padding as stored in a model file. */
export function paddingConfig(p: Padding): string | number | readonly number[] {
  return typeof p === "string" || typeof p === "number" ? p : [...p];
}

/** Checks a `groups` option. */
export function checkGroupsOption(kind: string, v: unknown): number {
  return checkPositiveInt(kind, "options.groups", v ?? 1);
}

/** Re-exported for the layers' option types. */
export type { Padding, Pair };

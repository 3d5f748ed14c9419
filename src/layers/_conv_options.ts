// This module is browser compatible.

/**
 * The option declarations the convolution and pooling layers share
 * (private): each is read, stored and documented from here.
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
import { checkBoolean, checkPositiveInt, fail } from "../core/_validate.ts";
import { type Activation, checkActivation, checkInit } from "./_util.ts";
import type { OptionDecl } from "./_declare.ts";

/** A pair as stored in a model file: one number when both axes agree. */
export function pairConfig(p: readonly [number, number]): number | readonly number[] {
  return p[0] === p[1] ? p[0] : [p[0], p[1]];
}

/** A padding as stored in a model file. */
export function paddingConfig(p: Padding): string | number | readonly number[] {
  return typeof p === "string" || typeof p === "number" ? p : [...p];
}

/** A required `[h, w]` size (`kernelSize`). */
export const KERNEL_SIZE: OptionDecl<[number, number]> = {
  type: "number | [h, w]",
  default: "required",
  doc: "Filter size: a number (square) or `[h, w]`.",
  read: (k, a, v) => checkPair(k, a, v),
  save: pairConfig,
};

/**
 * `stride`, with Keras's `strides` as another name for it; `fallback` gives
 * the default from the other options (a pool's window).
 */
export function strideOption(
  doc: string,
  fallback: (all: Record<string, unknown>) => unknown,
  defaultDoc: string,
): OptionDecl<[number, number]> {
  return {
    type: "number | [h, w]",
    default: defaultDoc,
    doc,
    read: (k, a, v, all) => {
      if (v !== undefined && all["strides"] !== undefined) {
        fail(
          TypeError,
          k,
          "options.strides",
          "absent when options.stride is given",
          all["strides"],
        );
      }
      return checkPair(k, a, v ?? all["strides"] ?? fallback(all));
    },
    save: pairConfig,
  };
}

/** Keras's name for `stride` (read by `stride`; never stored). */
export const STRIDES: OptionDecl<undefined> = {
  type: "number | [h, w]",
  default: "—",
  doc: "Keras's name for `stride` (give one or the other).",
  read: () => undefined,
};

/** `padding`, as given (checked; `"valid"` by default). */
export function paddingOption(doc: string): OptionDecl<Padding> {
  return {
    type: 'number | [h, w] | [top, bottom, left, right] | "valid" | "same"',
    default: '"valid"',
    doc,
    read: (k, a, v) => {
      checkPadding(k, a, v ?? "valid");
      return (v ?? "valid") as Padding;
    },
    save: paddingConfig,
  };
}

/** The padding spec of a padding option already read. */
export function padSpec(p: Padding): PadSpec {
  return checkPadding("padding", "padding", p);
}

/** `dilation` (default 1). */
export function dilationOption(doc: string): OptionDecl<[number, number]> {
  return {
    type: "number | [h, w]",
    default: "1",
    doc,
    read: (k, a, v) => checkPair(k, a, v ?? 1),
    save: pairConfig,
  };
}

/** `groups` (default 1). */
export const GROUPS: OptionDecl<number> = {
  type: "number",
  default: "1",
  doc: "Channel groups: the input channels and `filters` must be multiples of it.",
  read: (k, a, v) => checkPositiveInt(k, a, v ?? 1),
};

/** A required positive integer (`filters`, `units`). */
export function countOption(doc: string): OptionDecl<number> {
  return { type: "number", default: "required", doc, read: (k, a, v) => checkPositiveInt(k, a, v) };
}

/** `activation`: a fused ReLU or ReLU6. */
export const ACTIVATION: OptionDecl<Activation> = {
  type: '"relu" | "relu6" | "linear"',
  default: '"linear"',
  doc:
    "A fused activation: `max(0, ·)` (faster than a separate `ReLU`) or `min(max(0, ·), 6)`; NaN stays NaN.",
  read: (k, _a, v) => checkActivation(k, v),
};

/** `init` with the given default. */
export function initOption(fallback: "he" | "glorot"): OptionDecl<"he" | "glorot"> {
  return {
    type: '"he" | "glorot"',
    default: `"${fallback}"`,
    doc: "Initial weights: He-normal (suits ReLU) or Glorot-uniform.",
    read: (k, _a, v) => checkInit(k, v, fallback),
  };
}

/** A boolean option with a default. */
export function booleanOption(doc: string, fallback: boolean): OptionDecl<boolean> {
  return {
    type: "boolean",
    default: String(fallback),
    doc,
    read: (k, a, v) => checkBoolean(k, a, v ?? fallback),
  };
}

/** The options every convolution layer takes. */
export const CONV_OPTIONS = {
  kernelSize: KERNEL_SIZE,
  stride: strideOption("Step between windows: a number or `[h, w]`.", () => 1, "1"),
  strides: STRIDES,
  padding: paddingOption(
    'Zeros around the input; `"same"` gives `ceil(n / stride)` pixels (an odd extra zero at the bottom and right).',
  ),
  dilation: dilationOption("Step between filter taps: a number or `[h, w]`."),
  activation: ACTIVATION,
  init: initOption("he"),
} as const;

/** Re-exported for the layers' option types. */
export type { Padding, Pair };

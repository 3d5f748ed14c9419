// This module is browser compatible.

/** Spatial geometry from Conv / ConvTranspose / pool attributes (private). */

import type { OnnxNode } from "../_context.ts";
import { type Sym, Unsupported } from "../_values.ts";

/** Our geometry: NHWC pairs, 1-D inputs as height 1. */
export interface Geometry {
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
  padding: [number, number, number, number] | "same";
}

/** Reads strides, dilations, pads, auto_pad and kernel_shape (checked against `kernel`). */
export function geometry(
  n: OnnxNode,
  x: Sym,
  kernel: number[],
  what: "conv" | "pool" | "convT",
): Geometry {
  const spatial = x.rank - 2;
  const expand = (v: number[] | null, d: number, len: number, name: string): number[] => {
    const r = v ?? new Array(len).fill(d);
    if (r.length !== len) {
      throw new Unsupported(`attribute ${name} has ${r.length} values, expected ${len}`);
    }
    const min = name === "pads" || name === "output_padding" ? 0 : 1;
    if (r.some((q) => !Number.isInteger(q) || q < min)) {
      throw new Unsupported(`attribute ${name} = [${r.join(", ")}]`);
    }
    return r;
  };
  const strides = expand(n.ints("strides"), 1, spatial, "strides");
  const dil = expand(n.ints("dilations"), 1, spatial, "dilations");
  let pads = expand(n.ints("pads"), 0, 2 * spatial, "pads");
  const autoPad = n.str("auto_pad", "NOTSET");
  let same = false;
  if (autoPad === "VALID") pads = new Array(2 * spatial).fill(0);
  else if (autoPad === "SAME_UPPER" && what !== "convT") same = true;
  else if (autoPad !== "NOTSET") throw new Unsupported(`attribute auto_pad="${autoPad}"`);
  const ks = n.ints("kernel_shape");
  if (ks && (ks.length !== kernel.length || ks.some((k, i) => k !== kernel[i]))) {
    throw new Unsupported(
      `kernel_shape [${ks.join(", ")}] differs from the weights' [${kernel.join(", ")}]`,
    );
  }
  const two = (v: number[], one: number): [number, number] =>
    spatial === 1 ? [one, v[0]!] : [v[0]!, v[1]!];
  const padding: [number, number, number, number] = spatial === 1
    ? [0, 0, pads[0]!, pads[1]!]
    : [pads[0]!, pads[2]!, pads[1]!, pads[3]!];
  return {
    kernel: two(kernel, 1),
    stride: two(strides, 1),
    dilation: two(dil, 1),
    padding: same ? "same" : padding,
  };
}

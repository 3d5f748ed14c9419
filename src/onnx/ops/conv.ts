// This module is browser compatible.

/** Conv and ConvTranspose (private). */

import { Conv2D, Conv2DTranspose } from "../../layers/conv2d.ts";
import { oihwToHwio } from "../../core/_layout.ts";
import type { Const } from "../_const.ts";
import type { ImportContext, OnnxNode } from "../_context.ts";
import { onnxShape, type Sym, Unsupported } from "../_values.ts";
import { geometry } from "./_geometry.ts";
import type { OnnxOp } from "./_op.ts";

/** The input, the weights `[O, I, k...]` (of the input's rank) and the bias (zeros when absent). */
function operands(ctx: ImportContext, n: OnnxNode, biasLen: (dims: number[]) => number) {
  const x = ctx.sym(n.ins[0], "the input");
  if (x.rank === 2) throw new Unsupported("a 2-D input");
  const W = ctx.constant(n.ins[1], "the weights");
  if (W.dims.length !== x.rank) {
    throw new Unsupported(`weights of shape [${W.dims.join(", ")}] for a ${x.rank}-D input`);
  }
  const M = biasLen(W.dims);
  const b = n.ins[2]
    ? Float32Array.from(ctx.floats(ctx.constant(n.ins[2], "the bias"), "the bias", [M]))
    : new Float32Array(M);
  return { x, W, b };
}

/** ONNX weights `[O, I, kH, kW]` (or `[O, I, L]`) → ours `[kH, kW, I, O]`. */
function hwio(ctx: ImportContext, W: Const, x: Sym): Float32Array {
  const [O, I] = W.dims as [number, number];
  const [kH, kW] = x.rank === 3 ? [1, W.dims[2]!] : [W.dims[2]!, W.dims[3]!];
  return oihwToHwio(ctx.floats(W, "the weights"), [O, I, kH, kW]);
}

export const CONV_OPS: readonly OnnxOp[] = [
  {
    op: "Conv",
    doc: "1-D and 2-D, any stride, dilation, padding (SAME_UPPER too) and group",
    import(ctx, n) {
      n.attrs(["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"]);
      const { x, W, b } = operands(ctx, n, (d) => d[0]!);
      const [M, Cg] = W.dims as [number, number];
      const C = onnxShape(x)[0]!, group = n.int("group", 1);
      if (group < 1 || C % group || M % group || Cg !== C / group) {
        throw new Unsupported(
          `group ${group} with ${C} input channels and weights [${W.dims.join(", ")}]`,
        );
      }
      const geo = geometry(n, x, W.dims.slice(2), "conv");
      const layer = new Conv2D({
        filters: M,
        kernelSize: geo.kernel,
        stride: geo.stride,
        padding: geo.padding,
        dilation: geo.dilation,
        groups: group,
        name: n.layerName(),
      });
      n.out(ctx.plain(ctx.apply(layer, x, [hwio(ctx, W, x), b]), x.rank));
    },
  },
  {
    op: "ConvTranspose",
    doc: "1-D and 2-D, with pads and output_padding (not output_shape), any group",
    import(ctx, n) {
      n.attrs([
        "auto_pad",
        "dilations",
        "group",
        "kernel_shape",
        "pads",
        "strides",
        "output_padding",
        "output_shape",
      ]);
      if (n.attr("output_shape")) {
        throw new Unsupported("attribute output_shape (give pads and output_padding instead)");
      }
      const group = n.int("group", 1);
      const { x, W, b } = operands(ctx, n, (d) => d[1]! * group);
      const [C, Mg] = W.dims as [number, number];
      if (C !== onnxShape(x)[0] || group < 1 || C % group) {
        throw new Unsupported(
          `group ${group} with ${onnxShape(x)[0]} input channels and weights [${
            W.dims.join(", ")
          }]`,
        );
      }
      const geo = geometry(n, x, W.dims.slice(2), "convT");
      const opad = n.ints("output_padding") ?? new Array(x.rank - 2).fill(0);
      if (opad.length !== x.rank - 2) throw new Unsupported(`output_padding [${opad.join(", ")}]`);
      const outputPadding: [number, number] = x.rank === 3 ? [0, opad[0]!] : [opad[0]!, opad[1]!];
      // ONNX [C, M/g, kH, kW] → ours [kH, kW, M/g, C]: the same permutation.
      const layer = new Conv2DTranspose({
        filters: Mg * group,
        kernelSize: geo.kernel,
        stride: geo.stride,
        padding: geo.padding,
        dilation: geo.dilation,
        groups: group,
        outputPadding,
        name: n.layerName(),
      });
      n.out(ctx.plain(ctx.apply(layer, x, [hwio(ctx, W, x), b]), x.rank));
    },
  },
];

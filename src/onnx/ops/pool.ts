// This module is browser compatible.

/** Pooling and reductions (private). */

import { AvgPool2D, GlobalAvgPool2D, GlobalMaxPool2D, MaxPool2D } from "../../layers/pool2d.ts";
import { ScaleShift } from "../../layers/activations.ts";
import { ReduceChannels } from "../../layers/reduce.ts";
import { axis } from "../_const.ts";
import type { ImportContext, OnnxNode } from "../_context.ts";
import { Unsupported } from "../_values.ts";
import { geometry } from "./_geometry.ts";
import type { OnnxOp } from "./_op.ts";

function pool(ctx: ImportContext, n: OnnxNode, isMax: boolean): void {
  n.attrs([
    "auto_pad",
    "ceil_mode",
    "dilations",
    "kernel_shape",
    "pads",
    "strides",
    isMax ? "storage_order" : "count_include_pad",
  ]);
  if (n.outputs[1] && ctx.consumers.get(n.outputs[1])?.length) {
    throw new Unsupported("its Indices output is used");
  }
  const x = ctx.sym(n.ins[0], "the input");
  if (x.rank === 2) throw new Unsupported("a 2-D input");
  const ks = n.ints("kernel_shape");
  if (!ks || ks.length !== x.rank - 2 || ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new Unsupported(`kernel_shape ${ks ? `[${ks.join(", ")}]` : "missing"}`);
  }
  const geo = geometry(n, x, ks, "pool");
  const opts = {
    poolSize: geo.kernel,
    stride: geo.stride,
    padding: geo.padding,
    dilation: geo.dilation,
    ceilMode: n.int("ceil_mode", 0) === 1,
    name: n.layerName(),
  };
  const layer = isMax
    ? new MaxPool2D(opts)
    : new AvgPool2D({ ...opts, countIncludePad: n.int("count_include_pad", 0) === 1 });
  n.out(ctx.plain(ctx.apply(layer, x), x.rank));
}

function globalPool(ctx: ImportContext, n: OnnxNode, isMax: boolean): void {
  n.attrs([]);
  const x = ctx.sym(n.ins[0], "the input");
  if (x.rank === 2) throw new Unsupported("a 2-D input (global pooling needs [N, C, ...])");
  const name = n.layerName();
  const l = isMax
    ? new GlobalMaxPool2D({ keepDims: true, name })
    : new GlobalAvgPool2D({ keepDims: true, name });
  n.out(ctx.plain(ctx.apply(l, x), x.rank));
}

/**
 * ReduceMean / ReduceMax / ReduceSum over the spatial axes (a global pool;
 * a sum is the mean scaled by the count) or over the channels, kept
 * (`ReduceChannels`: ONNX's axis 1 of a map, the last axis of an NHWC view).
 */
function reduce(ctx: ImportContext, n: OnnxNode, kind: "mean" | "max" | "sum"): void {
  const fromInput = kind === "sum" ? n.opset >= 13 : n.opset >= 18;
  n.attrs(fromInput ? ["keepdims", "noop_with_empty_axes"] : ["axes", "keepdims"]);
  const x = ctx.sym(n.ins[0], "the input", true);
  const given = fromInput ? (n.ins[1] ? ctx.numbers(n.ins[1], "axes") : null) : n.ints("axes");
  if (!given || given.length === 0) {
    throw new Unsupported(
      `${n.op} over every axis (the spatial axes, or the channels, are supported)`,
    );
  }
  const axes = given.map((v) => axis(v, x.rank)).sort();
  const keep = n.int("keepdims", 1) === 1;
  const channels = x.nhwc ? x.rank - 1 : 1;
  if (String(axes) === String(channels)) {
    if (!keep) throw new Unsupported(`${n.op} over the channels without keepdims`);
    const layer = new ReduceChannels({ op: kind, name: n.layerName() });
    // Over all of [N, F] the flatten order does not matter.
    if (x.rank === 2) return n.out(ctx.plain(ctx.apply(layer, x), 2));
    return ctx.applyLike(n, layer, x);
  }
  const spatial = x.rank === 4 ? [2, 3] : x.rank === 3 ? [2] : [];
  if (x.nhwc || axes.some((v) => v === null) || String(axes) !== String(spatial)) {
    throw new Unsupported(
      `${n.op} over axes [${given.join(", ")}] of a ${x.rank}-D ${
        x.nhwc ? "NHWC " : ""
      }tensor (the spatial axes [${spatial.join(", ")}], or the channels, are supported)`,
    );
  }
  const name = n.layerName();
  const pooled = kind === "max"
    ? new GlobalMaxPool2D({ keepDims: keep, name })
    : new GlobalAvgPool2D({ keepDims: keep, name });
  let t = ctx.apply(pooled, x);
  if (kind === "sum") {
    const count = x.t.shape[0]! * x.t.shape[1]!;
    t = ctx.apply(
      new ScaleShift({ scale: count, name: `${name}/sum` }),
      ctx.plain(t, keep ? x.rank : 2),
    );
  }
  n.out(ctx.plain(t, keep ? x.rank : 2));
}

export const POOL_OPS: readonly OnnxOp[] = [
  {
    op: "MaxPool",
    doc: "1-D and 2-D, with padding, dilation, ceil_mode (not the Indices output)",
    import: (ctx, n) => pool(ctx, n, true),
  },
  {
    op: "AveragePool",
    doc: "1-D and 2-D, with padding, count_include_pad, ceil_mode",
    import: (ctx, n) => pool(ctx, n, false),
  },
  {
    op: "GlobalAveragePool",
    doc: "of a map",
    import: (ctx, n) => globalPool(ctx, n, false),
  },
  {
    op: "GlobalMaxPool",
    doc: "of a map",
    import: (ctx, n) => globalPool(ctx, n, true),
  },
  {
    op: "ReduceMean",
    doc: "over the spatial axes (keepdims or not), or over the channels (keepdims)",
    import: (ctx, n) => reduce(ctx, n, "mean"),
  },
  {
    op: "ReduceMax",
    doc: "over the spatial axes (keepdims or not), or over the channels (keepdims)",
    import: (ctx, n) => reduce(ctx, n, "max"),
  },
  {
    op: "ReduceSum",
    doc: "over the spatial axes (keepdims or not), or over the channels (keepdims)",
    import: (ctx, n) => reduce(ctx, n, "sum"),
  },
];

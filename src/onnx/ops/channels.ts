// This module is browser compatible.

/** Slice and Split (private): of the channels of a computed tensor, or folded. */

import { ChannelSlice } from "../../layers/channels.ts";
import { axis, slice } from "../_const.ts";
import type { ImportContext, OnnxNode } from "../_context.ts";
import { onnxShape, Unsupported } from "../_values.ts";
import type { OnnxOp } from "./_op.ts";

/** starts, ends, axes, steps: from inputs (opset 10 on) or attributes (before). */
function sliceArgs(ctx: ImportContext, n: OnnxNode) {
  if (n.opset < 10) {
    const starts = n.ints("starts"), ends = n.ints("ends");
    if (!starts || !ends) throw new Unsupported("a Slice without starts or ends");
    return { starts, ends, axes: n.ints("axes") ?? starts.map((_, i) => i), steps: null };
  }
  const get = (k: number, what: string) => (n.ins[k] ? ctx.numbers(n.ins[k], what) : null);
  const starts = get(1, "starts"), ends = get(2, "ends");
  if (!starts || !ends) throw new Unsupported("a Slice without starts or ends");
  return { starts, ends, axes: get(3, "axes") ?? starts.map((_, i) => i), steps: get(4, "steps") };
}

export const CHANNEL_OPS: readonly OnnxOp[] = [
  {
    op: "Slice",
    doc: "of the channels of a computed tensor (step 1); folded",
    import(ctx, n) {
      n.attrs(n.opset < 10 ? ["starts", "ends", "axes"] : []);
      const { starts, ends, axes, steps: st } = sliceArgs(ctx, n);
      const steps = st ?? starts.map(() => 1);
      const v = n.ins[0];
      if (v?.kind === "const") {
        const r = slice(v.c, starts, ends, axes, steps);
        if (typeof r === "string") throw new Unsupported(`constant Slice: ${r}`);
        return n.out({ kind: "const", c: r });
      }
      const x = ctx.sym(v, "the input");
      const c = onnxShape(x)[0]!;
      if (
        axes.length !== 1 || axis(axes[0]!, x.rank) !== 1 || steps[0] !== 1 || x.hwcFrom
      ) {
        throw new Unsupported(
          `a slice of a computed tensor along axes [${axes.join(", ")}] with steps [${
            steps.join(", ")
          }] (channels, step 1, are supported)`,
        );
      }
      const clampIdx = (q: number) => Math.max(0, Math.min(c, q < 0 ? q + c : q));
      const begin = clampIdx(starts[0]!), end = clampIdx(ends[0]!);
      if (end <= begin) {
        throw new Unsupported(`an empty slice of channels [${starts[0]}, ${ends[0]})`);
      }
      if (begin === 0 && end === c) return n.out(x);
      const layer = new ChannelSlice({ begin, end, name: n.layerName() });
      n.out(ctx.plain(ctx.apply(layer, x), x.rank));
    },
  },
  {
    op: "Split",
    doc: "along the channels: one ChannelSlice per output",
    import(ctx, n) {
      const fromInput = n.opset >= 13;
      n.attrs(fromInput ? ["axis", "num_outputs"] : ["axis", "split"]);
      const x = ctx.sym(n.ins[0], "the input");
      if (axis(n.int("axis", 0), x.rank) !== 1 || x.hwcFrom) {
        throw new Unsupported("a split along an axis other than the channels (1)");
      }
      const c = onnxShape(x)[0]!, k = n.outputs.length;
      let parts = fromInput ? (n.ins[1] ? ctx.numbers(n.ins[1], "split") : null) : n.ints("split");
      if (!parts) {
        const per = Math.ceil(c / k);
        parts = Array.from({ length: k }, (_, i) => Math.max(0, Math.min(per, c - i * per)));
      }
      if (
        parts.length !== k || parts.reduce((p, v) => p + v, 0) !== c || parts.some((v) => v <= 0)
      ) {
        throw new Unsupported(`a split of ${c} channels into [${parts.join(", ")}]`);
      }
      let at = 0;
      const base = n.layerName();
      parts.forEach((w, i) => {
        const layer = new ChannelSlice({ begin: at, end: at + w, name: `${base}/${i}` });
        at += w;
        n.out(ctx.plain(ctx.apply(layer, x), x.rank), i);
      });
    },
  },
];

// This module is browser compatible.

/** Pad (private): constant padding of height and width. */

import { Pad2D } from "../../layers/pad2d.ts";
import { axis, size } from "../_const.ts";
import { Unsupported } from "../_values.ts";
import type { OnnxOp } from "./_op.ts";

export const PAD_OPS: readonly OnnxOp[] = [
  {
    op: "Pad",
    doc: "constant mode, of the spatial axes (pads and value as attributes or inputs, axes too)",
    import(ctx, n) {
      n.attrs(["mode", "pads", "value"]);
      const mode = n.str("mode", "constant");
      if (mode !== "constant") throw new Unsupported(`mode "${mode}" (constant is supported)`);
      const x = ctx.sym(n.ins[0], "the input");
      if (x.rank === 2) throw new Unsupported("a 2-D input");
      let pads = n.ins[1] ? ctx.numbers(n.ins[1], "pads") : n.ints("pads");
      if (!pads) throw new Unsupported("no pads");
      let value = n.float("value", 0);
      if (n.ins[2]) {
        const c = ctx.constant(n.ins[2], "constant_value");
        if (size(c.dims) !== 1) throw new Unsupported("a constant_value that is not a scalar");
        value = Number(c.data[0]);
      }
      const r = x.rank;
      if (n.ins[3]) {
        const axes = ctx.numbers(n.ins[3], "axes").map((q) => axis(q, r));
        if (axes.some((q) => q === null) || pads.length !== 2 * axes.length) {
          throw new Unsupported("axes");
        }
        const full = new Array(2 * r).fill(0), given = pads;
        axes.forEach((q, i) => {
          full[q!] = given[i];
          full[q! + r] = given[i + axes.length];
        });
        pads = full;
      }
      if (pads.length !== 2 * r) throw new Unsupported(`${pads.length} pads for a ${r}-D input`);
      if (pads[0] || pads[1] || pads[r] || pads[r + 1]) {
        throw new Unsupported("padding of the batch or channel axis");
      }
      if (pads.some((p) => p < 0)) {
        throw new Unsupported(`negative pads [${pads.join(", ")}] (cropping)`);
      }
      if (!Number.isFinite(value)) throw new Unsupported(`value ${value}`);
      const padding: [number, number, number, number] = r === 4
        ? [pads[2]!, pads[6]!, pads[3]!, pads[7]!]
        : [0, 0, pads[2]!, pads[5]!];
      const layer = new Pad2D({ padding, value, name: n.layerName() });
      n.out(ctx.plain(ctx.apply(layer, x), r));
    },
  },
];

// This module is browser compatible.

/**
 * Graph plumbing and constant folding (private): Constant, Identity,
 * Dropout (inference), Cast, Shape, Gather, ConstantOfShape, and the
 * comparisons and Where that exporters build shapes with.
 */

import { arith, axis, type Const, gather, MAX_FOLD, size, where } from "../_const.ts";
import { DT, DT_NAMES } from "../_schema.ts";
import type { OnnxNode } from "../_context.ts";
import { onnxShape, Unsupported } from "../_values.ts";
import type { OnnxOp } from "./_op.ts";

function folded(n: OnnxNode, r: Const | string): void {
  if (typeof r === "string") throw new Unsupported(`constant ${n.op}: ${r}`);
  if (size(r.dims) > MAX_FOLD) {
    throw new Unsupported(`a folded constant of ${size(r.dims)} elements`);
  }
  n.out({ kind: "const", c: r });
}

function constants(n: OnnxNode): Const[] {
  return n.ins.map((v, i) => {
    if (v?.kind === "const") return v.c;
    throw new Unsupported(
      `${n.op} of a tensor computed at run time (input ${i}; only its constant form folds)`,
    );
  });
}

/** A comparison that folds: 1 where true, 0 where false. */
function compare(op: "Equal" | "Less" | "Greater"): OnnxOp {
  return {
    op,
    doc: "folded",
    import(_ctx, n) {
      n.attrs([]);
      const [a, b] = constants(n);
      folded(n, arith(op, a!, b!));
    },
  };
}

export const FOLD_OPS: readonly OnnxOp[] = [
  {
    op: "Constant",
    doc: "value, value_float(s), value_int(s)",
    import(ctx, n) {
      n.attrs(["value", "value_float", "value_floats", "value_int", "value_ints"]);
      const v = n.attr("value");
      if (v?.t) return n.out(ctx.tensorVal(v.t, `node "${n.label}" value`));
      const f = n.attr("value_float"), fs = n.attr("value_floats");
      const i = n.attr("value_int"), is = n.attr("value_ints");
      const c = (dims: number[], data: number[] | Float32Array, isInt: boolean) =>
        n.out({ kind: "const", c: { dims, data, isInt } });
      if (f?.f !== undefined) return c([], Float32Array.of(f.f), false);
      if (fs) return c([fs.floats.length], Float32Array.from(fs.floats), false);
      if (i?.i !== undefined) return c([], [i.i], true);
      if (is) return c([is.ints.length], [...is.ints], true);
      throw new Unsupported("a Constant without a tensor, float(s) or int(s) value");
    },
  },
  {
    op: "Identity",
    doc: "",
    sameShape: true,
    import(_ctx, n) {
      n.attrs([]);
      n.out(n.ins[0]!);
    },
  },
  {
    op: "Dropout",
    doc: "inference (its mask unused)",
    sameShape: true,
    import(ctx, n) {
      n.attrs(["seed", "ratio", "is_test"]);
      if (n.outputs[1] && ctx.consumers.get(n.outputs[1])?.length) {
        throw new Unsupported("its mask output is used");
      }
      if (n.ins[2]?.kind === "const" && n.ins[2].c.data[0]) {
        throw new Unsupported("training_mode is true");
      }
      n.out(n.ins[0]!);
    },
  },
  {
    op: "Cast",
    doc: "of a computed tensor to float; folded",
    sameShape: true,
    import(_ctx, n) {
      n.attrs(["to", "saturate"]);
      const x = n.ins[0], to = n.int("to", 0);
      if (x?.kind === "sym") {
        if (to !== DT.FLOAT) {
          throw new Unsupported("a cast of a computed tensor to a type other than FLOAT");
        }
        return n.out(x);
      }
      if (x?.kind !== "const") throw new Unsupported("a cast of this value");
      const toInt = to === DT.INT64 || to === DT.INT32 || to === DT.BOOL;
      if (!toInt && to !== DT.FLOAT && to !== DT.DOUBLE) {
        throw new Unsupported(`a cast to ${DT_NAMES[to] ?? to}`);
      }
      const c = x.c;
      folded(
        n,
        toInt
          ? {
            dims: c.dims,
            data: [...c.data].map((v) =>
              Number.isNaN(v) ? v : to === DT.BOOL ? (v ? 1 : 0) : Math.trunc(v)
            ),
            isInt: true,
          }
          : { dims: c.dims, data: Float32Array.from(c.data), isInt: false },
      );
    },
  },
  {
    op: "Shape",
    doc: "of anything (the batch stays unknown); start and end",
    import(ctx, n) {
      n.attrs(["start", "end"]);
      const v = n.ins[0]!;
      const dims = v.kind === "const"
        ? [...v.c.dims]
        : [NaN, ...onnxShape(ctx.sym(v, "the input"))];
      const r = dims.length;
      const clampAx = (q: number) => Math.min(Math.max(q < 0 ? q + r : q, 0), r);
      const s = clampAx(n.int("start", 0)), e = clampAx(n.int("end", r));
      const d = dims.slice(s, Math.max(s, e));
      n.out({ kind: "const", c: { dims: [d.length], data: d, isInt: true } });
    },
  },
  {
    op: "Gather",
    doc: "folded",
    import(_ctx, n) {
      n.attrs(["axis"]);
      const [c, idx] = constants(n);
      const ax = axis(n.int("axis", 0), c!.dims.length);
      folded(n, ax === null ? "axis out of range" : gather(c!, idx!, ax));
    },
  },
  {
    op: "ConstantOfShape",
    doc: "folded",
    import(_ctx, n) {
      n.attrs(["value"]);
      const [shape] = constants(n);
      const dims = [...shape!.data].map(Number);
      if (dims.some((d) => !Number.isInteger(d) || d < 0) || size(dims) > MAX_FOLD) {
        throw new Unsupported(`ConstantOfShape of [${dims.join(", ")}]`);
      }
      const t = n.attr("value")?.t;
      const fill = t?.values ? Number(t.values[0] ?? 0) : 0;
      const isInt = t ? t.dataType === DT.INT64 || t.dataType === DT.INT32 : false;
      const k = size(dims);
      folded(n, {
        dims,
        data: isInt ? new Array(k).fill(fill) : new Float32Array(k).fill(fill),
        isInt,
      });
    },
  },
  compare("Equal"),
  compare("Less"),
  compare("Greater"),
  {
    op: "Where",
    doc: "folded",
    import(_ctx, n) {
      n.attrs([]);
      const [c, a, b] = constants(n);
      folded(n, where(c!, a!, b!));
    },
  },
];

// This module is browser compatible.

/** Element-wise math functions, Pow by a constant, Neg and PRelu (private). */

import { Unary, UNARY_FUNCTIONS, type UnaryFunction } from "../../layers/unary.ts";
import { ScaleShift } from "../../layers/activations.ts";
import { PReLU } from "../../layers/prelu.ts";
import { arith, size } from "../_const.ts";
import { Unsupported } from "../_values.ts";
import type { OnnxOp } from "./_op.ts";

const SELU_ALPHA = 1.67326319217681884765625, SELU_GAMMA = 1.05070102214813232421875;

/** The function of {@linkcode UNARY_FUNCTIONS} whose ONNX name is `op`. */
function unaryOp(fn: UnaryFunction): OnnxOp {
  const op = UNARY_FUNCTIONS[fn].onnx!;
  return {
    op,
    doc: op === "Selu" ? "the standard constants" : op === "Elu" ? "any alpha" : "",
    sameShape: true,
    import(ctx, n) {
      let alpha: number | undefined;
      if (op === "Elu") {
        n.attrs(["alpha"]);
        alpha = n.float("alpha", 1);
      } else if (op === "Selu") {
        n.attrs(["alpha", "gamma"]);
        const al = n.float("alpha", SELU_ALPHA), ga = n.float("gamma", SELU_GAMMA);
        if (Math.abs(al - SELU_ALPHA) > 1e-6 || Math.abs(ga - SELU_GAMMA) > 1e-6) {
          throw new Unsupported(
            `Selu with alpha ${al}, gamma ${ga} (the standard constants are supported)`,
          );
        }
      } else n.attrs([]);
      const x = ctx.sym(n.ins[0], "the input", true);
      const layer = new Unary({
        fn,
        ...(alpha !== undefined ? { alpha } : {}),
        name: n.layerName(),
      });
      ctx.applyLike(n, layer, x);
    },
  };
}

/** Pow exponents that are one of our functions. */
const POW: Readonly<Record<number, UnaryFunction>> = {
  2: "square",
  0.5: "sqrt",
  [-1]: "reciprocal",
};

export const UNARY_OPS: readonly OnnxOp[] = [
  ...(Object.keys(UNARY_FUNCTIONS) as UnaryFunction[])
    .filter((fn) => UNARY_FUNCTIONS[fn].onnx && UNARY_FUNCTIONS[fn].onnx !== "Pow")
    .map(unaryOp),
  {
    op: "Pow",
    doc: "by a constant 2, 0.5, −1 or 1; folded",
    sameShape: true,
    import(ctx, n) {
      n.attrs([]);
      const [b, e] = n.ins;
      if (b?.kind === "const" && e?.kind === "const") {
        const r = arith("Pow", b.c, e.c);
        if (typeof r === "string") throw new Unsupported(`constant Pow: ${r}`);
        return n.out({ kind: "const", c: r });
      }
      const x = ctx.sym(b, "the base", true);
      const c = ctx.constant(e, "the exponent");
      if (size(c.dims) !== 1) throw new Unsupported("a Pow by a tensor of exponents");
      const p = Number(c.data[0]);
      if (p === 1) return n.out(x);
      const fn = POW[p];
      if (!fn) throw new Unsupported(`a Pow by ${p} (2, 0.5, -1 and 1 are supported)`);
      ctx.applyLike(n, new Unary({ fn, name: n.layerName() }), x);
    },
  },
  {
    op: "Neg",
    doc: "",
    sameShape: true,
    import(ctx, n) {
      n.attrs([]);
      const x = ctx.sym(n.ins[0], "the input", true);
      ctx.applyLike(n, new ScaleShift({ scale: -1, name: n.layerName() }), x);
    },
  },
  {
    op: "PRelu",
    doc: "a constant slope: one, or one per channel",
    sameShape: true,
    import(ctx, n) {
      n.attrs([]);
      const x = ctx.sym(n.ins[0], "the input", true);
      const c = ctx.constant(n.ins[1], "the slope");
      const per = size(c.dims) === 1 ? null : ctx.channelConst(x, c);
      if (size(c.dims) !== 1 && !per) {
        throw new Unsupported(
          `a slope of shape [${c.dims.join(", ")}] (one, or one per channel, is supported)`,
        );
      }
      const slope = Float32Array.from(per ?? ctx.floats(c, "the slope"));
      ctx.applyLike(n, new PReLU({ perChannel: per !== null, name: n.layerName() }), x, [slope]);
    },
  },
];

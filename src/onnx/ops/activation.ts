// This module is browser compatible.

/** Activations (private): each one layer, element-wise on any layout but Softmax. */

import type { Layer } from "../../layers/layer.ts";
import { ReLU } from "../../layers/relu.ts";
import {
  Clip,
  Erf,
  Gelu,
  HardSigmoid,
  HardSwish,
  LeakyReLU,
  ReLU6,
  Sigmoid,
  SiLU,
  Softmax,
  Tanh,
} from "../../layers/activations.ts";
import { axis, size } from "../_const.ts";
import type { ImportContext, OnnxNode } from "../_context.ts";
import { onnxShape, Unsupported } from "../_values.ts";
import type { OnnxOp } from "./_op.ts";

/** An element-wise activation: `make(name)` applied to the node's input, laid out like it. */
function act(
  op: string,
  doc: string,
  make: (ctx: ImportContext, n: OnnxNode, name: () => string) => Layer | null,
  attrs: readonly string[] = [],
): OnnxOp {
  return {
    op,
    doc,
    sameShape: true,
    import(ctx, n) {
      n.attrs(attrs);
      const x = ctx.sym(n.ins[0], "the input", true);
      const layer = make(ctx, n, () => n.layerName());
      if (layer) ctx.applyLike(n, layer, x);
    },
  };
}

/**
 * When the node's only reader is a Mul by the node's own input `x`
 * (`x · f(x)`), makes both one `kind` layer (HardSwish, SiLU) and returns true.
 */
function gatedBy(ctx: ImportContext, n: OnnxNode, kind: "HardSwish" | "SiLU"): boolean {
  const xName = n.proto.inputs[0]!, x = ctx.vals.get(xName), mul = n.next();
  if (x?.kind !== "sym" || !mul || mul.node.opType !== "Mul" || mul.node.domain !== "") {
    return false;
  }
  if (mul.node.inputs[1 - mul.slot] !== xName) return false;
  n.absorb(mul.node);
  const name = n.layerName();
  ctx.applyLike(n, kind === "HardSwish" ? new HardSwish({ name }) : new SiLU({ name }), x);
  return true;
}

/** A Clip bound: from input `k` (opset 11 on) or the attribute (before). */
function bound(ctx: ImportContext, n: OnnxNode, k: number, attr: string, d: number): number {
  if (n.ins[k]) {
    const c = ctx.constant(n.ins[k], `the ${attr} bound`);
    if (size(c.dims) !== 1) {
      throw new Unsupported(`a ${attr} bound of shape [${c.dims.join(", ")}]`);
    }
    return Number(c.data[0]);
  }
  return n.float(attr, d);
}

export const ACTIVATION_OPS: readonly OnnxOp[] = [
  act("Relu", "", (_c, _n, name) => new ReLU({ name: name() })),
  // x · sigmoid(x) (SiLU, efficientnet's activation): one SiLU.
  act(
    "Sigmoid",
    "`x · Sigmoid(x)` becomes one SiLU",
    (ctx, n, name) => (gatedBy(ctx, n, "SiLU") ? null : new Sigmoid({ name: name() })),
  ),
  act("Tanh", "", (_c, _n, name) => new Tanh({ name: name() })),
  act("HardSwish", "", (_c, _n, name) => new HardSwish({ name: name() })),
  act("LeakyRelu", "a slope in [0, 1)", (_c, n, name) => {
    const alpha = n.float("alpha", 0.01);
    if (!(alpha >= 0 && alpha < 1)) {
      throw new Unsupported(`alpha ${alpha} (a slope in [0, 1) is supported)`);
    }
    return new LeakyReLU({ alpha, name: name() });
  }, ["alpha"]),
  act(
    "HardSigmoid",
    "`x · HardSigmoid(x)` with PyTorch's constants becomes one HardSwish",
    (ctx, n, name) => {
      // x · HardSigmoid(x) with PyTorch's 1/6 and 1/2 (hardswish at opset 13): one HardSwish.
      const alpha = n.float("alpha", 0.2), beta = n.float("beta", 0.5);
      if (
        Math.abs(alpha - 1 / 6) < 1e-6 && Math.abs(beta - 0.5) < 1e-6 &&
        gatedBy(ctx, n, "HardSwish")
      ) {
        return null;
      }
      return new HardSigmoid({ alpha, beta, name: name() });
    },
    ["alpha", "beta"],
  ),
  act("Clip", "constant bounds (attributes or inputs); [0, 6] is ReLU6", (ctx, n, name) => {
    const lo = bound(ctx, n, 1, "min", -Infinity), hi = bound(ctx, n, 2, "max", Infinity);
    if (Number.isNaN(lo) || Number.isNaN(hi) || hi < lo) {
      throw new Unsupported(`bounds [${lo}, ${hi}]`);
    }
    return lo === 0 && hi === 6
      ? new ReLU6({ name: name() })
      : lo === 0 && hi === Infinity
      ? new ReLU({ name: name() })
      : new Clip({ min: lo, max: hi, name: name() });
  }, ["min", "max"]),
  act("Erf", "", (_c, _n, name) => new Erf({ name: name() })),
  act("Gelu", "exact and tanh (opset 20; the exported erf pattern too)", (_c, n, name) => {
    const approximate = n.str("approximate", "none");
    if (approximate !== "none" && approximate !== "tanh") {
      throw new Unsupported(`approximate "${approximate}"`);
    }
    return new Gelu({ approximate, name: name() });
  }, ["approximate"]),
  {
    op: "Softmax",
    doc: "over the channels",
    sameShape: true,
    import(ctx, n) {
      n.attrs(["axis"]);
      const x = ctx.sym(n.ins[0], "the input");
      const given = n.int("axis", n.opset < 13 ? 1 : -1), ax = axis(given, x.rank);
      const ok = ax === 1 &&
        (n.opset >= 13 || x.rank === 2 || size(onnxShape(x).slice(1)) === 1);
      const okLast = ax === x.rank - 1 && x.rank === 2;
      if (!ok && !okLast) {
        throw new Unsupported(
          `softmax over axis ${given} of a ${x.rank}-D tensor (over the channels is supported)`,
        );
      }
      ctx.applyLike(n, new Softmax({ name: n.layerName() }), x);
    },
  },
];

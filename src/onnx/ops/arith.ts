// This module is browser compatible.

/** Add, Sub, Mul, Div (private): folded, by a constant, or between computed tensors with broadcasting. */

import { Add, Divide, Multiply, Subtract } from "../../layers/merge.ts";
import { DepthwiseConv2D } from "../../layers/conv2d.ts";
import { Gelu, ScaleShift } from "../../layers/activations.ts";
import type { NodeProto } from "../_schema.ts";
import { arith, size } from "../_const.ts";
import type { ImportContext, OnnxNode } from "../_context.ts";
import { onnxShape, type Sym, Unsupported } from "../_values.ts";
import type { OnnxOp } from "./_op.ts";

type Op = "Add" | "Sub" | "Mul" | "Div";

/**
 * PyTorch's exact GELU as exported: `x / √2` (this Div) → Erf → Add 1 →
 * Mul by `x` → Mul by 0.5, each read only by the next: one Gelu layer.
 */
function geluPattern(ctx: ImportContext, n: OnnxNode, x: Sym): boolean {
  const xName = n.proto.inputs[0]!;
  const step = (name: string, op: string) => {
    const c = ctx.soleConsumer(name);
    return c && c.node.opType === op && c.node.domain === "" ? c.node : null;
  };
  const constIs = (node: NodeProto, v: number) =>
    node.inputs.some((i) => {
      const c = ctx.vals.get(i);
      return ctx.isScalar(c) && Math.abs(Number(c.c.data[0]) - v) < 1e-6;
    });
  const erfN = step(n.outputs[0]!, "Erf");
  const addN = erfN && step(erfN.outputs[0]!, "Add");
  const mulX = addN && constIs(addN, 1) ? step(addN.outputs[0]!, "Mul") : null;
  if (!mulX || !mulX.inputs.includes(xName)) return false;
  const half = step(mulX.outputs[0]!, "Mul");
  if (!half || !constIs(half, 0.5)) return false;
  for (const m of [erfN!, addN!, mulX]) ctx.absorbed.add(m);
  n.absorb(half);
  ctx.applyLike(n, new Gelu({ name: n.layerName() }), x);
  return true;
}

/** `x op c` (or `c op x`) for a scalar `c`: one ScaleShift. */
function byScalar(ctx: ImportContext, n: OnnxNode, op: Op, x: Sym, c: number, xFirst: boolean) {
  if (op === "Div" && xFirst && Math.abs(c - Math.SQRT2) < 1e-6 && geluPattern(ctx, n, x)) return;
  let scale = 1, shift = 0;
  if (op === "Mul") scale = c;
  else if (op === "Add") shift = c;
  else if (op === "Sub") [scale, shift] = xFirst ? [1, -c] : [-1, c];
  else if (xFirst) scale = 1 / c;
  else throw new Unsupported("a constant divided by a computed tensor");
  if (!Number.isFinite(scale) || !Number.isFinite(shift)) {
    throw new Unsupported(`${op} by the constant ${c}`);
  }
  ctx.applyLike(n, new ScaleShift({ scale, shift, name: n.layerName() }), x);
}

/** `x op v` with one constant per channel: a 1×1 depthwise convolution. */
function byChannel(
  n: OnnxNode,
  ctx: ImportContext,
  op: Op,
  x: Sym,
  cv: Float32Array,
  xFirst: boolean,
) {
  const C = cv.length, k = new Float32Array(C).fill(1), bias = new Float32Array(C);
  for (let i = 0; i < C; i++) {
    const v = cv[i]!;
    if (op === "Mul") k[i] = v;
    else if (op === "Add") bias[i] = v;
    else if (op === "Sub") [k[i], bias[i]] = xFirst ? [1, -v] : [-1, v];
    else if (xFirst) k[i] = 1 / v;
    else throw new Unsupported("a constant divided by a computed tensor");
  }
  if (x.rank !== 4) throw new Unsupported(`a per-channel ${op} on a ${x.rank}-D tensor`);
  ctx.applyLike(n, new DepthwiseConv2D({ kernelSize: 1, name: n.layerName() }), x, [k, bias]);
}

function merge(ctx: ImportContext, n: OnnxNode, op: Op): void {
  n.attrs([]);
  const [a, b] = n.ins;
  if (a?.kind === "const" && b?.kind === "const") {
    const r = arith(op, a.c, b.c);
    if (typeof r === "string") throw new Unsupported(`constant ${op}: ${r}`);
    return n.out({ kind: "const", c: r });
  }
  const xFirst = a?.kind === "sym";
  const x = (xFirst ? a : b) as Sym | undefined, other = xFirst ? b : a;
  if (x?.kind === "sym" && other?.kind === "const") {
    if (size(other.c.dims) === 1) return byScalar(ctx, n, op, x, Number(other.c.data[0]), xFirst);
    const cv = ctx.channelConst(x, other.c);
    if (cv) return byChannel(n, ctx, op, x, cv, xFirst);
    throw new Unsupported(
      `${op} with a constant of shape [${
        other.c.dims.join(", ")
      }] (a scalar or one per channel is supported)`,
    );
  }
  if (a?.kind !== "sym" || b?.kind !== "sym") {
    ctx.sym(a, "input 0", true);
    ctx.sym(b, "input 1", true);
  }
  const sa = a as Sym, sb = b as Sym;
  const da = onnxShape(sa), db = onnxShape(sb);
  // Broadcasting between tensors of one rank: [N, C, 1, 1] × [N, C, H, W] (squeeze-and-excitation)
  // broadcasts the same way in our NHWC layout, since both are permuted alike.
  const clash = da.findIndex((d, i) => d !== db[i] && d !== 1 && db[i] !== 1);
  if (sa.rank !== sb.rank || clash >= 0) {
    throw new Unsupported(
      `operands of shapes [N, ${da.join(", ")}] and [N, ${db.join(", ")}] (${
        sa.rank !== sb.rank ? "broadcasting between different ranks" : "they do not broadcast"
      })`,
    );
  }
  if (String(sa.hwcFrom) !== String(sb.hwcFrom) || !sa.nhwc !== !sb.nhwc) {
    throw new Unsupported("operands in different layouts (flattened or transposed differently)");
  }
  const name = n.layerName();
  const layer = op === "Add"
    ? new Add({ name })
    : op === "Mul"
    ? new Multiply({ name })
    : op === "Sub"
    ? new Subtract({ name })
    : new Divide({ name });
  n.out(ctx.like(sa, ctx.applyMerge(layer, [sa, sb])));
}

const DOC =
  "between computed tensors that broadcast ([N, C, 1, 1] × [N, C, H, W]), by a scalar or per-channel constant, or folded";

export const ARITH_OPS: readonly OnnxOp[] = (["Add", "Sub", "Mul", "Div"] as const).map((op) => ({
  op,
  doc: DOC,
  sameShape: true,
  import: (ctx: ImportContext, n: OnnxNode) => merge(ctx, n, op),
}));

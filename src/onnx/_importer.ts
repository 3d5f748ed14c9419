// This module is browser compatible.

/**
 * Turns a decoded ONNX graph into this library's layers (private): the
 * driver. It fills the value table (`_context.ts`), hands each node to its
 * operator's mapping in `ops/` (one small function per operator, listed in
 * `ops/mod.ts`), and collects every problem into one error. ONNX is NCHW;
 * our activations are NHWC: weights are transposed once
 * (`core/_layout.ts`), a 4-D value `[N, C, H, W]` lives as `[N, H, W, C]`,
 * a 3-D one `[N, C, L]` as `[N, 1, L, C]`. The mappings emit plain layers
 * (a convolution, its BatchNorm, its ReLU); folding and fusing them is
 * `fuse()`'s work, done once for loaded and built models alike.
 *
 * @module
 */

import { Model } from "../model/model.ts";
import { fuseModel } from "../model/fuse.ts";
import { withAdoptedWeights } from "../layers/_util.ts";
import { firstNonFinite } from "../core/_math.ts";
import { type GraphProto, type NodeProto, ownedFloats } from "./_schema.ts";
import { OnnxFormatError, OnnxUnsupportedError } from "./errors.ts";
import { Placeholder, type Sym, Unsupported } from "./_values.ts";
import { ImportContext, OnnxNode } from "./_context.ts";
import { OPS, REFUSED } from "./ops/mod.ts";
import type { OnnxOp, RefusedOp } from "./ops/_op.ts";

const BY_OP: ReadonlyMap<string, OnnxOp> = new Map(OPS.map((o) => [o.op, o]));
const REFUSED_BY_OP: ReadonlyMap<string, RefusedOp> = new Map(REFUSED.map((o) => [o.op, o]));

/**
 * Builds the model (its BatchNorms folded and ReLUs fused by `fuse()`), or throws every problem
 * at once. `file` is the buffer under the file's bytes: no layer keeps a view of it.
 */
export function buildModel(
  g: GraphProto,
  opset: number,
  maxParameters: number,
  maxActivation: number,
  file: ArrayBufferLike,
): Model {
  const ctx = new ImportContext(g, opset, maxActivation);
  for (const t of g.initializers) {
    if (!t.name) throw new OnnxFormatError(t.path, "an initializer without a name");
    ctx.vals.set(t.name, ctx.tensorVal(t, `initializer "${t.name}"`));
  }
  const inputs = g.inputs.filter((i) => !ctx.vals.has(i.name));
  if (inputs.length !== 1) {
    ctx.note("", "", `the graph has ${inputs.length} inputs; exactly one is supported`);
  }
  if (g.outputs.length !== 1) {
    ctx.note("", "", `the graph has ${g.outputs.length} outputs; exactly one is supported`);
  }
  if (g.sparseInitializers) ctx.note("", "", "sparse initializers");
  const inp = inputs[0];
  if (inp) ctx.defineInput(inp.name, inp.elemType, inp.shape);
  for (const n of g.nodes) {
    for (const [slot, name] of n.inputs.entries()) {
      if (!name) continue;
      const list = ctx.consumers.get(name) ?? [];
      list.push({ node: n, slot });
      ctx.consumers.set(name, list);
    }
  }
  // Constants first (they read nothing): a bound defined after the node
  // that looks ahead to it must be known by then.
  const label = (n: NodeProto, i: number) => n.name || `#${i}`;
  for (const [i, n] of g.nodes.entries()) {
    if (n.opType !== "Constant" || n.domain !== "" || n.inputs.length) continue;
    ctx.absorbed.add(n);
    importNode(ctx, new OnnxNode(ctx, n, label(n, i), []));
  }
  for (const [i, n] of g.nodes.entries()) {
    if (ctx.absorbed.has(n)) continue;
    for (const name of n.inputs) {
      if (name && !ctx.vals.has(name)) {
        throw new OnnxFormatError(
          n.path,
          `input "${name}" is produced by no earlier node, initializer or graph input`,
        );
      }
    }
    const ins = n.inputs.map((x) => (x ? ctx.vals.get(x)! : undefined));
    const node = new OnnxNode(ctx, n, label(n, i), ins);
    if (ins.some((v) => v?.kind === "poison")) {
      // Skipped (its input was refused), but what it would need is listed too.
      if (n.domain !== "" || !BY_OP.has(n.opType)) ctx.note(node.label, n.opType, operator(n));
      poison(ctx, n);
      continue;
    }
    importNode(ctx, node);
  }
  const out = g.outputs[0] ? ctx.vals.get(g.outputs[0].name) : undefined;
  if (g.outputs[0] && !out) {
    throw new OnnxFormatError("graph.output[0]", `"${g.outputs[0].name}" is produced by no node`);
  }
  if (out?.kind === "const") ctx.note("", "", "the graph's output is a constant");
  if (out?.kind === "sym" && out.hwcFrom) {
    ctx.note("", "", "the graph's output is a flatten kept in NHWC order (internal error)");
  }
  if (ctx.items.length) throw new OnnxUnsupportedError(ctx.items);
  // A weight that is NaN or infinite would make every prediction NaN: refuse the file, naming it.
  for (const p of ctx.pending) {
    for (const v of [...p.params, ...(p.state ?? [])]) {
      const at = firstNonFinite(v);
      if (at >= 0) {
        throw new OnnxFormatError(
          `the weights of layer "${p.layer.name}"`,
          `value ${at} is ${v[at]}; a model with non-finite weights computes only NaN`,
        );
      }
    }
  }
  // The layers take the file's arrays as their weights (no random draws; copied only where one
  // is still a view of the file's bytes): each layer's parameters, then its state, in the order
  // it makes them.
  const owned = (vs: Float32Array[]) => vs.map((v) => ownedFloats(v, file));
  const queues = new Map(
    ctx.pending.map((p) => [p.layer.name, owned([...p.params, ...(p.state ?? [])])]),
  );
  const model = withAdoptedWeights((name, n) => {
    const layer = name.slice(0, name.lastIndexOf("."));
    const v = queues.get(layer)?.shift();
    if (!v || v.length !== n) {
      throw new Error(
        `loadOnnx: internal error: no weights of ${n} values from the file for ${name}`,
      );
    }
    return v;
  }, () => new Model({ inputs: ctx.input, outputs: (out as Sym).t }, { maxParameters }));
  for (const [layer, left] of queues) {
    if (left.length) throw new Error(`loadOnnx: internal error: weights left over for "${layer}"`);
  }
  model.setTraining(false);
  const fused = fuseModel(model, maxParameters, true);
  fused.setTraining(false);
  return fused;
}

/** "operator X" and, for one we know we refuse, why. */
function operator(n: NodeProto): string {
  if (n.domain !== "") return `operator ${n.domain}.${n.opType} (a custom domain)`;
  const r = REFUSED_BY_OP.get(n.opType);
  return `operator ${n.opType}${r ? ` (${r.reason})` : ""}`;
}

/** Runs one node's mapping; a refusal is noted and the node stood in for or poisoned. */
function importNode(ctx: ImportContext, n: OnnxNode): void {
  try {
    const op = n.proto.domain === "" ? BY_OP.get(n.op) : undefined;
    if (!op) throw new Unsupported(operator(n.proto));
    const [lo, hi] = op.opsets ?? [0, Infinity];
    if (ctx.opset < lo || ctx.opset > hi) {
      throw new Unsupported(
        `operator ${n.op} at opset ${ctx.opset} (its form in opsets ${lo}–${hi} is read${
          hi < ctx.opset ? "; it was replaced since" : ""
        })`,
      );
    }
    op.import(ctx, n);
  } catch (e) {
    if (!(e instanceof Unsupported)) throw e;
    ctx.note(n.label, n.op, e.message);
    if (!standIn(ctx, n)) poison(ctx, n.proto);
  }
}

/**
 * After an unsupported node whose output shape is plain (an element-wise
 * operator, or a normalisation, of one computed input), stands in a
 * placeholder of that shape, so the nodes after it are still checked and
 * the report lists every one (the model is never built then).
 */
function standIn(ctx: ImportContext, n: OnnxNode): boolean {
  const x = n.ins[0];
  const same = n.proto.domain === "" &&
    (BY_OP.get(n.op)?.sameShape || REFUSED_BY_OP.get(n.op)?.sameShape);
  if (!same || x?.kind !== "sym" || n.proto.outputs.length !== 1) return false;
  const others = n.ins.slice(1).filter((v) => v?.kind === "sym") as Sym[];
  if (others.some((o) => o.t.shape.length !== x.t.shape.length)) return false;
  const t = new Placeholder(x.t.shape).apply(x.t);
  ctx.vals.set(n.proto.outputs[0]!, { ...x, t });
  return true;
}

function poison(ctx: ImportContext, n: NodeProto): void {
  for (const o of n.outputs) if (o) ctx.vals.set(o, { kind: "poison" });
}

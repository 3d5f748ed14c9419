// This module is browser compatible.

/**
 * Turns a decoded ONNX graph into this library's layers (private): the
 * driver. It keeps the value table, folds constants, collects every
 * problem, and hands each node to its operator's mapping in `ops/` (one
 * small function per operator, listed in `ops/mod.ts`). ONNX is NCHW; our
 * activations are NHWC: weights are transposed once (`core/_layout.ts`), a
 * 4-D value `[N, C, H, W]` lives as `[N, H, W, C]`, a 3-D one `[N, C, L]`
 * as `[N, 1, L, C]`. The mappings emit plain layers (a convolution, its
 * BatchNorm, its ReLU); folding and fusing them is `fuse()`'s work, done
 * once for loaded and built models alike.
 *
 * @module
 */

import type { Layer, MergeLayer } from "../layers/layer.ts";
import { Input, type SymbolicTensor } from "../layers/graph_node.ts";
import type { BatchNorm } from "../layers/batch_norm.ts";
import { Model } from "../model/model.ts";
import { fuseModel } from "../model/fuse.ts";
import { type Const, size } from "./_const.ts";
import type { AttributeProto, GraphProto, NodeProto, TensorProto } from "./_schema.ts";
import { DT, DT_NAMES } from "./_schema.ts";
import { OnnxFormatError, OnnxUnsupportedError, type OnnxUnsupportedItem } from "./errors.ts";
import { onnxShape, Placeholder, type Sym, Unsupported, type Val } from "./_values.ts";
import { OPS, REFUSED } from "./ops/mod.ts";
import type { OnnxOp } from "./ops/_op.ts";

export { onnxShape, Unsupported };
export type { Sym, Val };

/** A layer waiting for its weights until the model exists. */
interface Pending {
  layer: Layer;
  params: Float32Array[];
  state?: Float32Array[];
}

const BY_OP: ReadonlyMap<string, OnnxOp> = new Map(OPS.map((o) => [o.op, o]));
const REFUSED_BY_OP: ReadonlyMap<string, { reason: string; sameShape?: boolean }> = new Map(
  REFUSED.map((o) => [o.op, o]),
);

/** Builds the model. */
export function buildModel(
  g: GraphProto,
  opset: number,
  maxParameters: number,
  maxActivation: number,
): Model {
  return new ImportContext(g, opset, maxActivation).run(maxParameters);
}

/** One node being imported: its inputs' values, its attributes, where its outputs go. */
export class OnnxNode {
  /** The output names (slot 0 moves to the last absorbed node's output). */
  readonly outputs: string[];
  constructor(
    readonly ctx: ImportContext,
    readonly proto: NodeProto,
    /** The node's name, or `#index`. */
    readonly label: string,
    readonly ins: (Val | undefined)[],
  ) {
    this.outputs = [...proto.outputs];
  }
  get op(): string {
    return this.proto.opType;
  }
  get opset(): number {
    return this.ctx.opset;
  }
  /** Notes every attribute outside `known` (and any holding a graph) as unsupported. */
  attrs(known: readonly string[]): void {
    const a = this.proto.attributes;
    for (const [k, v] of a) {
      if (!known.includes(k)) this.ctx.note(this.label, this.op, `attribute ${k}`);
      else if (v.exotic) {
        this.ctx.note(this.label, this.op, `attribute ${k} holds a graph or sparse tensor`);
      }
    }
  }
  attr(k: string): AttributeProto | undefined {
    return this.proto.attributes.get(k);
  }
  int(k: string, d: number): number {
    return this.attr(k)?.i ?? d;
  }
  ints(k: string): number[] | null {
    return this.attr(k)?.ints ?? null;
  }
  float(k: string, d: number): number {
    return this.attr(k)?.f ?? d;
  }
  str(k: string, d: string): string {
    return this.attr(k)?.s ?? d;
  }
  /** Sets output `slot`'s value. */
  out(v: Val, slot = 0): void {
    const name = this.outputs[slot];
    if (name) this.ctx.vals.set(name, v);
  }
  /** The only reader of output `slot` (null when it is a graph output or has several). */
  next(slot = 0): { node: NodeProto; slot: number } | null {
    return this.ctx.soleConsumer(this.outputs[slot] ?? "");
  }
  /** Takes `node` (a reader of this one) into this mapping: its output becomes this node's. */
  absorb(node: NodeProto): void {
    this.ctx.absorbed.add(node);
    this.outputs[0] = node.outputs[0]!;
  }
  /** A layer name from the node's name, unique in the model. */
  layerName(): string {
    return this.ctx.uniqueName(this.label, this.op);
  }
}

/** The driver's state and the helpers every mapping uses. */
export class ImportContext {
  readonly vals = new Map<string, Val>();
  readonly items: OnnxUnsupportedItem[] = [];
  readonly pending: Pending[] = [];
  readonly consumers = new Map<string, { node: NodeProto; slot: number }[]>();
  readonly graphOutputs: Set<string>;
  readonly absorbed = new Set<NodeProto>();
  readonly names = new Set<string>();
  input!: SymbolicTensor;

  constructor(readonly g: GraphProto, readonly opset: number, readonly maxActivation: number) {
    this.graphOutputs = new Set(g.outputs.map((o) => o.name));
  }

  // ---------------------------------------------------------------- driver

  run(maxParameters: number): Model {
    const g = this.g;
    for (const t of g.initializers) {
      if (!t.name) throw new OnnxFormatError(t.path, "an initializer without a name");
      this.vals.set(t.name, this.tensorVal(t, `initializer "${t.name}"`));
    }
    const inputs = g.inputs.filter((i) => !this.vals.has(i.name));
    if (inputs.length !== 1) {
      this.note("", "", `the graph has ${inputs.length} inputs; exactly one is supported`);
    }
    if (g.outputs.length !== 1) {
      this.note("", "", `the graph has ${g.outputs.length} outputs; exactly one is supported`);
    }
    if (g.sparseInitializers) this.note("", "", "sparse initializers");
    const inp = inputs[0];
    if (inp) this.defineInput(inp.name, inp.elemType, inp.shape);
    for (const n of g.nodes) {
      for (const [slot, name] of n.inputs.entries()) {
        if (!name) continue;
        const list = this.consumers.get(name) ?? [];
        list.push({ node: n, slot });
        this.consumers.set(name, list);
      }
    }
    // Constants first (they read nothing): a Clip's bounds defined after the
    // node before it must be known when that node looks ahead.
    const label = (n: NodeProto, i: number) => n.name || `#${i}`;
    for (const [i, n] of g.nodes.entries()) {
      if (n.opType !== "Constant" || n.domain !== "" || n.inputs.length) continue;
      this.absorbed.add(n);
      this.importNode(new OnnxNode(this, n, label(n, i), []));
    }
    for (const [i, n] of g.nodes.entries()) {
      if (this.absorbed.has(n)) continue;
      for (const name of n.inputs) {
        if (name && !this.vals.has(name)) {
          throw new OnnxFormatError(
            n.path,
            `input "${name}" is produced by no earlier node, initializer or graph input`,
          );
        }
      }
      const ins = n.inputs.map((x) => (x ? this.vals.get(x)! : undefined));
      const node = new OnnxNode(this, n, label(n, i), ins);
      if (ins.some((v) => v?.kind === "poison")) {
        this.checkOpOnly(node);
        this.poison(n);
        continue;
      }
      this.importNode(node);
    }
    const out = g.outputs[0] ? this.vals.get(g.outputs[0].name) : undefined;
    if (g.outputs[0] && !out) {
      throw new OnnxFormatError("graph.output[0]", `"${g.outputs[0].name}" is produced by no node`);
    }
    if (out?.kind === "const") this.note("", "", "the graph's output is a constant");
    if (out?.kind === "sym" && out.hwcFrom) {
      this.note("", "", "the graph's output is a flatten kept in NHWC order (internal error)");
    }
    if (this.items.length) throw new OnnxUnsupportedError(this.items);
    const model = new Model({ inputs: this.input, outputs: (out as Sym).t }, { maxParameters });
    for (const p of this.pending) {
      const ps = p.layer.params();
      p.params.forEach((v, i) => ps[i]!.value.set(v));
      if (p.state) {
        const st = (p.layer as BatchNorm).state();
        p.state.forEach((v, i) => st[i]!.value.set(v));
      }
    }
    model.setTraining(false);
    const fused = fuseModel(model, maxParameters);
    fused.setTraining(false);
    return fused;
  }

  /** Runs one node's mapping; a refusal is noted and the node stood in for or poisoned. */
  importNode(n: OnnxNode): void {
    try {
      const op = n.proto.domain === "" ? BY_OP.get(n.op) : undefined;
      if (n.proto.domain !== "") {
        throw new Unsupported(`operator ${n.proto.domain}.${n.op} (a custom domain)`);
      }
      if (!op) {
        const r = REFUSED_BY_OP.get(n.op);
        throw new Unsupported(`operator ${n.op}${r ? ` (${r.reason})` : ""}`);
      }
      const [lo, hi] = op.opsets ?? [0, Infinity];
      if (this.opset < lo || this.opset > hi) {
        throw new Unsupported(
          `operator ${n.op} at opset ${this.opset} (its form in opsets ${lo}–${hi} is read${
            hi < this.opset ? "; it was replaced since" : ""
          })`,
        );
      }
      op.import(this, n);
    } catch (e) {
      if (!(e instanceof Unsupported)) throw e;
      this.note(n.label, n.op, e.message);
      if (!this.standIn(n)) this.poison(n.proto);
    }
  }

  note(node: string, opType: string, reason: string): void {
    this.items.push({ node, opType, reason });
  }

  /**
   * After an unsupported node whose output shape is plain (an element-wise
   * operator, or a normalisation, of one computed input), stands in a
   * placeholder of that shape, so the nodes after it are still checked and
   * the report lists every one (the model is never built then).
   */
  standIn(n: OnnxNode): boolean {
    const x = n.ins[0];
    const same = n.proto.domain === "" &&
      (BY_OP.get(n.op)?.sameShape || REFUSED_BY_OP.get(n.op)?.sameShape);
    if (!same || x?.kind !== "sym" || n.proto.outputs.length !== 1) return false;
    const others = n.ins.slice(1).filter((v) => v?.kind === "sym") as Sym[];
    if (others.some((o) => o.t.shape.length !== x.t.shape.length)) return false;
    const t = new Placeholder(x.t.shape).apply(x.t);
    this.vals.set(n.proto.outputs[0]!, { ...x, t });
    return true;
  }

  poison(n: NodeProto): void {
    for (const o of n.outputs) if (o) this.vals.set(o, { kind: "poison" });
  }

  /** Lists what an operator we skip (its input was unsupported) would need, so the report is complete. */
  checkOpOnly(n: OnnxNode): void {
    const d = n.proto.domain;
    if (d !== "" || !BY_OP.has(n.op)) {
      const r = d === "" ? REFUSED_BY_OP.get(n.op) : undefined;
      this.note(n.label, n.op, `operator ${d ? d + "." : ""}${n.op}${r ? ` (${r.reason})` : ""}`);
    }
  }

  defineInput(name: string, elemType: number, shape: (number | string | null)[] | null): void {
    const where = `graph input "${name}"`;
    const refuse = (why: string) => {
      this.note("", "", `${where} ${why}`);
      this.vals.set(name, { kind: "poison" });
    };
    if (elemType !== DT.FLOAT) {
      return refuse(`is ${DT_NAMES[elemType] ?? elemType}; only FLOAT inputs are supported`);
    }
    if (!shape || shape.length < 2 || shape.length > 4) {
      return refuse(
        `has shape ${
          shape ? `[${shape.join(", ")}]` : "unknown"
        }; [N, C, H, W], [N, C, L] or [N, F] is supported`,
      );
    }
    const rest = shape.slice(1);
    if (!rest.every((d): d is number => typeof d === "number" && Number.isInteger(d) && d > 0)) {
      return refuse(
        `has shape [${
          shape.join(", ")
        }]: every dimension but the batch must be a fixed positive size`,
      );
    }
    const r = shape.length as 2 | 3 | 4;
    const ours = r === 4
      ? [rest[1]!, rest[2]!, rest[0]!]
      : r === 3
      ? [1, rest[1]!, rest[0]!]
      : [rest[0]!];
    this.input = Input(ours, { name: "input" });
    this.vals.set(name, { kind: "sym", t: this.input, rank: r });
  }

  tensorVal(t: TensorProto, what: string): Val {
    if (t.external) {
      this.note(
        "",
        "",
        `${what} keeps its data in an external file; re-export with the weights inside the model (torch.onnx.export without external data, or onnx.save(model, path, save_as_external_data=False))`,
      );
      return { kind: "poison" };
    }
    if (!t.values) {
      this.note(
        "",
        "",
        `${what} has type ${
          DT_NAMES[t.dataType] ?? t.dataType
        }; FLOAT, DOUBLE, INT32 and INT64 are supported`,
      );
      return { kind: "poison" };
    }
    return {
      kind: "const",
      c: {
        dims: t.dims,
        data: t.values,
        isInt: t.dataType === DT.INT64 || t.dataType === DT.INT32,
      },
    };
  }

  // ------------------------------------------------------------- helpers

  uniqueName(label: string, op: string): string {
    let base = label.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, "") || op.toLowerCase();
    if (/^[0-9]/.test(base)) base = "n" + base;
    let name = base, k = 2;
    while (this.names.has(name)) name = `${base}_${k++}`;
    this.names.add(name);
    return name;
  }

  /** A value computed from the input (`allowNhwc`: a map transposed to `[N, H, W, C]` too). */
  sym(v: Val | undefined, what: string, allowNhwc = false): Sym {
    if (v?.kind === "grouped") {
      throw new Unsupported(
        `${what} is a [N, g, C/g, ...] view (only a channel shuffle may follow)`,
      );
    }
    if (v?.kind !== "sym") {
      throw new Unsupported(
        `${what} is ${v ? "a constant" : "missing"}; a tensor computed from the input is expected`,
      );
    }
    if (v.nhwc && !allowNhwc) {
      throw new Unsupported(
        `${what} is a map transposed to [N, H, W, C] (only element-wise operators, a MatMul over the channels, a flatten or a transpose back may follow that)`,
      );
    }
    return v;
  }

  constant(v: Val | undefined, what: string): Const {
    if (v?.kind !== "const") {
      throw new Unsupported(
        `${what} is ${
          v ? "computed at run time" : "missing"
        }; a constant (initializer) is expected`,
      );
    }
    return v.c;
  }

  /** A constant's values as numbers (shape data, axes, pads). */
  numbers(v: Val | undefined, what: string): number[] {
    return [...this.constant(v, what).data].map(Number);
  }

  /** A constant's values as float32 (a copy when they are not float32 already), checking its dims when given. */
  floats(c: Const, what: string, dims?: number[]): Float32Array {
    if (dims && (c.dims.length !== dims.length || c.dims.some((d, i) => d !== dims[i]))) {
      throw new Unsupported(
        `${what} has shape [${c.dims.join(", ")}], expected [${dims.join(", ")}]`,
      );
    }
    return c.data instanceof Float32Array ? c.data : Float32Array.from(c.data);
  }

  /** Whether `v` is a constant with one element. */
  isScalar(v: Val | undefined): v is { kind: "const"; c: Const } {
    return v?.kind === "const" && size(v.c.dims) === 1;
  }

  /** Applies a layer to one input; its weights are set after the model exists. */
  apply(layer: Layer, x: Sym, params: Float32Array[] = [], state?: Float32Array[]): SymbolicTensor {
    try {
      const t = (layer as unknown as { apply(x: SymbolicTensor): SymbolicTensor }).apply(x.t);
      this.checkSize(t);
      if (params.length || state) {
        this.pending.push(state ? { layer, params, state } : { layer, params });
      }
      return t;
    } catch (e) {
      if (e instanceof RangeError || e instanceof TypeError) throw new Unsupported(e.message);
      throw e;
    }
  }

  /** Applies a layer of several inputs. */
  applyMerge(layer: MergeLayer, xs: Sym[]): SymbolicTensor {
    try {
      const t = (layer as unknown as { apply(x: SymbolicTensor[]): SymbolicTensor }).apply(
        xs.map((x) => x.t),
      );
      this.checkSize(t);
      return t;
    } catch (e) {
      if (e instanceof RangeError || e instanceof TypeError) throw new Unsupported(e.message);
      throw e;
    }
  }

  /** Applies an element-wise layer to `x` and sets the node's output, laid out like `x`. */
  applyLike(n: OnnxNode, layer: Layer, x: Sym, params: Float32Array[] = []): void {
    n.out(this.like(x, this.apply(layer, x, params)));
  }

  /** Refuses an output whose one sample would hold more than `maxActivation` values. */
  checkSize(t: SymbolicTensor): void {
    const n = size(t.shape);
    if (n > this.maxActivation) {
      throw new Unsupported(
        `its output [${
          t.shape.join(", ")
        }] holds ${n} values a sample, more than maxActivation (${this.maxActivation})`,
      );
    }
  }

  /** The only consumer of `name` (none when it is a graph output or feeds several nodes). */
  soleConsumer(name: string): { node: NodeProto; slot: number } | null {
    if (this.graphOutputs.has(name)) return null;
    const c = this.consumers.get(name);
    return c && c.length === 1 ? c[0]! : null;
  }

  /** A value laid out like `x` (its rank, flatten order and NHWC view), computed as `t`. */
  like(x: Sym, t: SymbolicTensor): Sym {
    const v: Sym = { kind: "sym", t, rank: x.rank };
    if (x.hwcFrom) v.hwcFrom = x.hwcFrom;
    if (x.nhwc) v.nhwc = true;
    return v;
  }

  /** A plain value of rank `rank` computed as `t`. */
  plain(t: SymbolicTensor, rank: 2 | 3 | 4): Sym {
    return { kind: "sym", t, rank };
  }

  /**
   * The values of a constant that holds one number per channel of `x`
   * (`[C, 1, 1]` or `[1, C, 1, 1]` for a map, `[C]` for an NHWC view or a
   * `[N, C]` tensor), or null.
   */
  channelConst(x: Sym, c: Const): Float32Array | null {
    const C = x.nhwc ? x.t.shape[2]! : onnxShape(x)[0]!;
    const d = c.dims, n = size(d);
    if (n !== C || C === 1) return null;
    const ok = x.nhwc || x.rank === 2
      ? d.at(-1) === C
      : d.length >= 3 && d.at(-3) === C && d.at(-1) === 1 && d.at(-2) === 1;
    return ok ? this.floats(c, "the constant") : null;
  }
}

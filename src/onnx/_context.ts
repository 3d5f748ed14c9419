// This module is browser compatible.

/**
 * The importer's state and the helpers every operator mapping uses
 * (private): the value table, the consumers of each value, the layers
 * waiting for their weights, and one {@linkcode OnnxNode} per node being
 * imported. The driver (`_importer.ts`) fills it; the mappings in `ops/`
 * read and extend it.
 *
 * @module
 */

import type { Layer, MergeLayer } from "../layers/layer.ts";
import { Input, type SymbolicTensor } from "../layers/graph_node.ts";
import { type Const, size } from "./_const.ts";
import type { AttributeProto, GraphProto, NodeProto, TensorProto } from "./_schema.ts";
import { DT, DT_NAMES } from "./_schema.ts";
import type { OnnxUnsupportedItem } from "./errors.ts";
import { onnxShape, type Sym, Unsupported, type Val } from "./_values.ts";

/** A layer waiting for its weights until the model exists. */
export interface Pending {
  layer: Layer;
  params: Float32Array[];
  state?: Float32Array[];
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

  note(node: string, opType: string, reason: string): void {
    this.items.push({ node, opType, reason });
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

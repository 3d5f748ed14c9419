// This module is browser compatible.

/**
 * Turns a decoded ONNX graph into this library's layers (private). ONNX is
 * NCHW; our activations are NHWC: weights are transposed once here, a
 * 4-D value `[N, C, H, W]` lives as `[N, H, W, C]`, a 3-D one `[N, C, L]`
 * as `[N, 1, L, C]`. BatchNormalization after a convolution or dense layer
 * is folded into its weights, a Relu after one becomes its fused
 * activation, and shape arithmetic on constants is folded. Every
 * unsupported operator or attribute is collected, not thrown one by one.
 *
 * @module
 */

import type { Layer, LayerConfig, MergeLayer, Param, SampleShape } from "../layers/layer.ts";
import { LayerBase } from "../layers/layer_base.ts";
import { Input, type SymbolicTensor } from "../layers/graph_node.ts";
import { Add, Concatenate, Divide, Multiply, Subtract } from "../layers/merge.ts";
import { Conv2D, Conv2DTranspose, DepthwiseConv2D } from "../layers/conv2d.ts";
import { Dense } from "../layers/dense.ts";
import { AvgPool2D, GlobalAvgPool2D, GlobalMaxPool2D, MaxPool2D } from "../layers/pool2d.ts";
import { ReLU } from "../layers/relu.ts";
import {
  Clip,
  Erf,
  Gelu,
  HardSigmoid,
  HardSwish,
  LeakyReLU,
  ReLU6,
  ScaleShift,
  Sigmoid,
  SiLU,
  Softmax,
  Tanh,
} from "../layers/activations.ts";
import { BatchNorm } from "../layers/batch_norm.ts";
import { Flatten } from "../layers/flatten.ts";
import { Pad2D } from "../layers/pad2d.ts";
import { ChannelShuffle, ChannelSlice } from "../layers/channels.ts";
import { LayerNorm } from "../layers/layer_norm.ts";
import { Unary, UNARY_FUNCTIONS, type UnaryFunction } from "../layers/unary.ts";
import { PReLU } from "../layers/prelu.ts";
import { type CoordinateMode, type NearestRounding, Upsample2D } from "../layers/upsample.ts";
import { Model } from "../model/model.ts";
import {
  arith,
  axis,
  concat,
  type Const,
  gather,
  MAX_FOLD,
  size,
  slice,
  transpose,
} from "./_const.ts";
import type { AttributeProto, GraphProto, NodeProto, TensorProto } from "./_schema.ts";
import { DT, DT_NAMES } from "./_schema.ts";
import { OnnxFormatError, OnnxUnsupportedError, type OnnxUnsupportedItem } from "./errors.ts";

/** A value computed at run time: our symbolic tensor and its ONNX rank (batch included). */
interface Sym {
  kind: "sym";
  t: SymbolicTensor;
  rank: 2 | 3 | 4;
  /** Set when a flatten kept NHWC order: the `[C, H, W]` it came from (the next Gemm permutes its weights). */
  hwcFrom?: [number, number, number];
  /** Set after `Transpose(perm = [0, 2, 3, 1])`: the map in NHWC order, only a flatten may follow. */
  nhwc?: true;
}
interface Folded {
  kind: "const";
  c: Const;
}
/** A unsupported node's output: later nodes that use it are skipped quietly. */
interface Poison {
  kind: "poison";
}
/** A channel shuffle under way: `x` reshaped to `[N, groups, C/groups, ...]` (then transposed). */
interface Grouped {
  kind: "grouped";
  x: Sym;
  groups: number;
  transposed: boolean;
}
type Val = Sym | Folded | Poison | Grouped;

/** A layer waiting for its weights until the model exists. */
interface Pending {
  layer: Layer;
  params: Float32Array[];
  state?: Float32Array[];
}

/** ONNX sample shape (batch excluded) of a symbolic value. */
function onnxShape(v: Sym): number[] {
  const s = v.t.shape;
  if (v.rank === 4) return [s[2]!, s[0]!, s[1]!];
  if (v.rank === 3) return [s[2]!, s[1]!];
  return [...s];
}

class Unsupported extends Error {}

/** Operators whose output has their first input's shape (for stand-ins; see `standIn`). */
const SAME_SHAPE: ReadonlySet<string> = new Set([
  "Abs",
  "Add",
  "Ceil",
  "Cos",
  "Div",
  "Elu",
  "Erf",
  "Exp",
  "Floor",
  "Gelu",
  "HardSigmoid",
  "HardSwish",
  "InstanceNormalization",
  "LayerNormalization",
  "LeakyRelu",
  "Log",
  "LRN",
  "Mish",
  "Mul",
  "Neg",
  "Pow",
  "PRelu",
  "Reciprocal",
  "Relu",
  "Round",
  "Selu",
  "Sigmoid",
  "Sign",
  "Sin",
  "Softplus",
  "Softsign",
  "Sqrt",
  "Sub",
  "Tan",
  "Tanh",
  "ThresholdedRelu",
  "Celu",
  "Clip",
  "Dropout",
  "Identity",
  "Cast",
]);

/** A stand-in for an unsupported node's output (never run: the import then fails). */
class Placeholder extends LayerBase implements Layer {
  readonly kind = "Placeholder";
  name = "";
  constructor(readonly shape: SampleShape) {
    super();
  }
  build(): SampleShape {
    return this.shape;
  }
  forward(): never {
    throw new Error("a placeholder never runs");
  }
  backward(): never {
    throw new Error("a placeholder never runs");
  }
  params(): Param[] {
    return [];
  }
  config(): LayerConfig {
    return { kind: this.kind, name: this.name };
  }
}

/** Builds the model. */
export function buildModel(
  g: GraphProto,
  opset: number,
  maxParameters: number,
  maxActivation: number,
): Model {
  const imp = new Importer(g, opset, maxActivation);
  return imp.run(maxParameters);
}

class Importer {
  readonly vals = new Map<string, Val>();
  readonly items: OnnxUnsupportedItem[] = [];
  readonly pending: Pending[] = [];
  readonly consumers = new Map<string, { node: NodeProto; slot: number }[]>();
  readonly graphOutputs: Set<string>;
  readonly absorbed = new Set<NodeProto>();
  readonly names = new Set<string>();
  node!: NodeProto;
  nodeLabel = "";
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
      for (const o of n.inputs.entries()) {
        if (!o[1]) continue;
        const list = this.consumers.get(o[1]) ?? [];
        list.push({ node: n, slot: o[0] });
        this.consumers.set(o[1], list);
      }
    }
    // Constants first (they read nothing): a Clip's bounds defined after the
    // convolution before it must be known when the convolution decides to fuse.
    for (const [i, n] of g.nodes.entries()) {
      if (n.opType !== "Constant" || n.domain !== "" || n.inputs.length) continue;
      this.node = n;
      this.nodeLabel = n.name || `#${i}`;
      this.absorbed.add(n);
      try {
        this.constantOp();
      } catch (e) {
        if (!(e instanceof Unsupported)) throw e;
        this.note(this.nodeLabel, n.opType, e.message);
        this.poison(n);
      }
    }
    for (const [i, n] of g.nodes.entries()) {
      if (this.absorbed.has(n)) continue;
      this.node = n;
      this.nodeLabel = n.name || `#${i}`;
      for (const name of n.inputs) {
        if (name && !this.vals.has(name)) {
          throw new OnnxFormatError(
            n.path,
            `input "${name}" is produced by no earlier node, initializer or graph input`,
          );
        }
      }
      const ins = n.inputs.map((x) => (x ? this.vals.get(x)! : undefined));
      if (ins.some((v) => v?.kind === "poison")) {
        this.checkOpOnly(n);
        this.poison(n);
        continue;
      }
      try {
        if (n.domain !== "") {
          throw new Unsupported(`operator ${n.domain}.${n.opType} (a custom domain)`);
        }
        this.dispatch(n, ins);
      } catch (e) {
        if (!(e instanceof Unsupported)) throw e;
        this.note(this.nodeLabel, n.opType, e.message);
        if (!this.standIn(n, ins)) this.poison(n);
      }
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
    const model = new Model(
      { inputs: this.input, outputs: (out as Sym).t },
      { maxParameters },
    );
    for (const p of this.pending) {
      const ps = p.layer.params();
      p.params.forEach((v, i) => ps[i]!.value.set(v));
      if (p.state) {
        const st = (p.layer as BatchNorm).state();
        p.state.forEach((v, i) => st[i]!.value.set(v));
      }
    }
    model.setTraining(false);
    return model;
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
  standIn(n: NodeProto, ins: (Val | undefined)[]): boolean {
    const x = ins[0];
    if (
      n.domain !== "" || !SAME_SHAPE.has(n.opType) || x?.kind !== "sym" || n.outputs.length !== 1
    ) {
      return false;
    }
    const others = ins.slice(1).filter((v) => v?.kind === "sym") as Sym[];
    if (others.some((o) => o.t.shape.length !== x.t.shape.length)) return false;
    const t = new Placeholder(x.t.shape).apply(x.t);
    this.setOut({ ...x, t });
    return true;
  }

  poison(n: NodeProto): void {
    for (const o of n.outputs) if (o) this.vals.set(o, { kind: "poison" });
  }

  /** Lists what an operator we skip (its input was unsupported) would need, so the report is complete. */
  checkOpOnly(n: NodeProto): void {
    if (n.domain !== "" || !KNOWN.has(n.opType)) {
      this.note(n.name || "?", n.opType, `operator ${n.domain ? n.domain + "." : ""}${n.opType}`);
    }
  }

  defineInput(name: string, elemType: number, shape: (number | string | null)[] | null): void {
    const where = `graph input "${name}"`;
    if (elemType !== DT.FLOAT) {
      this.note(
        "",
        "",
        `${where} is ${DT_NAMES[elemType] ?? elemType}; only FLOAT inputs are supported`,
      );
      this.vals.set(name, { kind: "poison" });
      return;
    }
    if (!shape || shape.length < 2 || shape.length > 4) {
      this.note(
        "",
        "",
        `${where} has shape ${
          shape ? `[${shape.join(", ")}]` : "unknown"
        }; [N, C, H, W], [N, C, L] or [N, F] is supported`,
      );
      this.vals.set(name, { kind: "poison" });
      return;
    }
    const rest = shape.slice(1);
    if (!rest.every((d): d is number => typeof d === "number" && Number.isInteger(d) && d > 0)) {
      this.note(
        "",
        "",
        `${where} has shape [${
          shape.join(", ")
        }]: every dimension but the batch must be a fixed positive size`,
      );
      this.vals.set(name, { kind: "poison" });
      return;
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

  layerName(): string {
    let base = this.nodeLabel.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, "") ||
      this.node.opType.toLowerCase();
    if (/^[0-9]/.test(base)) base = "n" + base;
    let name = base, k = 2;
    while (this.names.has(name)) name = `${base}_${k++}`;
    this.names.add(name);
    return name;
  }

  attrs(known: readonly string[]): Map<string, AttributeProto> {
    const a = this.node.attributes;
    const bad = [...a.keys()].filter((k) => !known.includes(k));
    for (const k of bad) this.note(this.nodeLabel, this.node.opType, `attribute ${k}`);
    for (const [k, v] of a) {
      if (v.exotic && !bad.includes(k)) {
        this.note(
          this.nodeLabel,
          this.node.opType,
          `attribute ${k} holds a graph or sparse tensor`,
        );
      }
    }
    return a;
  }

  int(a: Map<string, AttributeProto>, k: string, d: number): number {
    const v = a.get(k);
    return v?.i ?? d;
  }
  ints(a: Map<string, AttributeProto>, k: string): number[] | null {
    const v = a.get(k);
    return v ? v.ints : null;
  }
  float(a: Map<string, AttributeProto>, k: string, d: number): number {
    return a.get(k)?.f ?? d;
  }
  str(a: Map<string, AttributeProto>, k: string, d: string): string {
    return a.get(k)?.s ?? d;
  }

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
        `${what} is a map transposed to [N, H, W, C] (only a flatten may follow that)`,
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

  floats(c: Const, what: string, dims?: number[]): Float32Array {
    if (dims && (c.dims.length !== dims.length || c.dims.some((d, i) => d !== dims[i]))) {
      throw new Unsupported(
        `${what} has shape [${c.dims.join(", ")}], expected [${dims.join(", ")}]`,
      );
    }
    return c.data instanceof Float32Array ? c.data : Float32Array.from(c.data);
  }

  setOut(v: Val, slot = 0): void {
    const name = this.node.outputs[slot];
    if (name) this.vals.set(name, v);
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

  /** Spatial geometry from Conv / pool attributes. */
  geometry(
    a: Map<string, AttributeProto>,
    x: Sym,
    kernel: number[],
    what: "conv" | "pool" | "convT",
  ) {
    const spatial = x.rank - 2;
    const expand = (v: number[] | null, d: number, len: number, name: string): number[] => {
      const r = v ?? new Array(len).fill(d);
      if (r.length !== len) {
        throw new Unsupported(`attribute ${name} has ${r.length} values, expected ${len}`);
      }
      if (
        r.some((q) =>
          !Number.isInteger(q) || q < (name === "pads" || name === "output_padding" ? 0 : 1)
        )
      ) {
        throw new Unsupported(`attribute ${name} = [${r.join(", ")}]`);
      }
      return r;
    };
    const strides = expand(this.ints(a, "strides"), 1, spatial, "strides");
    const dil = expand(this.ints(a, "dilations"), 1, spatial, "dilations");
    let pads = expand(this.ints(a, "pads"), 0, 2 * spatial, "pads");
    const autoPad = this.str(a, "auto_pad", "NOTSET");
    let same = false;
    if (autoPad === "VALID") pads = new Array(2 * spatial).fill(0);
    else if (autoPad === "SAME_UPPER" && what !== "convT") same = true;
    else if (autoPad !== "NOTSET") throw new Unsupported(`attribute auto_pad="${autoPad}"`);
    const ks = this.ints(a, "kernel_shape");
    if (ks && (ks.length !== kernel.length || ks.some((k, i) => k !== kernel[i]))) {
      throw new Unsupported(
        `kernel_shape [${ks.join(", ")}] differs from the weights' [${kernel.join(", ")}]`,
      );
    }
    // To NHWC pairs: 1-D becomes height 1.
    const two = (
      v: number[],
      one: number,
    ): [number, number] => (spatial === 1 ? [one, v[0]!] : [v[0]!, v[1]!]);
    const padding: [number, number, number, number] = spatial === 1
      ? [0, 0, pads[0]!, pads[1]!]
      : [pads[0]!, pads[2]!, pads[1]!, pads[3]!];
    return {
      kernel: two(kernel, 1),
      stride: two(strides, 1),
      dilation: two(dil, 1),
      padding: same ? ("same" as const) : padding,
    };
  }

  // ------------------------------------------------------------ operators

  dispatch(n: NodeProto, ins: (Val | undefined)[]): void {
    const op = n.opType;
    const allConst = ins.every((v) => v === undefined || v.kind === "const");
    switch (op) {
      case "Constant":
        return this.constantOp();
      case "Identity":
        this.attrs([]);
        return this.setOut(ins[0]!);
      case "Dropout": {
        this.attrs(["seed", "ratio"]);
        if (n.outputs[1] && this.consumers.get(n.outputs[1])?.length) {
          throw new Unsupported("its mask output is used");
        }
        if (ins[2]?.kind === "const" && ins[2].c.data[0]) {
          throw new Unsupported("training_mode is true");
        }
        return this.setOut(ins[0]!);
      }
      case "Conv":
        return this.conv(ins);
      case "ConvTranspose":
        return this.convTranspose(ins);
      case "MaxPool":
      case "AveragePool":
        return this.pool(ins, op === "MaxPool");
      case "GlobalAveragePool":
      case "GlobalMaxPool": {
        this.attrs([]);
        const x = this.sym(ins[0], "the input");
        if (x.rank === 2) throw new Unsupported("a 2-D input (global pooling needs [N, C, ...])");
        const l = op === "GlobalMaxPool"
          ? new GlobalMaxPool2D({ keepDims: true, name: this.layerName() })
          : new GlobalAvgPool2D({ keepDims: true, name: this.layerName() });
        return this.setOut({ kind: "sym", t: this.apply(l, x), rank: x.rank });
      }
      case "ReduceMean":
      case "ReduceMax":
      case "ReduceSum":
        return this.reduce(op, ins);
      case "Neg": {
        this.attrs([]);
        const x = this.sym(ins[0], "the input");
        const l = new ScaleShift({ scale: -1, name: this.layerName() });
        return this.setOut({ kind: "sym", t: this.apply(l, x), rank: x.rank });
      }
      case "BatchNormalization":
        return this.batchNorm(ins);
      case "Relu":
      case "Sigmoid":
      case "Tanh":
      case "HardSwish":
      case "LeakyRelu":
      case "HardSigmoid":
      case "Softmax":
      case "Clip":
      case "Erf":
      case "Gelu":
        return this.activation(op, ins);
      case "LayerNormalization":
        return this.layerNorm(ins);
      case "Exp":
      case "Log":
      case "Sqrt":
      case "Reciprocal":
      case "Abs":
      case "Softplus":
      case "Softsign":
      case "Mish":
      case "Elu":
      case "Selu":
        return this.unary(op, ins);
      case "Pow":
        return this.pow(ins);
      case "PRelu":
        return this.prelu(ins);
      case "Add":
      case "Mul":
      case "Sub":
      case "Div":
        if (allConst) return this.foldArith(op, ins);
        return this.merge(op, ins);
      case "Concat":
        if (allConst) return this.foldConcat(ins);
        return this.concat(ins);
      case "Flatten":
        return this.flatten(ins);
      case "Reshape":
        return this.reshape(ins);
      case "Gemm":
        return this.gemm(ins);
      case "MatMul":
        return this.matmul(ins);
      case "Pad":
        return this.pad(ins);
      case "Shape":
        return this.shapeOp(ins);
      case "Slice":
        if (ins[0]?.kind === "sym") return this.channelSlice(ins);
        return this.fold(op, ins);
      case "Split":
        return this.split(ins);
      case "Resize":
        return this.resize(ins);
      case "Gather":
      case "Unsqueeze":
      case "Squeeze":
      case "Transpose":
      case "Cast":
      case "ConstantOfShape":
        return this.fold(op, ins);
      default:
        throw new Unsupported(`operator ${op}`);
    }
  }

  constantOp(): void {
    const a = this.attrs(["value", "value_float", "value_floats", "value_int", "value_ints"]);
    const v = a.get("value");
    if (v?.t) return this.setOut(this.tensorVal(v.t, `node "${this.nodeLabel}" value`));
    const f = a.get("value_float"), fs = a.get("value_floats");
    const i = a.get("value_int"), is = a.get("value_ints");
    if (f?.f !== undefined) {
      return this.setOut({
        kind: "const",
        c: { dims: [], data: Float32Array.of(f.f), isInt: false },
      });
    }
    if (fs) {
      return this.setOut({
        kind: "const",
        c: { dims: [fs.floats.length], data: Float32Array.from(fs.floats), isInt: false },
      });
    }
    if (i?.i !== undefined) {
      return this.setOut({ kind: "const", c: { dims: [], data: [i.i], isInt: true } });
    }
    if (is) {
      return this.setOut({
        kind: "const",
        c: { dims: [is.ints.length], data: [...is.ints], isInt: true },
      });
    }
    throw new Unsupported("a Constant without a tensor, float(s) or int(s) value");
  }

  /** Follows a conv/dense output through a foldable BatchNormalization and a Relu. */
  epilogue(
    out: string,
    cOut: number,
    w: Float32Array,
    b: Float32Array,
    wPerOut: (o: number) => number[],
  ): {
    name: string;
    act: "relu" | "relu6" | "linear";
  } {
    let name = out, act: "relu" | "relu6" | "linear" = "linear";
    let next = this.soleConsumer(name);
    if (
      next && next.slot === 0 && next.node.opType === "BatchNormalization" &&
      next.node.domain === ""
    ) {
      const bn = next.node;
      const get = (k: number) => {
        const v = bn.inputs[k] ? this.vals.get(bn.inputs[k]!) : undefined;
        return v?.kind === "const" && size(v.c.dims) === cOut ? this.floats(v.c, "") : null;
      };
      const [gm, bt, mu, vr] = [get(1), get(2), get(3), get(4)];
      const extra = [...bn.attributes.keys()].filter((k) =>
        !["epsilon", "momentum", "training_mode"].includes(k)
      );
      const training = bn.attributes.get("training_mode")?.i ?? 0;
      if (
        gm && bt && mu && vr && !extra.length && !training &&
        bn.outputs.filter(Boolean).length === 1
      ) {
        const eps = bn.attributes.get("epsilon")?.f ?? 1e-5;
        for (let o = 0; o < cOut; o++) {
          const s = gm[o]! / Math.sqrt(vr[o]! + eps);
          for (const i of wPerOut(o)) w[i] = w[i]! * s;
          b[o] = (b[o]! - mu[o]!) * s + bt[o]!;
        }
        this.absorbed.add(bn);
        name = bn.outputs[0]!;
        next = this.soleConsumer(name);
      }
    }
    if (next && next.slot === 0 && next.node.domain === "" && next.node.attributes.size === 0) {
      const n = next.node;
      const bound = (k: number) => {
        const v = n.inputs[k] ? this.vals.get(n.inputs[k]!) : undefined;
        return v?.kind === "const" && size(v.c.dims) === 1 ? Number(v.c.data[0]) : null;
      };
      const relu6 = n.opType === "Clip" && bound(1) === 0 && bound(2) === 6;
      if (n.opType === "Relu" || relu6) {
        this.absorbed.add(n);
        name = n.outputs[0]!;
        act = relu6 ? "relu6" : "relu";
      }
    }
    return { name, act };
  }

  conv(ins: (Val | undefined)[]): void {
    const a = this.attrs(["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"]);
    const x = this.sym(ins[0], "the input");
    if (x.rank === 2) throw new Unsupported("a 2-D input");
    const W = this.constant(ins[1], "the weights");
    if (W.dims.length !== x.rank) {
      throw new Unsupported(`weights of shape [${W.dims.join(", ")}] for a ${x.rank}-D input`);
    }
    const [M, Cg] = W.dims as [number, number], kernel = W.dims.slice(2);
    const C = onnxShape(x)[0]!, group = this.int(a, "group", 1);
    if (group < 1 || C % group || M % group || Cg !== C / group) {
      throw new Unsupported(
        `group ${group} with ${C} input channels and weights [${W.dims.join(", ")}]`,
      );
    }
    const geo = this.geometry(a, x, kernel, "conv");
    const [fH, fW] = geo.kernel;
    const wsrc = this.floats(W, "the weights");
    // ONNX [M, C/g, kH, kW] → ours [fH, fW, C/g, M].
    const w = new Float32Array(wsrc.length);
    for (let m = 0; m < M; m++) {
      for (let c = 0; c < Cg; c++) {
        for (let i = 0; i < fH; i++) {
          for (let j = 0; j < fW; j++) {
            w[((i * fW + j) * Cg + c) * M + m] = wsrc[((m * Cg + c) * fH + i) * fW + j]!;
          }
        }
      }
    }
    const b = ins[2]
      ? Float32Array.from(this.floats(this.constant(ins[2], "the bias"), "the bias", [M]))
      : new Float32Array(M);
    const ep = this.epilogue(this.node.outputs[0]!, M, w, b, (o) => {
      const idx: number[] = [];
      for (let k = o; k < w.length; k += M) idx.push(k);
      return idx;
    });
    const layer = new Conv2D({
      filters: M,
      kernelSize: geo.kernel,
      stride: geo.stride,
      padding: geo.padding,
      dilation: geo.dilation,
      groups: group,
      activation: ep.act,
      name: this.layerName(),
    });
    this.vals.set(ep.name, { kind: "sym", t: this.apply(layer, x, [w, b]), rank: x.rank });
  }

  convTranspose(ins: (Val | undefined)[]): void {
    const a = this.attrs([
      "auto_pad",
      "dilations",
      "group",
      "kernel_shape",
      "pads",
      "strides",
      "output_padding",
      "output_shape",
    ]);
    if (a.has("output_shape")) {
      throw new Unsupported("attribute output_shape (give pads and output_padding instead)");
    }
    const x = this.sym(ins[0], "the input");
    if (x.rank === 2) throw new Unsupported("a 2-D input");
    const W = this.constant(ins[1], "the weights");
    if (W.dims.length !== x.rank) {
      throw new Unsupported(`weights of shape [${W.dims.join(", ")}] for a ${x.rank}-D input`);
    }
    const [C, Mg] = W.dims as [number, number], kernel = W.dims.slice(2);
    const group = this.int(a, "group", 1);
    if (C !== onnxShape(x)[0] || group < 1 || C % group) {
      throw new Unsupported(
        `group ${group} with ${onnxShape(x)[0]} input channels and weights [${W.dims.join(", ")}]`,
      );
    }
    const M = Mg * group;
    const geo = this.geometry(a, x, kernel, "convT");
    const opad = this.ints(a, "output_padding") ?? new Array(x.rank - 2).fill(0);
    if (opad.length !== x.rank - 2) throw new Unsupported(`output_padding [${opad.join(", ")}]`);
    const outputPadding: [number, number] = x.rank === 3 ? [0, opad[0]!] : [opad[0]!, opad[1]!];
    const [fH, fW] = geo.kernel, wsrc = this.floats(W, "the weights");
    // ONNX [C, M/g, kH, kW] → ours [fH, fW, M/g, C].
    const w = new Float32Array(wsrc.length);
    for (let c = 0; c < C; c++) {
      for (let m = 0; m < Mg; m++) {
        for (let i = 0; i < fH; i++) {
          for (let j = 0; j < fW; j++) {
            w[((i * fW + j) * Mg + m) * C + c] = wsrc[((c * Mg + m) * fH + i) * fW + j]!;
          }
        }
      }
    }
    const b = ins[2]
      ? Float32Array.from(this.floats(this.constant(ins[2], "the bias"), "the bias", [M]))
      : new Float32Array(M);
    const layer = new Conv2DTranspose({
      filters: M,
      kernelSize: geo.kernel,
      stride: geo.stride,
      padding: geo.padding,
      dilation: geo.dilation,
      groups: group,
      outputPadding,
      name: this.layerName(),
    });
    this.setOut({ kind: "sym", t: this.apply(layer, x, [w, b]), rank: x.rank });
  }

  pool(ins: (Val | undefined)[], isMax: boolean): void {
    const a = this.attrs(
      isMax
        ? ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"]
        : [
          "auto_pad",
          "ceil_mode",
          "count_include_pad",
          "dilations",
          "kernel_shape",
          "pads",
          "strides",
        ],
    );
    if (this.node.outputs[1] && this.consumers.get(this.node.outputs[1])?.length) {
      throw new Unsupported("its Indices output is used");
    }
    const x = this.sym(ins[0], "the input");
    if (x.rank === 2) throw new Unsupported("a 2-D input");
    const ks = this.ints(a, "kernel_shape");
    if (!ks || ks.length !== x.rank - 2 || ks.some((k) => !Number.isInteger(k) || k < 1)) {
      throw new Unsupported(`kernel_shape ${ks ? `[${ks.join(", ")}]` : "missing"}`);
    }
    const geo = this.geometry(a, x, ks, "pool");
    const opts = {
      poolSize: geo.kernel,
      stride: geo.stride,
      padding: geo.padding,
      dilation: geo.dilation,
      ceilMode: this.int(a, "ceil_mode", 0) === 1,
      name: this.layerName(),
    };
    const layer = isMax
      ? new MaxPool2D(opts)
      : new AvgPool2D({ ...opts, countIncludePad: this.int(a, "count_include_pad", 0) === 1 });
    this.setOut({ kind: "sym", t: this.apply(layer, x), rank: x.rank });
  }

  batchNorm(ins: (Val | undefined)[]): void {
    const a = this.attrs(["epsilon", "momentum", "training_mode", "spatial"]);
    if (this.int(a, "training_mode", 0)) throw new Unsupported("training_mode = 1");
    if (this.node.outputs.filter(Boolean).length > 1) {
      throw new Unsupported("running-statistics outputs (training mode)");
    }
    const x = this.sym(ins[0], "the input");
    const C = onnxShape(x)[0]!;
    const [gm, bt, mu, vr] = [1, 2, 3, 4].map((k) =>
      this.floats(this.constant(ins[k], `input ${k}`), `input ${k}`, [C])
    ) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const eps = this.float(a, "epsilon", 1e-5);
    if (!(eps > 0)) throw new Unsupported(`epsilon ${eps}`);
    if (x.hwcFrom) throw new Unsupported("BatchNormalization after a flatten");
    const layer = new BatchNorm({ epsilon: eps, name: this.layerName() });
    this.setOut({ kind: "sym", t: this.apply(layer, x, [gm, bt], [mu, vr]), rank: x.rank });
  }

  activation(op: string, ins: (Val | undefined)[]): void {
    const name = () => this.layerName();
    let layer: Layer;
    switch (op) {
      case "Relu":
        this.attrs([]);
        layer = new ReLU({ name: name() });
        break;
      case "Sigmoid":
        this.attrs([]);
        // x · sigmoid(x) (SiLU, efficientnet's activation): one SiLU.
        if (this.gatedBy("SiLU")) return;
        layer = new Sigmoid({ name: name() });
        break;
      case "Tanh":
        this.attrs([]);
        layer = new Tanh({ name: name() });
        break;
      case "HardSwish":
        this.attrs([]);
        layer = new HardSwish({ name: name() });
        break;
      case "LeakyRelu": {
        const alpha = this.float(this.attrs(["alpha"]), "alpha", 0.01);
        if (!(alpha >= 0 && alpha < 1)) {
          throw new Unsupported(`alpha ${alpha} (a slope in [0, 1) is supported)`);
        }
        layer = new LeakyReLU({ alpha, name: name() });
        break;
      }
      case "HardSigmoid": {
        const a = this.attrs(["alpha", "beta"]);
        // x · HardSigmoid(x) with PyTorch's 1/6 and 1/2 (hardswish at opset 13): one HardSwish.
        const alpha = this.float(a, "alpha", 0.2), beta = this.float(a, "beta", 0.5);
        if (
          Math.abs(alpha - 1 / 6) < 1e-6 && Math.abs(beta - 0.5) < 1e-6 && this.gatedBy("HardSwish")
        ) {
          return;
        }
        layer = new HardSigmoid({
          alpha: this.float(a, "alpha", 0.2),
          beta: this.float(a, "beta", 0.5),
          name: name(),
        });
        break;
      }
      case "Clip": {
        const a = this.attrs(["min", "max"]);
        const bound = (k: number, attr: string, d: number): number => {
          if (ins[k]) {
            const c = this.constant(ins[k], `the ${attr} bound`);
            if (size(c.dims) !== 1) {
              throw new Unsupported(`a ${attr} bound of shape [${c.dims.join(", ")}]`);
            }
            return Number(c.data[0]);
          }
          return this.float(a, attr, d);
        };
        const lo = bound(1, "min", -Infinity), hi = bound(2, "max", Infinity);
        if (Number.isNaN(lo) || Number.isNaN(hi) || hi < lo) {
          throw new Unsupported(`bounds [${lo}, ${hi}]`);
        }
        layer = lo === 0 && hi === 6
          ? new ReLU6({ name: name() })
          : lo === 0 && hi === Infinity
          ? new ReLU({ name: name() })
          : new Clip({ min: lo, max: hi, name: name() });
        break;
      }
      default: {
        // Softmax
        const a = this.attrs(["axis"]);
        const x0 = this.sym(ins[0], "the input");
        const ax = axis(this.int(a, "axis", this.opset < 13 ? 1 : -1), x0.rank);
        const shape = onnxShape(x0);
        const ok = ax === 1 && (this.opset >= 13 || x0.rank === 2 || size(shape.slice(1)) === 1);
        const okLast = ax === x0.rank - 1 && x0.rank === 2;
        if (!ok && !okLast) {
          throw new Unsupported(
            `softmax over axis ${
              this.int(a, "axis", this.opset < 13 ? 1 : -1)
            } of a ${x0.rank}-D tensor (over the channels is supported)`,
          );
        }
        layer = new Softmax({ name: name() });
        break;
      }
      case "Erf":
        this.attrs([]);
        layer = new Erf({ name: name() });
        break;
      case "Gelu": {
        const approximate = this.str(this.attrs(["approximate"]), "approximate", "none");
        if (approximate !== "none" && approximate !== "tanh") {
          throw new Unsupported(`approximate "${approximate}"`);
        }
        layer = new Gelu({ approximate, name: name() });
        break;
      }
    }
    // Element-wise: a map transposed to [N, H, W, C] stays so (ConvNeXt's blocks).
    const x = this.sym(ins[0], "the input", op !== "Softmax");
    this.setOut(this.like(x, this.apply(layer, x)));
  }

  /**
   * When this node's only reader is a Mul by the node's own input `x` (`x ·
   * f(x)`), makes both one `kind` layer (HardSwish, SiLU) and returns true.
   */
  gatedBy(kind: "HardSwish" | "SiLU"): boolean {
    const xName = this.node.inputs[0]!, x = this.vals.get(xName);
    const mul = this.soleConsumer(this.node.outputs[0]!);
    if (x?.kind !== "sym" || !mul || mul.node.opType !== "Mul" || mul.node.domain !== "") {
      return false;
    }
    if (mul.node.inputs[1 - mul.slot] !== xName) return false;
    this.absorbed.add(mul.node);
    this.node = { ...this.node, outputs: [mul.node.outputs[0]!] };
    const name = this.layerName();
    const layer = kind === "HardSwish" ? new HardSwish({ name }) : new SiLU({ name });
    this.setOut(this.like(x, this.apply(layer, x)));
    return true;
  }

  /** A value laid out like `x` (its rank, flatten order and NHWC view), computed as `t`. */
  like(x: Sym, t: SymbolicTensor): Sym {
    const v: Sym = { kind: "sym", t, rank: x.rank };
    if (x.hwcFrom) v.hwcFrom = x.hwcFrom;
    if (x.nhwc) v.nhwc = true;
    return v;
  }

  /**
   * ShuffleNet's channel shuffle, in three nodes: a Reshape to
   * `[N, g, C/g, ...]` (kept as a "grouped" value), a Transpose swapping
   * those two axes, and a Reshape back to `[N, C, ...]`, which becomes one
   * ChannelShuffle. Returns false when this Reshape is none of these.
   */
  channelShuffle(v: Val, t: number[]): boolean {
    const batchLike = (d: number) => Number.isNaN(d) || d === 0 || d === -1;
    if (v.kind === "grouped") {
      const x = v.x, s = onnxShape(x), c = s[0]!, spatial = s.slice(1);
      const ok = v.transposed && t.length === x.rank && batchLike(t[0]!) &&
        (t[1] === c || t[1] === -1) && spatial.every((d, i) => t[2 + i] === d || t[2 + i] === 0);
      if (!ok) {
        throw new Unsupported("a reshape of a [N, g, C/g, H, W] view other than a channel shuffle");
      }
      const layer = new ChannelShuffle({ groups: v.groups, name: this.layerName() });
      this.setOut({ kind: "sym", t: this.apply(layer, x), rank: x.rank });
      return true;
    }
    if (v.kind !== "sym") return false;
    const x = v, s = onnxShape(x), c = s[0]!, spatial = s.slice(1);
    if (x.nhwc || x.hwcFrom || t.length !== x.rank + 1 || !batchLike(t[0]!)) return false;
    const g = t[1]!, per = t[2]!;
    if (!(g > 0 && per > 0 && g * per === c) || spatial.some((d, i) => t[3 + i] !== d)) {
      return false;
    }
    this.setOut({ kind: "grouped", x, groups: g, transposed: false });
    return true;
  }

  /** A Slice of a computed tensor: channels `[begin, end)` with step 1. */
  channelSlice(ins: (Val | undefined)[]): void {
    if (this.opset < 10) throw new Unsupported("Slice before opset 10");
    this.attrs([]);
    const x = this.sym(ins[0], "the input");
    const ints = (v: Val | undefined, what: string) =>
      [...this.constant(v, what).data].map((d) => Number(d));
    const starts = ints(ins[1], "starts"), ends = ints(ins[2], "ends");
    const axes = ins[3] ? ints(ins[3], "axes") : starts.map((_, i) => i);
    const steps = ins[4] ? ints(ins[4], "steps") : starts.map(() => 1);
    const c = onnxShape(x)[0]!;
    if (
      axes.length !== 1 || axis(axes[0]!, x.rank) !== 1 || steps[0] !== 1 || x.hwcFrom || x.nhwc
    ) {
      throw new Unsupported(
        `a slice of a computed tensor along axes [${axes.join(", ")}] with steps [${
          steps.join(", ")
        }] (channels, step 1, are supported)`,
      );
    }
    const clampIdx = (v: number) => Math.max(0, Math.min(c, v < 0 ? v + c : v));
    const begin = clampIdx(starts[0]!), end = clampIdx(ends[0]!);
    if (end <= begin) {
      throw new Unsupported(`an empty slice of channels [${starts[0]}, ${ends[0]})`);
    }
    if (begin === 0 && end === c) return this.setOut(x);
    const layer = new ChannelSlice({ begin, end, name: this.layerName() });
    this.setOut({ kind: "sym", t: this.apply(layer, x), rank: x.rank });
  }

  /** Resize (opset 11–19): nearest or linear over H and W, by constant scales or sizes. */
  resize(ins: (Val | undefined)[]): void {
    const a = this.attrs([
      "mode",
      "coordinate_transformation_mode",
      "nearest_mode",
      "cubic_coeff_a",
      "exclude_outside",
      "extrapolation_value",
      "antialias",
      "axes",
      "keep_aspect_ratio_policy",
    ]);
    const x = this.sym(ins[0], "the input");
    if (x.rank !== 4) {
      throw new Unsupported(`a resize of a ${x.rank}-D tensor (4-D maps are supported)`);
    }
    const mode = this.str(a, "mode", "nearest");
    if (mode !== "nearest" && mode !== "linear") throw new Unsupported(`Resize mode "${mode}"`);
    const coords = this.str(a, "coordinate_transformation_mode", "half_pixel");
    if (!["asymmetric", "half_pixel", "pytorch_half_pixel", "align_corners"].includes(coords)) {
      throw new Unsupported(`coordinate_transformation_mode "${coords}"`);
    }
    if (this.int(a, "antialias", 0) !== 0) throw new Unsupported("antialias");
    const ax = this.ints(a, "axes");
    if (ax && String(ax.map((v) => axis(v, 4))) !== "2,3") {
      throw new Unsupported(`axes [${ax.join(", ")}] (the spatial axes [2, 3] are supported)`);
    }
    const n = ax ? 2 : 4;
    const given = (v: Val | undefined) =>
      v !== undefined && !(v.kind === "const" && size(v.c.dims) === 0);
    const [, h, w] = onnxShape(x) as [number, number, number];
    let opts: { scale: [number, number] } | { size: [number, number] };
    if (given(ins[3])) {
      const sz = [...this.constant(ins[3], "sizes").data].map(Number);
      if (sz.length !== n) throw new Unsupported(`sizes of length ${sz.length}`);
      const [oh, ow] = sz.slice(-2) as [number, number];
      if (n === 4 && !Number.isNaN(sz[1]!) && sz[1] !== onnxShape(x)[0]) {
        throw new Unsupported("a resize of the channels");
      }
      if (this.str(a, "keep_aspect_ratio_policy", "stretch") !== "stretch") {
        throw new Unsupported("keep_aspect_ratio_policy other than stretch");
      }
      opts = oh === h && ow === w ? { scale: [1, 1] } : { size: [oh, ow] };
    } else if (given(ins[2])) {
      const sc = [...this.floats(this.constant(ins[2], "scales"), "scales")];
      if (sc.length !== n || (n === 4 && (sc[0] !== 1 || sc[1] !== 1))) {
        throw new Unsupported(`scales [${sc.join(", ")}] (only height and width may scale)`);
      }
      opts = { scale: sc.slice(-2) as [number, number] };
    } else throw new Unsupported("a resize without scales or sizes");
    const layer = new Upsample2D({
      ...opts,
      mode: mode === "linear" ? "bilinear" : "nearest",
      coordinates: coords as CoordinateMode,
      ...(mode === "nearest"
        ? { rounding: this.str(a, "nearest_mode", "round_prefer_floor") as NearestRounding }
        : {}),
      name: this.layerName(),
    });
    this.setOut({ kind: "sym", t: this.apply(layer, x), rank: 4 });
  }

  /** A Split along the channels: one ChannelSlice per output. */
  split(ins: (Val | undefined)[]): void {
    const fromInput = this.opset >= 13;
    const a = this.attrs(fromInput ? ["axis", "num_outputs"] : ["axis", "split"]);
    const x = this.sym(ins[0], "the input");
    if (axis(this.int(a, "axis", 0), x.rank) !== 1 || x.hwcFrom || x.nhwc) {
      throw new Unsupported("a split along an axis other than the channels (1)");
    }
    const c = onnxShape(x)[0]!, n = this.node.outputs.length;
    let parts = fromInput
      ? (ins[1] ? [...this.constant(ins[1], "split").data].map(Number) : null)
      : this.ints(a, "split");
    if (!parts) {
      const k = Math.ceil(c / n);
      parts = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(k, c - i * k)));
    }
    if (parts.length !== n || parts.reduce((p, v) => p + v, 0) !== c || parts.some((v) => v <= 0)) {
      throw new Unsupported(`a split of ${c} channels into [${parts.join(", ")}]`);
    }
    let at = 0;
    const base = this.layerName();
    parts.forEach((w, i) => {
      const layer = new ChannelSlice({ begin: at, end: at + w, name: `${base}/${i}` });
      at += w;
      this.setOut({ kind: "sym", t: this.apply(layer, x), rank: x.rank }, i);
    });
  }

  /** ReduceMean / ReduceMax / ReduceSum over the spatial axes: a global pool (ReduceSum scaled by the count). */
  reduce(op: string, ins: (Val | undefined)[]): void {
    const fromInput = op === "ReduceSum" ? this.opset >= 13 : this.opset >= 18;
    const a = this.attrs(fromInput ? ["keepdims", "noop_with_empty_axes"] : ["axes", "keepdims"]);
    const x = this.sym(ins[0], "the input");
    const given = fromInput
      ? (ins[1] ? [...this.constant(ins[1], "axes").data].map(Number) : null)
      : this.ints(a, "axes");
    if (!given || given.length === 0) {
      throw new Unsupported(`${op} over every axis (only the spatial axes are supported)`);
    }
    const axes = given.map((v) => axis(v, x.rank)).sort();
    const spatial = x.rank === 4 ? [2, 3] : x.rank === 3 ? [2] : [];
    if (axes.some((v) => v === null) || String(axes) !== String(spatial)) {
      throw new Unsupported(
        `${op} over axes [${given.join(", ")}] of a ${x.rank}-D tensor (the spatial axes [${
          spatial.join(", ")
        }] are supported)`,
      );
    }
    const keep = this.int(a, "keepdims", 1) === 1;
    const name = this.layerName();
    const pool = op === "ReduceMax"
      ? new GlobalMaxPool2D({ keepDims: keep, name })
      : new GlobalAvgPool2D({ keepDims: keep, name });
    let t = this.apply(pool, x);
    if (op === "ReduceSum") {
      const n = x.t.shape[0]! * x.t.shape[1]!;
      t = this.apply(new ScaleShift({ scale: n, name: `${name}/sum` }), {
        kind: "sym",
        t,
        rank: keep ? x.rank : 2,
      });
    }
    this.setOut({ kind: "sym", t, rank: keep ? x.rank : 2 });
  }

  merge(op: string, ins: (Val | undefined)[]): void {
    this.attrs([]);
    const a = ins[0], b = ins[1];
    // A scalar constant operand: x·c, x/c, x + c, x − c, c − x, c + x, c·x.
    const scalar = (v: Val | undefined) => v?.kind === "const" && size(v.c.dims) === 1;
    if ((a?.kind === "sym" && scalar(b)) || (scalar(a) && b?.kind === "sym")) {
      const x = (a?.kind === "sym" ? a : b) as Sym;
      const c = Number(((a?.kind === "sym" ? b : a) as Folded).c.data[0]);
      const xFirst = a?.kind === "sym";
      if (op === "Div" && xFirst && Math.abs(c - Math.SQRT2) < 1e-6 && this.geluPattern(x)) return;
      let scale = 1, shift = 0;
      if (op === "Mul") scale = c;
      else if (op === "Add") shift = c;
      else if (op === "Sub") [scale, shift] = xFirst ? [1, -c] : [-1, c];
      else if (xFirst) scale = 1 / c;
      else throw new Unsupported("a constant divided by a computed tensor");
      if (!Number.isFinite(scale) || !Number.isFinite(shift)) {
        throw new Unsupported(`${op} by the constant ${c}`);
      }
      const layer = new ScaleShift({ scale, shift, name: this.layerName() });
      return this.setOut(this.like(x, this.apply(layer, x)));
    }
    // A per-channel constant ([C, 1, 1] against [N, C, H, W]; [C] against an NHWC view or [N, C]).
    const perChannel = (s: Sym, v: Val | undefined) =>
      v?.kind === "const" && this.channelConst(s, v.c) !== null;
    if ((a?.kind === "sym" && perChannel(a, b)) || (b?.kind === "sym" && perChannel(b, a))) {
      const x = (a?.kind === "sym" ? a : b) as Sym;
      const cv = this.channelConst(x, ((a?.kind === "sym" ? b : a) as Folded).c)!;
      const xFirst = a?.kind === "sym", C = cv.length;
      const k = new Float32Array(C).fill(1), bias = new Float32Array(C);
      for (let i = 0; i < C; i++) {
        const v = cv[i]!;
        if (op === "Mul") k[i] = v;
        else if (op === "Add") bias[i] = v;
        else if (op === "Sub") [k[i], bias[i]] = xFirst ? [1, -v] : [-1, v];
        else if (xFirst) k[i] = 1 / v;
        else throw new Unsupported("a constant divided by a computed tensor");
      }
      if (x.rank !== 4) throw new Unsupported(`a per-channel ${op} on a ${x.rank}-D tensor`);
      const layer = new DepthwiseConv2D({ kernelSize: 1, name: this.layerName() });
      return this.setOut(this.like(x, this.apply(layer, x, [k, bias])));
    }
    if (a?.kind !== "sym" || b?.kind !== "sym") {
      throw new Unsupported(`${op} with a constant operand (only a bias after MatMul is folded)`);
    }
    const sa = onnxShape(a), sb = onnxShape(b);
    // Broadcasting between tensors of one rank: [N, C, 1, 1] × [N, C, H, W] (squeeze-and-excitation)
    // broadcasts the same way in our NHWC layout, since both are permuted alike.
    const clash = sa.findIndex((d, i) => d !== sb[i] && d !== 1 && sb[i] !== 1);
    if (a.rank !== b.rank || clash >= 0) {
      throw new Unsupported(
        `operands of shapes [N, ${sa.join(", ")}] and [N, ${sb.join(", ")}] (${
          a.rank !== b.rank ? "broadcasting between different ranks" : "they do not broadcast"
        })`,
      );
    }
    if (String(a.hwcFrom) !== String(b.hwcFrom) || !a.nhwc !== !b.nhwc) {
      throw new Unsupported("operands in different layouts (flattened or transposed differently)");
    }
    // A Relu that alone reads the sum (a residual block's end) fuses into the Add.
    let relu = false;
    const next = op === "Add" ? this.soleConsumer(this.node.outputs[0]!) : null;
    if (
      next && next.node.opType === "Relu" && next.node.domain === "" &&
      !next.node.attributes.size
    ) {
      this.absorbed.add(next.node);
      this.node = { ...this.node, outputs: [next.node.outputs[0]!] };
      relu = true;
    }
    const name = this.layerName();
    const layer = op === "Add"
      ? new Add({ activation: relu ? "relu" : "linear", name })
      : op === "Mul"
      ? new Multiply({ name })
      : op === "Sub"
      ? new Subtract({ name })
      : new Divide({ name });
    this.setOut(this.like(a, this.applyMerge(layer, [a, b])));
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

  /**
   * PyTorch's exact GELU as exported: `x / √2` (this Div) → Erf → Add 1 →
   * Mul by `x` → Mul by 0.5, each read only by the next: one Gelu layer.
   */
  geluPattern(x: Sym): boolean {
    const xName = this.node.inputs[0]!;
    const step = (name: string, op: string) => {
      const n = this.soleConsumer(name);
      return n && n.node.opType === op && n.node.domain === "" ? n.node : null;
    };
    const constIs = (n: NodeProto, v: number) =>
      n.inputs.some((i) => {
        const c = this.vals.get(i);
        return c?.kind === "const" && size(c.c.dims) === 1 &&
          Math.abs(Number(c.c.data[0]) - v) < 1e-6;
      });
    const erfN = step(this.node.outputs[0]!, "Erf");
    const addN = erfN && step(erfN.outputs[0]!, "Add");
    const mulX = addN && constIs(addN, 1) ? step(addN.outputs[0]!, "Mul") : null;
    if (!mulX || !mulX.inputs.includes(xName)) return false;
    const half = step(mulX.outputs[0]!, "Mul");
    if (!half || !constIs(half, 0.5)) return false;
    for (const n of [erfN!, addN!, mulX, half]) this.absorbed.add(n);
    this.node = { ...this.node, outputs: [half.outputs[0]!] };
    const layer = new Gelu({ name: this.layerName() });
    this.setOut(this.like(x, this.apply(layer, x)));
    return true;
  }

  /** An element-wise math function of {@linkcode UNARY_FUNCTIONS}, by its ONNX name. */
  unary(op: string, ins: (Val | undefined)[]): void {
    const fn = (Object.keys(UNARY_FUNCTIONS) as UnaryFunction[]).find((k) =>
      UNARY_FUNCTIONS[k].onnx === op
    )!;
    let alpha: number | undefined;
    if (op === "Elu") alpha = this.float(this.attrs(["alpha"]), "alpha", 1);
    else if (op === "Selu") {
      const a = this.attrs(["alpha", "gamma"]);
      const al = this.float(a, "alpha", 1.67326319217681884765625),
        ga = this.float(a, "gamma", 1.05070102214813232421875);
      if (Math.abs(al - 1.6732632) > 1e-6 || Math.abs(ga - 1.0507010) > 1e-6) {
        throw new Unsupported(
          `Selu with alpha ${al}, gamma ${ga} (the standard constants are supported)`,
        );
      }
    } else this.attrs([]);
    const x = this.sym(ins[0], "the input", true);
    const layer = new Unary({
      fn,
      ...(alpha !== undefined ? { alpha } : {}),
      name: this.layerName(),
    });
    this.setOut(this.like(x, this.apply(layer, x)));
  }

  /** PRelu with a constant slope: one for all, or one per channel. */
  prelu(ins: (Val | undefined)[]): void {
    this.attrs([]);
    const x = this.sym(ins[0], "the input", true);
    const c = this.constant(ins[1], "the slope");
    const per = size(c.dims) === 1 ? null : this.channelConst(x, c);
    if (size(c.dims) !== 1 && !per) {
      throw new Unsupported(
        `a slope of shape [${c.dims.join(", ")}] (one, or one per channel, is supported)`,
      );
    }
    const slope = per ?? this.floats(c, "the slope");
    const layer = new PReLU({ perChannel: per !== null, name: this.layerName() });
    this.setOut(this.like(x, this.apply(layer, x, [Float32Array.from(slope)])));
  }

  /** Pow by a constant exponent: 2 (a square), 0.5 (sqrt), −1 (reciprocal), 1 (identity). */
  pow(ins: (Val | undefined)[]): void {
    this.attrs([]);
    if (ins[0]?.kind === "const" && ins[1]?.kind === "const") return this.foldArith("Pow", ins);
    const x = this.sym(ins[0], "the base", true);
    const e = this.constant(ins[1], "the exponent");
    if (size(e.dims) !== 1) throw new Unsupported("a Pow by a tensor of exponents");
    const p = Number(e.data[0]);
    if (p === 1) return this.setOut(x);
    const fn =
      ({ 2: "square", 0.5: "sqrt", [-1]: "reciprocal" } as Record<number, UnaryFunction>)[p];
    if (!fn) throw new Unsupported(`a Pow by ${p} (2, 0.5, -1 and 1 are supported)`);
    const layer = new Unary({ fn, name: this.layerName() });
    this.setOut(this.like(x, this.apply(layer, x)));
  }

  /** LayerNormalization over the last axis: the channels of an NHWC view, or the features of [N, C]. */
  layerNorm(ins: (Val | undefined)[]): void {
    const a = this.attrs(["axis", "epsilon", "stash_type"]);
    const x = this.sym(ins[0], "the input", true);
    const ax = axis(this.int(a, "axis", -1), x.rank);
    if (ax !== x.rank - 1 || !(x.nhwc || x.rank === 2)) {
      throw new Unsupported(
        `normalisation from axis ${this.int(a, "axis", -1)} of a ${x.rank}-D ${
          x.nhwc ? "NHWC " : ""
        }tensor (over the channels of an [N, H, W, C] view, or of [N, C], is supported)`,
      );
    }
    const C = x.t.shape[x.t.shape.length - 1]!;
    const gamma = this.floats(this.constant(ins[1], "the scale"), "the scale", [C]);
    const beta = ins[2]
      ? this.floats(this.constant(ins[2], "the bias"), "the bias", [C])
      : new Float32Array(C);
    const epsilon = this.float(a, "epsilon", 1e-5);
    if (!(epsilon > 0)) throw new Unsupported(`epsilon ${epsilon}`);
    const layer = new LayerNorm({ epsilon, name: this.layerName() });
    this.setOut(
      this.like(x, this.apply(layer, x, [Float32Array.from(gamma), Float32Array.from(beta)])),
    );
  }

  concat(ins: (Val | undefined)[]): void {
    const a = this.attrs(["axis"]);
    const xs = ins.map((v, i) => this.sym(v, `input ${i}`));
    const rank = xs[0]!.rank;
    const ax = axis(this.int(a, "axis", 1), rank);
    if (ax !== 1 || xs.some((x) => x.rank !== rank || x.hwcFrom)) {
      throw new Unsupported(
        `concatenation along axis ${
          this.int(a, "axis", 1)
        } of ${rank}-D tensors (the channel axis, 1, is supported)`,
      );
    }
    if (xs.length === 1) return this.setOut(xs[0]!);
    const layer = new Concatenate({ name: this.layerName() });
    this.setOut({ kind: "sym", t: this.applyMerge(layer, xs), rank });
  }

  /** A flatten of `x` to [N, features]: free when the order does not matter or a Gemm follows. */
  flattenTo(x: Sym): void {
    if (x.rank === 2) return this.setOut(x);
    if (x.nhwc) {
      // Transpose(0, 2, 3, 1) then flatten: exactly our memory order.
      const layer = new Flatten({ name: this.layerName() });
      return this.setOut({ kind: "sym", t: this.apply(layer, x), rank: 2 });
    }
    const [C, ...sp] = onnxShape(x), hw = size(sp);
    const out = this.node.outputs[0]!;
    const cons = this.consumers.get(out) ?? [];
    const gemmOnly = !this.graphOutputs.has(out) && cons.length > 0 &&
      cons.every((c) =>
        c.slot === 0 && (c.node.opType === "Gemm" || c.node.opType === "MatMul") &&
        c.node.domain === ""
      );
    const plain = hw === 1 || C === 1;
    const layer = new Flatten({ order: plain || gemmOnly ? "hwc" : "chw", name: this.layerName() });
    const v: Sym = { kind: "sym", t: this.apply(layer, x), rank: 2 };
    if (!plain && gemmOnly) v.hwcFrom = [C!, x.rank === 4 ? sp[0]! : 1, sp.at(-1)!];
    this.setOut(v);
  }

  flatten(ins: (Val | undefined)[]): void {
    const a = this.attrs(["axis"]);
    const x = this.sym(ins[0], "the input", true);
    const ax = axis(this.int(a, "axis", 1), x.rank, true);
    if (ax !== 1) {
      throw new Unsupported(
        `axis ${this.int(a, "axis", 1)} (flattening after the batch axis, 1, is supported)`,
      );
    }
    this.flattenTo(x);
  }

  reshape(ins: (Val | undefined)[]): void {
    const a = this.attrs(["allowzero"]);
    const shape = this.constant(ins[1], "the target shape");
    if (ins[0]?.kind === "const") {
      const c = ins[0].c, n = size(c.dims);
      const dims = resolveReshape(c.dims, [...shape.data], this.int(a, "allowzero", 0) === 1);
      if (typeof dims === "string" || size(dims) !== n) {
        throw new Unsupported(`a constant reshape: ${dims}`);
      }
      return this.setOut({ kind: "const", c: { dims, data: c.data, isInt: c.isInt } });
    }
    if (ins[0] && this.channelShuffle(ins[0], [...shape.data].map(Number))) return;
    const x = this.sym(ins[0], "the input", true);
    const t = [...shape.data].map(Number);
    const feat = size(onnxShape(x));
    const batchLike = (d: number) => Number.isNaN(d) || d === 0 || d === -1;
    const ok = t.length === 2 && (
      (batchLike(t[0]!) && (t[1] === -1 || t[1] === feat) && !(t[0] === -1 && t[1] === -1)) ||
      (t[0] === -1 && t[1] === feat)
    );
    if (ok) return this.flattenTo(x);
    const same = !x.nhwc && t.length === x.rank && batchLike(t[0]!) &&
      t.slice(1).every((d, i) => d === onnxShape(x)[i] || d === 0);
    if (same) return this.setOut(x);
    throw new Unsupported(
      `a reshape of [N, ${onnxShape(x).join(", ")}] to [${
        t.map((d) => (Number.isNaN(d) ? "N" : d)).join(", ")
      }] (flattening to [N, features] is supported)`,
    );
  }

  /** A dense layer from a [K, M] weight (already transposed and scaled). */
  dense(x: Sym, B: Float32Array, K: number, M: number, bias: Float32Array): void {
    if (x.nhwc) {
      // A MatMul over the last axis of an [N, H, W, C] view (ConvNeXt's Linear): a 1×1 convolution.
      const C = x.t.shape[2]!;
      if (K !== C) throw new Unsupported(`weights for ${K} features, the input has ${C} channels`);
      const ep = this.epilogue(this.node.outputs[0]!, M, B, bias, (o) => {
        const idx: number[] = [];
        for (let k = o; k < B.length; k += M) idx.push(k);
        return idx;
      });
      const layer = new Conv2D({
        filters: M,
        kernelSize: 1,
        activation: ep.act,
        name: this.layerName(),
      });
      this.vals.set(ep.name, this.like(x, this.apply(layer, x, [B, bias])));
      return;
    }
    const feat = size(onnxShape(x));
    if (x.rank !== 2) {
      throw new Unsupported(`a ${x.rank}-D input (a 2-D [N, features] input is supported)`);
    }
    if (K !== feat) throw new Unsupported(`weights for ${K} features, the input has ${feat}`);
    let w = B;
    if (x.hwcFrom) {
      // Our feature (h, w, c) is ONNX's (c, h, w): permute the rows.
      const [C, H, Wd] = x.hwcFrom;
      w = new Float32Array(B.length);
      for (let h = 0; h < H; h++) {
        for (let q = 0; q < Wd; q++) {
          for (let c = 0; c < C; c++) {
            const ours = (h * Wd + q) * C + c, theirs = (c * H + h) * Wd + q;
            w.set(B.subarray(theirs * M, theirs * M + M), ours * M);
          }
        }
      }
    }
    const ep = this.epilogue(this.node.outputs[0]!, M, w, bias, (o) => {
      const idx: number[] = [];
      for (let k = o; k < w.length; k += M) idx.push(k);
      return idx;
    });
    const layer = new Dense({
      units: M,
      activation: ep.act,
      name: this.layerName(),
    });
    this.vals.set(ep.name, { kind: "sym", t: this.apply(layer, x, [w, bias]), rank: 2 });
  }

  gemm(ins: (Val | undefined)[]): void {
    const a = this.attrs(["alpha", "beta", "transA", "transB"]);
    if (this.int(a, "transA", 0)) throw new Unsupported("transA = 1");
    const x = this.sym(ins[0], "input A");
    const Bc = this.constant(ins[1], "input B");
    if (Bc.dims.length !== 2) throw new Unsupported(`B of shape [${Bc.dims.join(", ")}]`);
    const transB = this.int(a, "transB", 0) === 1;
    const [K, M] = transB ? [Bc.dims[1]!, Bc.dims[0]!] : [Bc.dims[0]!, Bc.dims[1]!];
    const alpha = this.float(a, "alpha", 1), beta = this.float(a, "beta", 1);
    const src = this.floats(Bc, "B"), B = new Float32Array(K * M);
    for (let k = 0; k < K; k++) {
      for (let m = 0; m < M; m++) B[k * M + m] = alpha * src[transB ? m * K + k : k * M + m]!;
    }
    const bias = new Float32Array(M);
    if (ins[2]) {
      const Cc = this.constant(ins[2], "input C"), n = size(Cc.dims), cv = this.floats(Cc, "C");
      if (!(n === 1 || (n === M && Cc.dims.at(-1) === M))) {
        throw new Unsupported(
          `C of shape [${Cc.dims.join(", ")}] (a bias of ${M} or a scalar is supported)`,
        );
      }
      for (let m = 0; m < M; m++) bias[m] = beta * cv[n === 1 ? 0 : m]!;
    }
    this.dense(x, B, K, M, bias);
  }

  matmul(ins: (Val | undefined)[]): void {
    this.attrs([]);
    const x = this.sym(ins[0], "input A", true);
    const Bc = this.constant(ins[1], "input B");
    if (Bc.dims.length !== 2) {
      throw new Unsupported(`B of shape [${Bc.dims.join(", ")}] (2-D is supported)`);
    }
    const [K, M] = Bc.dims as [number, number];
    const B = Float32Array.from(this.floats(Bc, "B"));
    const bias = new Float32Array(M);
    // A bias added right after (nn.Linear on some exporters, x @ W + b): fold it.
    const next = this.soleConsumer(this.node.outputs[0]!);
    if (next && next.node.opType === "Add" && next.node.domain === "") {
      const other = next.node.inputs[1 - next.slot];
      const v = other ? this.vals.get(other) : undefined;
      if (
        v?.kind === "const" &&
        (size(v.c.dims) === M && v.c.dims.at(-1) === M || size(v.c.dims) === 1)
      ) {
        const cv = this.floats(v.c, "the bias");
        for (let m = 0; m < M; m++) bias[m] = cv[cv.length === 1 ? 0 : m]!;
        this.absorbed.add(next.node);
        const out = next.node.outputs[0]!;
        this.node = { ...this.node, outputs: [out] };
      }
    }
    this.dense(x, B, K, M, bias);
  }

  pad(ins: (Val | undefined)[]): void {
    const a = this.attrs(["mode", "pads", "value"]);
    const mode = this.str(a, "mode", "constant");
    if (mode !== "constant") throw new Unsupported(`mode "${mode}" (constant is supported)`);
    const x = this.sym(ins[0], "the input");
    if (x.rank === 2) throw new Unsupported("a 2-D input");
    let pads = ins[1] ? [...this.constant(ins[1], "pads").data].map(Number) : this.ints(a, "pads");
    if (!pads) throw new Unsupported("no pads");
    let value = this.float(a, "value", 0);
    if (ins[2]) {
      const c = this.constant(ins[2], "constant_value");
      if (size(c.dims) !== 1) throw new Unsupported("a constant_value that is not a scalar");
      value = Number(c.data[0]);
    }
    const r = x.rank;
    if (ins[3]) {
      const axes = [...this.constant(ins[3], "axes").data].map((q) => axis(Number(q), r));
      if (axes.some((q) => q === null) || pads.length !== 2 * axes.length) {
        throw new Unsupported("axes");
      }
      const full = new Array(2 * r).fill(0);
      axes.forEach((q, i) => {
        full[q!] = pads![i];
        full[q! + r] = pads![i + axes.length];
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
    const padding: [number, number, number, number] = r === 4
      ? [pads[2]!, pads[6]!, pads[3]!, pads[7]!]
      : [0, 0, pads[2]!, pads[5]!];
    if (!Number.isFinite(value)) throw new Unsupported(`value ${value}`);
    const layer = new Pad2D({ padding, value, name: this.layerName() });
    this.setOut({ kind: "sym", t: this.apply(layer, x), rank: r });
  }

  // ------------------------------------------------------- constant folding

  shapeOp(ins: (Val | undefined)[]): void {
    const a = this.attrs(["start", "end"]);
    const v = ins[0]!;
    let dims: number[];
    if (v.kind === "const") dims = [...v.c.dims];
    else {
      const x = this.sym(v, "the input");
      dims = [NaN, ...onnxShape(x)];
    }
    const r = dims.length;
    const clampAx = (q: number) => Math.min(Math.max(q < 0 ? q + r : q, 0), r);
    const s = clampAx(this.int(a, "start", 0)), e = clampAx(this.int(a, "end", r));
    const d = dims.slice(s, Math.max(s, e));
    this.setOut({ kind: "const", c: { dims: [d.length], data: d, isInt: true } });
  }

  foldArith(op: string, ins: (Val | undefined)[]): void {
    this.attrs([]);
    const r = arith(op, (ins[0] as Folded).c, (ins[1] as Folded).c);
    if (typeof r === "string") throw new Unsupported(`constant ${op}: ${r}`);
    this.setOut({ kind: "const", c: r });
  }

  foldConcat(ins: (Val | undefined)[]): void {
    const a = this.attrs(["axis"]);
    const parts = ins.map((v) => (v as Folded).c);
    const rank = parts[0]!.dims.length, ax = axis(this.int(a, "axis", 0), rank);
    if (
      ax === null ||
      parts.some((p) =>
        p.dims.length !== rank || p.dims.some((d, i) => i !== ax && d !== parts[0]!.dims[i])
      )
    ) {
      throw new Unsupported("a constant concatenation of mismatched shapes");
    }
    this.setOut({ kind: "const", c: concat(parts, ax) });
  }

  fold(op: string, ins: (Val | undefined)[]): void {
    const x = ins[0];
    if (x?.kind === "grouped" && op === "Transpose") {
      const perm = this.ints(this.attrs(["perm"]), "perm");
      const rest = onnxShape(x.x).slice(1).map((_, i) => 3 + i);
      if (!x.transposed && String(perm) === String([0, 2, 1, ...rest])) {
        return this.setOut({ ...x, transposed: true });
      }
      throw new Unsupported(`a transpose by [${perm}] of a [N, g, C/g, H, W] view`);
    }
    if (x?.kind === "sym" && op === "Transpose") {
      const perm = this.ints(this.attrs(["perm"]), "perm");
      const v0 = x;
      if (v0.nhwc && String(perm) === "0,3,1,2") {
        const { nhwc: _n, ...back } = v0;
        return this.setOut(back);
      }
      const v = this.sym(x, "the input");
      if (v.rank === 4 && String(perm) === "0,2,3,1") return this.setOut({ ...v, nhwc: true });
      throw new Unsupported(
        `a transpose of a computed tensor by [${
          perm ?? "reverse"
        }] (only [0, 2, 3, 1] before a flatten is supported)`,
      );
    }
    if (x?.kind === "sym" && op === "Cast") {
      this.attrs(["to", "saturate"]);
      if (this.int(this.node.attributes, "to", 0) !== DT.FLOAT) {
        throw new Unsupported("a cast of a computed tensor to a type other than FLOAT");
      }
      return this.setOut(x);
    }
    if (x?.kind !== "const") {
      throw new Unsupported(`operator ${op} on a tensor computed at run time`);
    }
    const c = x.c;
    let r: Const | string;
    switch (op) {
      case "Gather": {
        const a = this.attrs(["axis"]), ax = axis(this.int(a, "axis", 0), c.dims.length);
        r = ax === null ? "axis out of range" : gather(c, this.constant(ins[1], "indices"), ax);
        break;
      }
      case "Unsqueeze":
      case "Squeeze": {
        const a = this.attrs(["axes"]);
        const axesRaw = ins[1]
          ? [...this.constant(ins[1], "axes").data].map(Number)
          : this.ints(a, "axes");
        const dims = [...c.dims];
        if (op === "Unsqueeze") {
          const outRank = dims.length + (axesRaw?.length ?? 0);
          const axes = (axesRaw ?? []).map((q) => axis(q, outRank)).sort((p, q) => p! - q!);
          if (axes.some((q) => q === null)) throw new Unsupported("axes out of range");
          for (const q of axes) dims.splice(q!, 0, 1);
        } else {
          const axes = axesRaw
            ? axesRaw.map((q) => axis(q, dims.length))
            : dims.flatMap((d, i) => (d === 1 ? [i] : []));
          if (axes.some((q) => q === null || dims[q] !== 1)) {
            throw new Unsupported("squeezing an axis that is not 1");
          }
          for (const q of [...axes].sort((p, s) => s! - p!)) dims.splice(q!, 1);
        }
        r = { dims, data: c.data, isInt: c.isInt };
        break;
      }
      case "Slice": {
        this.attrs([]);
        const get = (
          k: number,
        ) => (ins[k] ? [...this.constant(ins[k], `input ${k}`).data].map(Number) : null);
        const starts = get(1)!, ends = get(2)!;
        const axes = get(3) ?? starts.map((_, i) => i), steps = get(4) ?? starts.map(() => 1);
        r = slice(c, starts, ends, axes, steps);
        break;
      }
      case "Transpose": {
        const a = this.attrs(["perm"]);
        const perm = this.ints(a, "perm") ?? c.dims.map((_, i) => c.dims.length - 1 - i);
        r = [...perm].sort().every((p, i) => p === i) && perm.length === c.dims.length
          ? transpose(c, perm)
          : "a bad perm";
        break;
      }
      case "Cast": {
        const a = this.attrs(["to", "saturate"]);
        const to = this.int(a, "to", 0);
        const toInt = to === DT.INT64 || to === DT.INT32;
        if (!toInt && to !== DT.FLOAT && to !== DT.DOUBLE) {
          throw new Unsupported(`a cast to ${DT_NAMES[to] ?? to}`);
        }
        r = toInt
          ? {
            dims: c.dims,
            data: [...c.data].map((v) => (Number.isNaN(v) ? v : Math.trunc(v))),
            isInt: true,
          }
          : { dims: c.dims, data: Float32Array.from(c.data), isInt: false };
        break;
      }
      default: {
        // ConstantOfShape
        const a = this.attrs(["value"]);
        const dims = [...c.data].map(Number);
        if (dims.some((d) => !Number.isInteger(d) || d < 0) || size(dims) > MAX_FOLD) {
          throw new Unsupported(`ConstantOfShape of [${dims.join(", ")}]`);
        }
        const t = a.get("value")?.t;
        const fill = t?.values ? Number(t.values[0] ?? 0) : 0;
        const isInt = t ? t.dataType === DT.INT64 || t.dataType === DT.INT32 : false;
        const n = size(dims);
        r = { dims, data: isInt ? new Array(n).fill(fill) : new Float32Array(n).fill(fill), isInt };
      }
    }
    if (typeof r === "string") throw new Unsupported(`constant ${op}: ${r}`);
    if (size(r.dims) > MAX_FOLD) {
      throw new Unsupported(`a folded constant of ${size(r.dims)} elements`);
    }
    this.setOut({ kind: "const", c: r });
  }
}

/** Resolves a Reshape target against constant data dims (0 copies, -1 infers). */
function resolveReshape(inDims: number[], target: number[], allowZero: boolean): number[] | string {
  const n = size(inDims);
  const out = target.map((d, i) => (d === 0 && !allowZero ? inDims[i] ?? NaN : d));
  const neg = out.filter((d) => d === -1).length;
  if (neg > 1 || out.some((d) => Number.isNaN(d) || d < -1)) return `target [${target.join(", ")}]`;
  if (neg === 1) {
    const known = size(out.filter((d) => d !== -1));
    if (known === 0 || n % known) return `target [${target.join(", ")}]`;
    out[out.indexOf(-1)] = n / known;
  }
  return out;
}

/** The operators the importer knows. */
export const KNOWN: ReadonlySet<string> = new Set([
  "Conv",
  "ConvTranspose",
  "MaxPool",
  "AveragePool",
  "GlobalAveragePool",
  "GlobalMaxPool",
  "BatchNormalization",
  "Relu",
  "LeakyRelu",
  "Clip",
  "Sigmoid",
  "Tanh",
  "HardSigmoid",
  "HardSwish",
  "Add",
  "Mul",
  "Sub",
  "Div",
  "Concat",
  "Flatten",
  "Reshape",
  "Gemm",
  "MatMul",
  "Softmax",
  "Dropout",
  "Identity",
  "Constant",
  "Pad",
  "Shape",
  "Gather",
  "Unsqueeze",
  "Squeeze",
  "Slice",
  "Transpose",
  "Cast",
  "ConstantOfShape",
  "ReduceMean",
  "ReduceMax",
  "ReduceSum",
  "Neg",
  "Split",
  "Resize",
  "Erf",
  "Gelu",
  "LayerNormalization",
  "Exp",
  "Log",
  "Sqrt",
  "Reciprocal",
  "Abs",
  "Softplus",
  "Softsign",
  "Mish",
  "Elu",
  "Selu",
  "Pow",
  "PRelu",
]);

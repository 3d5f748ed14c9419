// This module is browser compatible.

/**
 * Decodes the parts of ONNX's `ModelProto` the importer reads (private).
 * Field numbers follow `onnx.proto` (IR version 3 and later). Unknown fields
 * are skipped; every length is checked before it is used.
 *
 * @module
 */

import { I32, I64, LEN, ProtoReader, readFloat, readInt64, VARINT } from "./_protobuf.ts";

/** Whether float32 arrays are little-endian here (as ONNX's raw_data is), so raw data can be copied whole. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** TensorProto.DataType values the importer knows. */
export const DT = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  DOUBLE: 11,
  BOOL: 9,
  FLOAT16: 10,
} as const;

/** The names of TensorProto.DataType values, for messages. */
export const DT_NAMES: Record<number, string> = {
  0: "UNDEFINED",
  1: "FLOAT",
  2: "UINT8",
  3: "INT8",
  4: "UINT16",
  5: "INT16",
  6: "INT32",
  7: "INT64",
  8: "STRING",
  9: "BOOL",
  10: "FLOAT16",
  11: "DOUBLE",
  12: "UINT32",
  13: "UINT64",
  14: "COMPLEX64",
  15: "COMPLEX128",
  16: "BFLOAT16",
};

/**
 * `a` itself, or a copy when it is a view of the file's bytes (`file`, the
 * buffer under them): FLOAT tensors are decoded as views where they can be,
 * and a layer that kept one as its weights would change with the caller's
 * buffer and keep the whole file alive.
 */
export function ownedFloats(a: Float32Array, file: ArrayBufferLike): Float32Array {
  return a.buffer === file ? a.slice() : a;
}

/**
 * A decoded tensor: float tensors as Float32Array (a FLOAT tensor's raw
 * data at a 4-byte aligned offset as a view of the file's bytes: see
 * {@linkcode ownedFloats}), integer ones as numbers.
 */
export interface TensorProto {
  name: string;
  dims: number[];
  dataType: number;
  /** The values (FLOAT, DOUBLE → Float32Array; INT32, INT64 → number[]); null when the type is not one of those. */
  values: Float32Array | number[] | null;
  /** Whether the data lives in an external file. */
  external: boolean;
  path: string;
}

/** A decoded attribute. */
export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: string;
  t?: TensorProto;
  floats: number[];
  ints: number[];
  /** Whether it holds a graph, sparse tensor or type (never supported). */
  exotic: boolean;
}

/** A decoded node. */
export interface NodeProto {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, AttributeProto>;
  path: string;
}

/** A graph input or output: its name, element type and shape (numbers, or a name for a symbolic dimension). */
export interface ValueInfo {
  name: string;
  elemType: number;
  shape: (number | string | null)[] | null;
}

/** A decoded graph. */
export interface GraphProto {
  name: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  sparseInitializers: number;
}

/** A decoded model. */
export interface ModelProto {
  irVersion: number;
  producer: string;
  opsets: Map<string, number>;
  graph: GraphProto | null;
  functions: number;
}

/** Options of {@linkcode decodeModel}. */
export interface DecodeOptions {
  /** The most tensor elements the initializers may hold in all. */
  maxElements: number;
}

/** Decodes a `ModelProto`. */
export function decodeModel(bytes: Uint8Array, options: DecodeOptions): ModelProto {
  const r = new ProtoReader(bytes, "model");
  const m: ModelProto = {
    irVersion: 0,
    producer: "",
    opsets: new Map(),
    graph: null,
    functions: 0,
  };
  const budget = { left: options.maxElements };
  while (!r.done()) {
    const [f, w] = r.key();
    if (f === 1) {
      r.expect(w, VARINT, "ir_version");
      m.irVersion = r.int64();
    } else if (f === 2) {
      r.expect(w, LEN, "producer_name");
      m.producer = r.string("model.producer_name");
    } else if (f === 7) {
      r.expect(w, LEN, "graph");
      if (m.graph) r.fail("two graph fields");
      m.graph = decodeGraph(r.message("graph"), budget);
    } else if (f === 8) {
      r.expect(w, LEN, "opset_import");
      const path = `model.opset_import[${m.opsets.size}]`;
      const o = r.message(path);
      let domain = "", version = 0;
      while (!o.done()) {
        const [g, ww] = o.key();
        if (g === 1) {
          o.expect(ww, LEN, "domain");
          domain = o.string(`${path}.domain`);
        } else if (g === 2) {
          o.expect(ww, VARINT, "version");
          version = o.int64();
        } else o.skip(ww);
      }
      m.opsets.set(domain === "ai.onnx" ? "" : domain, version);
    } else if (f === 25) {
      r.skip(w);
      m.functions++;
    } else r.skip(w);
  }
  return m;
}

function decodeGraph(r: ProtoReader, budget: { left: number }): GraphProto {
  const g: GraphProto = {
    name: "",
    nodes: [],
    initializers: [],
    inputs: [],
    outputs: [],
    sparseInitializers: 0,
  };
  while (!r.done()) {
    const [f, w] = r.key();
    if (f === 1) {
      r.expect(w, LEN, "node");
      g.nodes.push(decodeNode(r.message(`graph.node[${g.nodes.length}]`), budget));
    } else if (f === 2) {
      r.expect(w, LEN, "name");
      g.name = r.string("graph.name");
    } else if (f === 5) {
      r.expect(w, LEN, "initializer");
      g.initializers.push(
        decodeTensor(r.message(`graph.initializer[${g.initializers.length}]`), budget),
      );
    } else if (f === 11 || f === 12) {
      r.expect(w, LEN, f === 11 ? "input" : "output");
      const list = f === 11 ? g.inputs : g.outputs;
      list.push(
        decodeValueInfo(r.message(`graph.${f === 11 ? "input" : "output"}[${list.length}]`)),
      );
    } else if (f === 15) {
      r.skip(w);
      g.sparseInitializers++;
    } else r.skip(w);
  }
  return g;
}

function decodeNode(r: ProtoReader, budget: { left: number }): NodeProto {
  const n: NodeProto = {
    name: "",
    opType: "",
    domain: "",
    inputs: [],
    outputs: [],
    attributes: new Map(),
    path: r.path,
  };
  while (!r.done()) {
    const [f, w] = r.key();
    if (f === 1 || f === 2) {
      r.expect(w, LEN, f === 1 ? "input" : "output");
      (f === 1 ? n.inputs : n.outputs).push(r.string(`${r.path}.${f === 1 ? "input" : "output"}`));
    } else if (f === 3) {
      r.expect(w, LEN, "name");
      n.name = r.string(`${r.path}.name`);
    } else if (f === 4) {
      r.expect(w, LEN, "op_type");
      n.opType = r.string(`${r.path}.op_type`);
    } else if (f === 7) {
      r.expect(w, LEN, "domain");
      n.domain = r.string(`${r.path}.domain`);
    } else if (f === 5) {
      r.expect(w, LEN, "attribute");
      const a = decodeAttribute(r.message(`${r.path}.attribute[${n.attributes.size}]`), budget);
      if (n.attributes.has(a.name)) r.fail(`attribute "${a.name}" appears twice`);
      n.attributes.set(a.name, a);
    } else r.skip(w);
  }
  if (n.domain === "ai.onnx") n.domain = "";
  return n;
}

function decodeAttribute(r: ProtoReader, budget: { left: number }): AttributeProto {
  const a: AttributeProto = { name: "", type: 0, floats: [], ints: [], exotic: false };
  while (!r.done()) {
    const [f, w] = r.key();
    switch (f) {
      case 1:
        r.expect(w, LEN, "name");
        a.name = r.string(`${r.path}.name`);
        break;
      case 20:
        r.expect(w, VARINT, "type");
        a.type = r.varint();
        break;
      case 2:
        r.expect(w, I32, "f");
        a.f = r.float();
        break;
      case 3:
        r.expect(w, VARINT, "i");
        a.i = r.int64();
        break;
      case 4:
        r.expect(w, LEN, "s");
        a.s = r.string(`${r.path}.s`);
        break;
      case 5:
        r.expect(w, LEN, "t");
        a.t = decodeTensor(r.message(`${r.path}.t`), budget);
        break;
      case 7:
        r.repeated(w, I32, readFloat, a.floats, "floats");
        break;
      case 8:
        r.repeated(w, VARINT, readInt64, a.ints, "ints");
        break;
      case 6:
      case 10:
      case 11:
      case 12:
      case 14:
      case 15:
        r.skip(w);
        a.exotic = true;
        break;
      default:
        r.skip(w);
    }
  }
  if (!a.name) r.fail("attribute without a name");
  return a;
}

function decodeValueInfo(r: ProtoReader): ValueInfo {
  const v: ValueInfo = { name: "", elemType: 0, shape: null };
  while (!r.done()) {
    const [f, w] = r.key();
    if (f === 1) {
      r.expect(w, LEN, "name");
      v.name = r.string(`${r.path}.name`);
    } else if (f === 2) {
      r.expect(w, LEN, "type");
      const t = r.message(`${r.path}.type`);
      while (!t.done()) {
        const [g, ww] = t.key();
        if (g !== 1) {
          t.skip(ww);
          continue;
        }
        t.expect(ww, LEN, "tensor_type");
        const tt = t.message(`${r.path}.type.tensor_type`);
        while (!tt.done()) {
          const [h, w3] = tt.key();
          if (h === 1) {
            tt.expect(w3, VARINT, "elem_type");
            v.elemType = tt.varint();
          } else if (h === 2) {
            tt.expect(w3, LEN, "shape");
            v.shape = [];
            const s = tt.message(`${r.path}.type.tensor_type.shape`);
            while (!s.done()) {
              const [k, w4] = s.key();
              if (k !== 1) {
                s.skip(w4);
                continue;
              }
              s.expect(w4, LEN, "dim");
              const d = s.message(`${s.path}.dim[${v.shape.length}]`);
              let dim: number | string | null = null;
              while (!d.done()) {
                const [q, w5] = d.key();
                if (q === 1) {
                  d.expect(w5, VARINT, "dim_value");
                  dim = d.int64();
                } else if (q === 2) {
                  d.expect(w5, LEN, "dim_param");
                  dim = d.string(`${d.path}.dim_param`);
                } else d.skip(w5);
              }
              v.shape.push(dim);
            }
          } else tt.skip(w3);
        }
      }
    } else r.skip(w);
  }
  return v;
}

function decodeTensor(r: ProtoReader, budget: { left: number }): TensorProto {
  const t: TensorProto = {
    name: "",
    dims: [],
    dataType: 0,
    values: null,
    external: false,
    path: r.path,
  };
  let raw: Uint8Array | null = null;
  const floats: number[] = [], ints: number[] = [], doubles: number[] = [];
  let sawData = false;
  while (!r.done()) {
    const [f, w] = r.key();
    switch (f) {
      case 1:
        r.repeated(w, VARINT, readInt64, t.dims, "dims");
        break;
      case 2:
        r.expect(w, VARINT, "data_type");
        t.dataType = r.varint();
        break;
      case 8:
        r.expect(w, LEN, "name");
        t.name = r.string(`${r.path}.name`);
        break;
      case 9:
        r.expect(w, LEN, "raw_data");
        raw = r.bytes();
        break;
      case 4:
        sawData = true;
        r.repeated(w, I32, readFloat, floats, "float_data");
        break;
      case 5:
      case 7:
        sawData = true;
        r.repeated(w, VARINT, readInt64, ints, f === 5 ? "int32_data" : "int64_data");
        break;
      case 10:
        sawData = true;
        r.repeated(w, I64, (x) => x.double(), doubles, "double_data");
        break;
      case 13:
        r.skip(w);
        t.external = true;
        break;
      case 14:
        r.expect(w, VARINT, "data_location");
        if (r.varint() === 1) t.external = true;
        break;
      default:
        r.skip(w);
    }
  }
  if (t.external) return t;
  let count = 1;
  for (const [i, d] of t.dims.entries()) {
    if (!Number.isInteger(d) || d < 0) r.fail(`dims[${i}] is ${d}, not a non-negative integer`);
    count *= d;
  }
  if (count > 2 ** 31) r.fail(`dims [${t.dims.join(", ")}] hold ${count} elements, more than 2^31`);
  const width: Record<number, number> = { 1: 4, 6: 4, 7: 8, 11: 8, 10: 2, 2: 1, 3: 1, 9: 1 };
  if (raw) {
    if (sawData) r.fail("both raw_data and a typed data field");
    const wd = width[t.dataType];
    if (wd === undefined) return t; // an unsupported type: the importer reports it if used
    if (raw.length !== count * wd) {
      r.fail(
        `raw_data holds ${raw.length} bytes; dims [${t.dims.join(", ")}] of ${
          DT_NAMES[t.dataType]
        } need ${count * wd}`,
      );
    }
  } else {
    const have = t.dataType === DT.FLOAT
      ? floats.length
      : t.dataType === DT.DOUBLE
      ? doubles.length
      : ints.length;
    if (have !== count && !(count === 0 && have === 0)) {
      r.fail(`holds ${have} values; dims [${t.dims.join(", ")}] need ${count}`);
    }
  }
  if (t.dataType === DT.FLOAT || t.dataType === DT.DOUBLE) {
    if (count > budget.left) {
      r.fail(`${count} elements exceed the parameter cap (${budget.left} left of maxParameters)`);
    }
    budget.left -= count;
  }
  const dv = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  switch (t.dataType) {
    case DT.FLOAT: {
      if (raw && LITTLE_ENDIAN && raw.byteOffset % 4 === 0) {
        // A view of the file's bytes: most weights are permuted or folded into arrays of their
        // own anyway, and each copy of a big model's weights into fresh memory costs its page
        // faults (about 2 ms a MB on our machines); the importer copies the ones layers keep.
        t.values = new Float32Array(raw.buffer, raw.byteOffset, count);
        break;
      }
      const out = new Float32Array(count);
      if (dv && LITTLE_ENDIAN) {
        // A byte copy (raw_data at an unaligned offset cannot be viewed as floats).
        new Uint8Array(out.buffer).set(raw!.subarray(0, 4 * count));
      } else if (dv) { for (let i = 0; i < count; i++) out[i] = dv.getFloat32(4 * i, true); }
      else out.set(floats);
      t.values = out;
      break;
    }
    case DT.DOUBLE: {
      const out = new Float32Array(count);
      if (dv) { for (let i = 0; i < count; i++) out[i] = dv.getFloat64(8 * i, true); }
      else out.set(doubles);
      t.values = out;
      break;
    }
    case DT.INT64: {
      if (count > 1 << 20) r.fail(`an INT64 tensor of ${count} elements (at most 2^20 are read)`);
      const out: number[] = [];
      for (let i = 0; i < count; i++) {
        if (!dv) out.push(ints[i]!);
        else {
          const v = dv.getBigInt64(8 * i, true);
          if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
            // INT64_MAX and INT64_MIN are common sentinels (e.g. Slice ends): clamp them.
            out.push(v > 0n ? Number.MAX_SAFE_INTEGER : -Number.MAX_SAFE_INTEGER);
          } else out.push(Number(v));
        }
      }
      t.values = out;
      break;
    }
    case DT.INT32: {
      if (count > 1 << 20) r.fail(`an INT32 tensor of ${count} elements (at most 2^20 are read)`);
      const out: number[] = [];
      for (let i = 0; i < count; i++) out.push(dv ? dv.getInt32(4 * i, true) : ints[i]!);
      t.values = out;
      break;
    }
  }
  return t;
}

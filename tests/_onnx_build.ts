/**
 * Builds small ONNX files by hand (with the library's private protobuf
 * writer), for tests of what exporters rarely produce: external data,
 * custom domains, unknown attributes, several inputs.
 *
 * @module
 */
import { ProtoWriter } from "../src/onnx/_protobuf.ts";

/** A node: op, inputs, outputs, integer-list / int / float / string attributes. */
export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, number | number[] | string | { float: number }>;
}

/** An initializer: float data, or external. */
export interface InitSpec {
  name: string;
  dims: number[];
  data?: number[];
  external?: boolean;
  /** Bytes of raw data to write instead of `data`. */
  raw?: Uint8Array;
}

/** A graph input or output. */
export interface IoSpec {
  name: string;
  shape: (number | string)[];
  elemType?: number;
}

function valueInfo(v: IoSpec): ProtoWriter {
  const dims = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === "string") dim.string(2, d);
    else dim.varint(1, d);
    dims.message(1, dim);
  }
  const tt = new ProtoWriter().varint(1, v.elemType ?? 1).message(2, dims);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tt));
}

/** Encodes a model. */
export function buildOnnx(spec: {
  nodes: NodeSpec[];
  inits?: InitSpec[];
  inputs: IoSpec[];
  outputs: IoSpec[];
  opset?: number;
}): Uint8Array {
  const g = new ProtoWriter();
  for (const n of spec.nodes) {
    const w = new ProtoWriter();
    for (const i of n.inputs) w.string(1, i);
    for (const o of n.outputs) w.string(2, o);
    w.string(3, n.name ?? n.outputs[0]!).string(4, n.op);
    if (n.domain) w.string(7, n.domain);
    for (const [k, v] of Object.entries(n.attrs ?? {})) {
      const a = new ProtoWriter().string(1, k);
      if (typeof v === "number") a.varint(3, v).varint(20, 2);
      else if (typeof v === "string") a.string(4, v).varint(20, 3);
      else if (Array.isArray(v)) {
        for (const x of v) a.varint(8, x);
        a.varint(20, 7);
      } else a.float(2, v.float).varint(20, 1);
      w.message(5, a);
    }
    g.message(1, w);
  }
  for (const t of spec.inits ?? []) {
    const w = new ProtoWriter();
    for (const d of t.dims) w.varint(1, d);
    w.varint(2, 1).string(8, t.name);
    if (t.external) {
      w.message(13, new ProtoWriter().string(1, "location").string(2, "weights.bin"));
      w.varint(14, 1);
    } else {
      const raw = t.raw ?? new Uint8Array(Float32Array.from(t.data ?? []).buffer);
      w.bytes(9, raw);
    }
    g.message(5, w);
  }
  for (const i of spec.inputs) g.message(11, valueInfo(i));
  for (const o of spec.outputs) g.message(12, valueInfo(o));
  return new ProtoWriter().varint(1, 8).message(7, g)
    .message(8, new ProtoWriter().string(1, "").varint(2, spec.opset ?? 13)).finish();
}

// This module is browser compatible.

/**
 * Model files in the safetensors format: an 8-byte little-endian header
 * length, a JSON header (`dtype`, `shape`, `data_offsets` per tensor and a
 * `__metadata__` map of strings holding the architecture), then the raw
 * little-endian float32 data.
 *
 * @module
 */

import { markChanged } from "../core/_versions.ts";
import type { LayerConfig } from "../layers/layer.ts";
import { Sequential } from "./sequential.ts";
import { Model } from "./model.ts";
import { layerOf, modelFromGraphConfig } from "./_graph_config.ts";
import { withoutInit } from "../layers/_util.ts";

/** Whether float32 arrays are stored little-endian here (as safetensors are), so data can be copied whole. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
import { checkObject, describe, fail } from "../core/_validate.ts";
import { VERSION } from "../version.ts";

/**
 * The largest header {@linkcode loadModel} accepts, in bytes (1 MiB).
 *
 * @example Usage
 * ```ts
 * import { MAX_HEADER_BYTES } from "@convnet/wasm";
 * MAX_HEADER_BYTES; // 1048576
 * ```
 */
export const MAX_HEADER_BYTES = 1 << 20;

/**
 * A model file that cannot be loaded: truncated, malformed or disagreeing with its architecture.
 *
 * @example Usage
 * ```ts
 * import { loadModel, ModelFormatError } from "@convnet/wasm";
 * try {
 *   loadModel(new Uint8Array(3));
 * } catch (e) {
 *   e instanceof ModelFormatError; // true: shorter than the 8-byte header length
 * }
 * ```
 */
export class ModelFormatError extends Error {
  /**
   * Creates a ModelFormatError.
   *
   * @param message What is wrong, for a person.
   */
  constructor(message: string) {
    super(`loadModel: ${message}`);
    this.name = "ModelFormatError";
  }
}

/**
 * Serialises a model's architecture and weights as safetensors.
 *
 * @example Usage
 * ```ts
 * import { Dense, loadModel, saveModel, Sequential } from "@convnet/wasm";
 * const model = new Sequential([new Dense({ units: 3 })], [4]);
 * const bytes = saveModel(model, { note: "example" });
 * loadModel(bytes).metadata["note"]; // "example"
 * ```
 *
 * Model files hold the architecture, the weights and string metadata; they do
 * not hold an optimiser's state (Adam's moments), so training resumed from a
 * file starts its optimiser afresh.
 *
 * @param model The model.
 * @param metadata Extra strings to keep (merged over `model.metadata`); `architecture` and
 * `format` are reserved.
 * @returns The file's bytes.
 * @throws {TypeError} If a metadata value (in `metadata` or `model.metadata`) is not a string.
 * @throws {RangeError} If a metadata key is reserved.
 */
export function saveModel(model: Model, metadata: Record<string, string> = {}): Uint8Array {
  if (!(model instanceof Model)) {
    fail(TypeError, "saveModel", "model", "a Model or Sequential", model);
  }
  const extra = {
    ...checkMetadata("model.metadata", model.metadata),
    ...checkMetadata("metadata", metadata),
  };
  const params = [...model.params(), ...model.state()];
  const header: Record<string, unknown> = {
    __metadata__: {
      ...extra,
      format: FORMAT,
      libraryVersion: VERSION,
      architecture: JSON.stringify(model.config()),
    },
  };
  let offset = 0;
  for (const p of params) {
    const bytes = p.value.length * 4;
    header[p.name] = { dtype: "F32", shape: [...p.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8; // keep the data 8-byte aligned, padding with spaces
  if (padded !== json.length) {
    const withPad = new Uint8Array(padded).fill(0x20);
    withPad.set(json);
    json = withPad;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const p of params) {
    for (let i = 0; i < p.value.length; i++, at += 4) view.setFloat32(at, p.value[i]!, true);
  }
  return out;
}

/** The metadata keys the file format itself uses. */
const RESERVED = ["architecture", "format", "libraryVersion"];

/** The `format` string of this library's model files. */
const FORMAT = "convnet-wasm";

/**
 * Checks metadata before anything is written: an object of strings (the
 * safetensors format stores only strings there), without reserved keys. A
 * number such as an accuracy must be turned into a string by the caller, so
 * a file we write is always a file we can load.
 */
function checkMetadata(arg: string, value: unknown): Record<string, string> {
  const o = value === undefined ? {} : checkObject("saveModel", arg, value);
  for (const [k, v] of Object.entries(o)) {
    if (RESERVED.includes(k)) {
      throw new RangeError(
        `saveModel: ${arg}["${k}"] is reserved for the file format; use another key`,
      );
    }
    if (typeof v !== "string") {
      fail(TypeError, "saveModel", `${arg}["${k}"]`, "a string (write String(value))", v);
    }
  }
  return o as Record<string, string>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Reads a model saved by {@linkcode saveModel}. Everything is checked before
 * anything is built: header length within the file and at most 1 MiB, valid
 * UTF-8 JSON, dtype F32, shapes, offsets in range, not overlapping and
 * covering the data exactly, every tensor the architecture needs present
 * with its exact shape and no others. A bad file never yields a model.
 *
 * @example Usage
 * ```ts
 * import { Dense, loadModel, saveModel, Sequential } from "@convnet/wasm";
 * const copy = loadModel(saveModel(new Sequential([new Dense({ units: 3 })], [4])));
 * copy.outputShape; // [3]
 * ```
 *
 * @param bytes The file's contents.
 * @returns The model, with the file's other metadata in `model.metadata`.
 * @throws {TypeError} If `bytes` is not a `Uint8Array`.
 * @throws {ModelFormatError} If anything in the file is wrong, saying what.
 */
export function loadModel(bytes: Uint8Array): Model {
  if (!(bytes instanceof Uint8Array)) fail(TypeError, "loadModel", "bytes", "a Uint8Array", bytes);
  if (looksLikeOnnx(bytes)) {
    throw new ModelFormatError(
      "this is an ONNX model (a protobuf, not a safetensors file): load it with loadOnnx(bytes)",
    );
  }
  if (bytes.length < 8) {
    throw new ModelFormatError(
      `the file is ${bytes.length} bytes, shorter than the 8-byte header length`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    throw new ModelFormatError(
      `the header length is ${declared} bytes, more than the ${MAX_HEADER_BYTES} allowed`,
    );
  }
  const n = Number(declared);
  if (8 + n > bytes.length) {
    throw new ModelFormatError(
      `the header claims ${n} bytes but the file has only ${bytes.length - 8} after the length`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new ModelFormatError(
      `the header is not valid UTF-8 JSON (${e instanceof Error ? e.message : e})`,
    );
  }
  if (!isObject(header)) throw new ModelFormatError("the header must be a JSON object");
  const meta = header["__metadata__"] ?? {};
  if (!isObject(meta) || !Object.values(meta).every((v) => typeof v === "string")) {
    throw new ModelFormatError("__metadata__ must be an object of strings");
  }
  if (meta["architecture"] === undefined && meta["format"] === undefined) {
    throw new ModelFormatError(
      "this safetensors file holds weights only (a PyTorch state dict, say), no architecture: " +
        "build the model in code and load the tensors with model.setWeights (see fromTorchConv2dWeight " +
        "and fromTorchLinearWeight for PyTorch's layouts)",
    );
  }
  if (meta["format"] !== FORMAT) {
    throw new ModelFormatError(
      `__metadata__.format must be "${FORMAT}", got ${describe(meta["format"])}` +
        " (a file of another program or version, whose meaning this version does not know)",
    );
  }
  if (typeof meta["architecture"] !== "string") {
    throw new ModelFormatError("__metadata__.architecture is missing");
  }
  let arch: unknown;
  try {
    arch = JSON.parse(meta["architecture"]);
  } catch {
    throw new ModelFormatError("__metadata__.architecture is not JSON");
  }
  if (!isObject(arch) || !Array.isArray(arch["inputShape"]) || !Array.isArray(arch["layers"])) {
    throw new ModelFormatError("the architecture must have inputShape and layers arrays");
  }
  if (arch["format"] !== undefined && arch["format"] !== "graph") {
    throw new ModelFormatError(
      `the architecture's format must be "graph" or absent (a sequential model), got ${
        describe(arch["format"])
      }`,
    );
  }
  const archKeys = arch["format"] === "graph"
    ? ["format", "version", "inputShape", "layers", "nodes", "output"]
    : ["inputShape", "layers"];
  const strange = Object.keys(arch).find((k) => !archKeys.includes(k));
  if (strange !== undefined) {
    throw new ModelFormatError(
      `the architecture has an unknown key "${strange}" (known: ${archKeys.join(", ")})`,
    );
  }

  // Tensors: dtype, shape, offsets.
  const dataStart = 8 + n, dataLen = bytes.length - dataStart;
  const entries: { name: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (!isObject(v)) throw new ModelFormatError(`tensor "${name}" must be an object`);
    if (v["dtype"] !== "F32") {
      throw new ModelFormatError(
        `tensor "${name}" has dtype ${describe(v["dtype"])}; only F32 is supported`,
      );
    }
    const shape = v["shape"], off = v["data_offsets"];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ModelFormatError(`tensor "${name}" has an invalid shape ${describe(shape)}`);
    }
    if (
      !Array.isArray(off) || off.length !== 2 || !off.every((d) =>
        Number.isSafeInteger(d) && d >= 0
      ) || off[0] > off[1]
    ) {
      throw new ModelFormatError(
        `tensor "${name}" has invalid data_offsets ${describe(off)}`,
      );
    }
    if (off[1] > dataLen) {
      throw new ModelFormatError(
        `tensor "${name}" ends at byte ${off[1]} but the data is ${dataLen} bytes`,
      );
    }
    const count = shape.reduce((p: number, d: number) => p * d, 1);
    if (off[1] - off[0] !== count * 4) {
      throw new ModelFormatError(
        `tensor "${name}" of shape [${shape.join(", ")}] needs ${
          count * 4
        } bytes but its offsets span ${off[1] - off[0]}`,
      );
    }
    entries.push({ name, shape, begin: off[0], end: off[1] });
  }
  entries.sort((a, b) => a.begin - b.begin);
  let covered = 0;
  for (const e of entries) {
    if (e.begin < covered) {
      throw new ModelFormatError(`tensor "${e.name}" overlaps the tensor before it`);
    }
    if (e.begin > covered) {
      throw new ModelFormatError(`bytes ${covered}..${e.begin} of the data belong to no tensor`);
    }
    covered = e.end;
  }
  if (covered !== dataLen) {
    throw new ModelFormatError(
      `the last ${dataLen - covered} bytes of the data belong to no tensor`,
    );
  }

  // Architecture: build, then match parameters exactly.
  let model: Model;
  try {
    // The data holds dataLen / 4 floats: no architecture may need (and so allocate) more.
    // Every weight is read from the file below (each is checked present): no random draws first.
    model = withoutInit(() =>
      arch["format"] === "graph" ? modelFromGraphConfig(arch, dataLen / 4) : new Sequential(
        (arch["layers"] as LayerConfig[]).map((c, i) => {
          const l = layerOf(c, i);
          if ("merge" in l) throw new Error(`layers[${i}]: a ${l.kind} needs a graph model`);
          return l;
        }),
        arch["inputShape"] as number[],
        { maxParameters: dataLen / 4 },
      )
    );
  } catch (e) {
    throw new ModelFormatError(
      `the architecture is invalid: ${e instanceof Error ? e.message : e}`,
    );
  }
  const byName = new Map(entries.map((e) => [e.name, e]));
  const params = [...model.params(), ...model.state()];
  for (const p of params) {
    const e = byName.get(p.name);
    if (!e) {
      throw new ModelFormatError(`tensor "${p.name}" (shape [${p.shape.join(", ")}]) is missing`);
    }
    if (e.shape.length !== p.shape.length || e.shape.some((d, i) => d !== p.shape[i])) {
      throw new ModelFormatError(
        `tensor "${p.name}" has shape [${e.shape.join(", ")}] but the architecture needs [${
          p.shape.join(", ")
        }]`,
      );
    }
  }
  if (entries.length !== params.length) {
    const extra = entries.find((e) => !params.some((p) => p.name === e.name));
    throw new ModelFormatError(`tensor "${extra?.name}" is not a parameter of the architecture`);
  }
  for (const p of params) {
    const e = byName.get(p.name)!, at = dataStart + e.begin;
    if (LITTLE_ENDIAN && (bytes.byteOffset + at) % 4 === 0) {
      p.value.set(new Float32Array(bytes.buffer, bytes.byteOffset + at, p.value.length));
    } else {
      for (let i = 0, a = at; i < p.value.length; i++, a += 4) {
        p.value[i] = view.getFloat32(a, true);
      }
    }
    markChanged(p.value);
  }
  const { architecture: _a, format: _f, libraryVersion: _v, ...rest } = meta as Record<
    string,
    string
  >;
  model.metadata = rest;
  return model;
}

/**
 * Whether `bytes` start like an ONNX file (a protobuf whose first field is
 * `ir_version`, tag 0x08) rather than a safetensors header (a length, then
 * `{`).
 */
function looksLikeOnnx(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x08 && bytes[1]! < 0x80 &&
    (bytes.length < 9 || bytes[8] !== 0x7b);
}

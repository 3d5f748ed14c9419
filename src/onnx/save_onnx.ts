// This module is browser compatible.

import { LAYER_TYPES } from "../layers/kinds.ts";
import { hwioToOihw } from "../core/_layout.ts";
import { UNARY_FUNCTIONS, type UnaryFunction } from "../layers/unary.ts";
import { checkPadding, resolvePadding } from "../core/_geometry.ts";
import { fail } from "../core/_validate.ts";
import type { Layer, LayerConfig, LayerKind, MergeLayer } from "../layers/layer.ts";
import { Model } from "../model/model.ts";
import { ProtoWriter } from "./_protobuf.ts";

const FLOAT = 1, INT64 = 7;
const A_FLOAT = 1, A_INT = 2, A_STRING = 3, A_INTS = 7;

type AttrValue = number | string | readonly number[] | { float: number };

/** Encodes an attribute: integers as INT, `{ float }` as FLOAT, strings, and integer lists. */
function attribute(name: string, v: AttrValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if (typeof v === "number") return w.varint(3, v).varint(20, A_INT);
  if (typeof v === "string") return w.string(4, v).varint(20, A_STRING);
  if ("float" in v) return w.float(2, v.float).varint(20, A_FLOAT);
  for (const x of v) w.varint(8, x);
  return w.varint(20, A_INTS);
}

function tensorProto(
  name: string,
  dims: readonly number[],
  data: Float32Array | readonly number[],
  type = FLOAT,
): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of dims) w.varint(1, d);
  w.varint(2, type);
  w.string(8, name);
  let raw: Uint8Array;
  if (type === FLOAT) {
    const f = new Float32Array(data.length);
    f.set(data);
    const dv = new DataView(f.buffer);
    // Little-endian on disk whatever the host.
    for (let i = 0; i < f.length; i++) dv.setFloat32(4 * i, f[i]!, true);
    raw = new Uint8Array(f.buffer);
  } else {
    const dv = new DataView(new ArrayBuffer(8 * data.length));
    data.forEach((v, i) => dv.setBigInt64(8 * i, BigInt(v), true));
    raw = new Uint8Array(dv.buffer);
  }
  return w.bytes(9, raw);
}

function valueInfo(name: string, shape: readonly (number | string)[]): ProtoWriter {
  const dims = new ProtoWriter();
  for (const d of shape) {
    const dim = new ProtoWriter();
    if (typeof d === "string") dim.string(2, d);
    else dim.varint(1, d);
    dims.message(1, dim);
  }
  const tensorType = new ProtoWriter().varint(1, FLOAT).message(2, dims);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

/** ONNX's shape (batch first, NCHW) of one of our sample shapes. */
function onnxDims(s: readonly number[]): (number | string)[] {
  return s.length === 3 ? ["N", s[2]!, s[0]!, s[1]!] : ["N", ...s];
}

/**
 * Writes a model built with this library's layers as an ONNX file (opset 17,
 * or 19 when an average pool is dilated), for onnxruntime, other runtimes,
 * or a viewer such as Netron. The file follows ONNX's NCHW convention: its
 * input is `[N, C, H, W]` (the batch axis named `N`, dynamic) and a 4-D
 * output comes out `[N, C, H, W]`; weights are transposed from our NHWC
 * layouts, and a `Flatten` is written as `Transpose` + `Flatten` so the
 * dense layers after it keep their weights. The model is exported for
 * inference: `BatchNorm` with its running statistics, `Dropout` as nothing.
 * `loadOnnx(saveOnnx(model))` gives back an equivalent model (BatchNorm then
 * folded into the layer before it).
 *
 * @example Usage
 * ```ts
 * import { Conv2D, Dense, Flatten, loadOnnx, saveOnnx, Sequential } from "@convnet/wasm";
 * const model = new Sequential([
 *   new Conv2D({ filters: 4, kernelSize: 3, activation: "relu" }),
 *   new Flatten(),
 *   new Dense({ units: 2 }),
 * ], [6, 6, 1]);
 * const bytes = saveOnnx(model);
 * loadOnnx(bytes).outputShape; // [2]
 * ```
 *
 * @param model A `Model` or `Sequential` of this library's layers.
 * @returns The `.onnx` file's bytes.
 * @throws {TypeError} `model` is not a Model.
 * @throws {RangeError} A layer has no ONNX counterpart here (a custom layer, a transposed convolution with `"same"` padding), naming it.
 */
export function saveOnnx(model: Model): Uint8Array {
  if (!(model instanceof Model)) {
    fail(TypeError, "saveOnnx", "model", "a Model or Sequential", model);
  }
  const cfg = Model.prototype.config.call(model) as unknown as {
    inputShape: number[];
    layers: LayerConfig[];
    nodes: { layer: string; inputs: number[] }[];
    output: number;
  };
  const byName = new Map<string, Layer | MergeLayer>(model.layers.map((l) => [l.name, l]));
  for (const l of cfg.layers) {
    if (!Object.hasOwn(LAYER_TYPES, l.kind)) {
      fail(
        RangeError,
        "saveOnnx",
        `layer "${l.name}"`,
        "a built-in layer with an ONNX counterpart",
        l.kind,
      );
    }
  }
  // Every node's output shape, in node order (the model is not run).
  const shapes = model.layerSummary().map((n) => [...n.outputShape]);
  for (const s of [cfg.inputShape, ...shapes]) {
    if (s.length !== 1 && s.length !== 3) {
      fail(
        RangeError,
        "saveOnnx",
        "model",
        "samples of shape [features] or [h, w, c] throughout",
        s,
      );
    }
  }

  const graph = new ProtoWriter();
  let opset = 17, counter = 0;
  const fresh = (base: string) => `${base}/tmp${counter++}`;
  const nodeNames = new Set<string>();
  const node = (
    op: string,
    ins: string[],
    out: string,
    base: string,
    attrs: [string, AttrValue][] = [],
  ) => {
    let name = base;
    for (let i = 2; nodeNames.has(name); i++) name = `${base}#${i}`;
    nodeNames.add(name);
    const w = new ProtoWriter();
    for (const i of ins) w.string(1, i);
    w.string(2, out).string(3, name).string(4, op);
    for (const [k, v] of attrs) w.message(5, attribute(k, v));
    graph.message(1, w);
  };
  const inits: ProtoWriter[] = [];
  const written = new Set<string>();
  // A layer applied at several nodes writes its weights once.
  const init = (
    name: string,
    dims: readonly number[],
    data: Float32Array | readonly number[],
    type = FLOAT,
  ) => {
    if (!written.has(name)) inits.push(tensorProto(name, dims, data, type));
    written.add(name);
    return name;
  };
  const params = (name: string) => (byName.get(name) as Layer).params().map((p) => p.value);

  const values: string[] = [];
  cfg.nodes.forEach((n, k) => {
    const l = cfg.layers.find((c) => c.name === n.layer)!;
    const ins = n.inputs.map((r) => (r === -1 ? "input" : values[r]!));
    const inShapes = n.inputs.map((r) => (r === -1 ? cfg.inputShape : shapes[r]!));
    const x = ins[0]!, s = inShapes[0]!;
    const out = k === cfg.output ? "output" : `${l.name}/out${k}`;
    const nm = l.name;
    const relu = (v: string) => {
      if (l["activation"] === "relu") node("Relu", [v], out, `${nm}/relu`);
      else if (l["activation"] === "relu6") {
        const lo = init(`${nm}.clip_min`, [], Float32Array.of(0));
        node("Clip", [v, lo, init(`${nm}.clip_max`, [], Float32Array.of(6))], out, `${nm}/relu6`);
      } else node("Identity", [v], out, `${nm}/identity`);
    };
    const layer = byName.get(l.name)! as unknown as Record<string, unknown>;
    const pads = (
      kernel: readonly [number, number],
      stride: readonly [number, number],
      dil: readonly [number, number],
    ) => {
      const spec = checkPadding("saveOnnx", "padding", layer["padding"]);
      const [t, b, le, r] = resolvePadding(spec, s[0]!, s[1]!, kernel[0], kernel[1], stride, dil);
      return [t, le, b, r];
    };
    const kind = l.kind as LayerKind;
    switch (kind) {
      case "Conv2D":
      case "DepthwiseConv2D": {
        const [kern, bias] = params(l.name) as [Float32Array, Float32Array];
        const [fH, fW] = layer["kernelSize"] as [number, number];
        const cIn = s[2]!, M = bias.length;
        const groups = l.kind === "DepthwiseConv2D" ? cIn : (layer["groups"] as number);
        const Cg = cIn / groups, w = hwioToOihw(kern, [fH, fW, Cg, M]);
        const stride = layer["stride"] as [number, number],
          dil = layer["dilation"] as [number, number];
        const y = (l["activation"] ?? "linear") !== "linear" ? fresh(nm) : out;
        node(
          "Conv",
          [x, init(`${nm}.weight`, [M, Cg, fH, fW], w), init(`${nm}.bias`, [M], bias)],
          y,
          nm,
          [
            ["kernel_shape", [fH, fW]],
            ["strides", [...stride]],
            ["dilations", [...dil]],
            ["pads", pads([fH, fW], stride, dil)],
            ["group", groups],
          ],
        );
        if (y !== out) relu(y);
        break;
      }
      case "Conv2DTranspose": {
        if (layer["padding"] === "same") {
          fail(
            RangeError,
            "saveOnnx",
            `layer "${l.name}".padding`,
            'explicit sizes ("same" has no ONNX form here)',
            "same",
          );
        }
        const [kern, bias] = params(l.name) as [Float32Array, Float32Array];
        const [fH, fW] = layer["kernelSize"] as [number, number];
        const C = s[2]!, M = bias.length, groups = layer["groups"] as number, Mg = M / groups;
        const w = hwioToOihw(kern, [fH, fW, Mg, C]);
        const [t, b, le, r] = checkPadding("saveOnnx", "padding", layer["padding"]) as [
          number,
          number,
          number,
          number,
        ];
        const y = (l["activation"] ?? "linear") !== "linear" ? fresh(nm) : out;
        node(
          "ConvTranspose",
          [x, init(`${nm}.weight`, [C, Mg, fH, fW], w), init(`${nm}.bias`, [M], bias)],
          y,
          nm,
          [
            ["kernel_shape", [fH, fW]],
            ["strides", [...(layer["stride"] as number[])]],
            ["dilations", [...(layer["dilation"] as number[])]],
            ["pads", [t, le, b, r]],
            ["output_padding", [...(layer["outputPadding"] as number[])]],
            ["group", groups],
          ],
        );
        if (y !== out) relu(y);
        break;
      }
      case "MaxPool2D":
      case "AvgPool2D": {
        const k2 = layer["poolSize"] as [number, number],
          stride = layer["stride"] as [number, number];
        const dil = layer["dilation"] as [number, number];
        const attrs: [string, AttrValue][] = [
          ["kernel_shape", [...k2]],
          ["strides", [...stride]],
          ["pads", pads(k2, stride, dil)],
          ["ceil_mode", layer["ceilMode"] ? 1 : 0],
        ];
        if (l.kind === "AvgPool2D") {
          attrs.push(["count_include_pad", layer["countIncludePad"] ? 1 : 0]);
          if (dil[0] !== 1 || dil[1] !== 1) {
            opset = 19;
            attrs.push(["dilations", [...dil]]);
          }
        } else attrs.push(["dilations", [...dil]]);
        node(l.kind === "MaxPool2D" ? "MaxPool" : "AveragePool", [x], out, nm, attrs);
        break;
      }
      case "GlobalAvgPool2D":
      case "GlobalMaxPool2D": {
        const op = l.kind === "GlobalAvgPool2D" ? "GlobalAveragePool" : "GlobalMaxPool";
        if (layer["keepDims"]) node(op, [x], out, nm);
        else {
          const y = fresh(nm);
          node(op, [x], y, nm);
          node("Flatten", [y], out, `${nm}/flatten`, [["axis", 1]]);
        }
        break;
      }
      case "ReLU":
        node("Relu", [x], out, nm);
        break;
      case "Sigmoid":
      case "Tanh":
      case "HardSwish":
        node(l.kind, [x], out, nm);
        break;
      case "LeakyReLU":
        node("LeakyRelu", [x], out, nm, [["alpha", { float: layer["alpha"] as number }]]);
        break;
      case "HardSigmoid":
        node("HardSigmoid", [x], out, nm, [["alpha", { float: layer["alpha"] as number }], [
          "beta",
          { float: layer["beta"] as number },
        ]]);
        break;
      case "Upsample2D": {
        const attrs: [string, AttrValue][] = [
          ["mode", layer["mode"] === "bilinear" ? "linear" : "nearest"],
          ["coordinate_transformation_mode", layer["coordinates"] as string],
        ];
        if (layer["mode"] === "nearest") attrs.push(["nearest_mode", layer["rounding"] as string]);
        const scale = layer["scale"] as readonly [number, number] | undefined;
        if (scale) {
          node(
            "Resize",
            [x, "", init(`${nm}.scales`, [4], Float32Array.of(1, 1, scale[0], scale[1]))],
            out,
            nm,
            attrs,
          );
        } else {
          // The batch is dynamic: sizes = [N, C] of the input, then [h, w].
          const [h, w] = layer["size"] as readonly [number, number];
          const shp = fresh(nm), nc = fresh(nm), sizes = fresh(nm);
          node("Shape", [x], shp, `${nm}/shape`);
          node(
            "Slice",
            [shp, init(`${nm}.nc_from`, [1], [0], INT64), init(`${nm}.nc_to`, [1], [2], INT64)],
            nc,
            `${nm}/nc`,
          );
          node("Concat", [nc, init(`${nm}.hw`, [2], [h, w], INT64)], sizes, `${nm}/sizes`, [[
            "axis",
            0,
          ]]);
          node("Resize", [x, "", "", sizes], out, nm, attrs);
        }
        break;
      }
      case "ChannelShuffle": {
        const g = layer["groups"] as number, c = s[s.length - 1]!;
        const spatial = s.length === 3 ? [s[0]!, s[1]!] : [];
        const split = fresh(nm), swapped = fresh(nm);
        node(
          "Reshape",
          [x, init(`${nm}.split`, [3 + spatial.length], [0, g, c / g, ...spatial], INT64)],
          split,
          nm,
        );
        node("Transpose", [split], swapped, `${nm}/transpose`, [["perm", [
          0,
          2,
          1,
          ...spatial.map((_, i) => 3 + i),
        ]]]);
        node(
          "Reshape",
          [swapped, init(`${nm}.join`, [2 + spatial.length], [0, c, ...spatial], INT64)],
          out,
          `${nm}/join`,
        );
        break;
      }
      case "ChannelSlice":
        node(
          "Slice",
          [
            x,
            init(`${nm}.starts`, [1], [layer["begin"] as number], INT64),
            init(`${nm}.ends`, [1], [layer["end"] as number], INT64),
            init(`${nm}.axes`, [1], [1], INT64),
          ],
          out,
          nm,
        );
        break;
      case "Erf":
        node("Erf", [x], out, nm);
        break;
      case "PReLU": {
        const [a] = params(l.name) as [Float32Array];
        // ONNX broadcasts the slope from the right: [C, 1, 1] against [N, C, H, W].
        const dims = a.length === 1 ? [1] : [a.length, ...s.slice(0, -1).map(() => 1)];
        node("PRelu", [x, init(`${nm}.alpha`, dims, a)], out, nm);
        break;
      }
      case "Unary": {
        const fn = layer["fn"] as UnaryFunction, op = UNARY_FUNCTIONS[fn].onnx;
        if (fn === "square") node("Mul", [x, x], out, nm);
        else if (fn === "mish") {
          // Mish is an operator from opset 18 on; we write 17: x · tanh(softplus(x)).
          const sp = fresh(nm), th = fresh(nm);
          node("Softplus", [x], sp, nm);
          node("Tanh", [sp], th, `${nm}/tanh`);
          node("Mul", [x, th], out, `${nm}/mul`);
        } else if (fn === "elu") {
          node(op, [x], out, nm, [["alpha", { float: layer["alpha"] as number }]]);
        } else node(op, [x], out, nm);
        break;
      }
      case "SiLU": {
        const sg = fresh(nm);
        node("Sigmoid", [x], sg, nm);
        node("Mul", [x, sg], out, `${nm}/mul`);
        break;
      }
      case "Gelu": {
        const c = (v: number, tag: string) => init(`${nm}.${tag}`, [], Float32Array.of(v));
        const t1 = fresh(nm), t2 = fresh(nm), t3 = fresh(nm), t4 = fresh(nm);
        if (layer["approximate"] === "tanh") {
          const sq = fresh(nm), cube = fresh(nm), a = fresh(nm), inner = fresh(nm);
          node("Mul", [x, x], sq, nm);
          node("Mul", [sq, x], cube, `${nm}/cube`);
          node("Mul", [cube, c(0.044715, "k1")], a, `${nm}/k1`);
          node("Add", [a, x], inner, `${nm}/inner`);
          node("Mul", [inner, c(Math.sqrt(2 / Math.PI), "k0")], t1, `${nm}/k0`);
          node("Tanh", [t1], t2, `${nm}/tanh`);
        } else {
          node("Div", [x, c(Math.SQRT2, "sqrt2")], t1, nm);
          node("Erf", [t1], t2, `${nm}/erf`);
        }
        node("Add", [t2, c(1, "one")], t3, `${nm}/one`);
        node("Mul", [x, t3], t4, `${nm}/x`);
        node("Mul", [t4, c(0.5, "half")], out, `${nm}/half`);
        break;
      }
      case "LayerNorm": {
        // Ours normalises the last axis, which is ONNX's axis 1 (channels): move it last and back.
        const [g, b] = params(l.name) as [Float32Array, Float32Array];
        const C = g.length, ins2 = [init(`${nm}.gamma`, [C], g), init(`${nm}.beta`, [C], b)];
        const eps: [string, AttrValue] = ["epsilon", { float: layer["epsilon"] as number }];
        if (s.length === 1) {
          node("LayerNormalization", [x, ...ins2], out, nm, [["axis", 1], eps]);
          break;
        }
        const r = s.length + 1, toLast = [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1];
        const back = [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)];
        const t1 = fresh(nm), t2 = fresh(nm);
        node("Transpose", [x], t1, `${nm}/to_last`, [["perm", toLast]]);
        node("LayerNormalization", [t1, ...ins2], t2, nm, [["axis", r - 1], eps]);
        node("Transpose", [t2], out, `${nm}/back`, [["perm", back]]);
        break;
      }
      case "InstanceNorm": {
        const [g, b] = params(l.name) as [Float32Array, Float32Array];
        node(
          "InstanceNormalization",
          [
            x,
            init(`${nm}.gamma`, [g.length], g),
            init(`${nm}.beta`, [b.length], b),
          ],
          out,
          nm,
          [["epsilon", { float: layer["epsilon"] as number }]],
        );
        break;
      }
      case "LocalResponseNorm": {
        const attrs: [string, AttrValue][] = [
          ["size", layer["size"] as number],
          ["alpha", { float: layer["alpha"] as number }],
          ["beta", { float: layer["beta"] as number }],
          ["bias", { float: layer["bias"] as number }],
        ];
        if (s.length === 1) {
          // LRN reads [N, C, ...]: a vector goes through [N, C, 1, 1].
          const m4 = fresh(nm), y4 = fresh(nm);
          node("Reshape", [x, init(`${nm}.to4`, [4], [0, s[0]!, 1, 1], INT64)], m4, `${nm}/to4`);
          node("LRN", [m4], y4, nm, attrs);
          node("Reshape", [y4, init(`${nm}.to2`, [2], [0, s[0]!], INT64)], out, `${nm}/to2`);
        } else node("LRN", [x], out, nm, attrs);
        break;
      }
      case "ReduceChannels": {
        const op = ({ mean: "ReduceMean", max: "ReduceMax", sum: "ReduceSum" } as const)[
          layer["op"] as "mean" | "max" | "sum"
        ];
        // Opset 17: ReduceSum reads its axes from an input, the others from an attribute.
        if (op === "ReduceSum") {
          node(op, [x, init(`${nm}.axes`, [1], [1], INT64)], out, nm, [["keepdims", 1]]);
        } else node(op, [x], out, nm, [["axes", [1]], ["keepdims", 1]]);
        break;
      }
      case "Reshape": {
        // Ours reshapes NHWC memory order: to NHWC, reshape, back to NCHW for a map.
        const to = layer["shape"] as number[];
        if ((to.length !== 1 && to.length !== 3) || (s.length !== 1 && s.length !== 3)) {
          fail(
            RangeError,
            "saveOnnx",
            `layer "${l.name}".shape`,
            "[f] or [h, w, c], from [f] or [h, w, c] (ONNX has no other layout of ours)",
            to,
          );
        }
        let src = x;
        if (s.length === 3) {
          src = fresh(nm);
          node("Transpose", [x], src, `${nm}/to_nhwc`, [["perm", [0, 2, 3, 1]]]);
        }
        const flat = to.length === 3 ? fresh(nm) : out;
        node("Reshape", [src, init(`${nm}.shape`, [to.length + 1], [0, ...to], INT64)], flat, nm);
        if (flat !== out) {
          node("Transpose", [flat], out, `${nm}/to_nchw`, [["perm", [0, 3, 1, 2]]]);
        }
        break;
      }
      case "ScaleShift": {
        const scaled = fresh(nm);
        node(
          "Mul",
          [x, init(`${nm}.scale`, [], Float32Array.of(layer["scale"] as number))],
          scaled,
          nm,
        );
        node(
          "Add",
          [scaled, init(`${nm}.shift`, [], Float32Array.of(layer["shift"] as number))],
          out,
          `${nm}/shift`,
        );
        break;
      }
      case "ReLU6":
      case "Clip": {
        const lo = l.kind === "ReLU6" ? 0 : (layer["min"] as number);
        const hi = l.kind === "ReLU6" ? 6 : (layer["max"] as number);
        const bound = (v: number, which: string) =>
          Number.isFinite(v) ? init(`${nm}.${which}`, [], Float32Array.of(v)) : "";
        node("Clip", [x, bound(lo, "min"), bound(hi, "max")], out, nm);
        break;
      }
      case "Softmax":
        node("Softmax", [x], out, nm, [["axis", s.length === 3 ? 1 : -1]]);
        break;
      case "Dropout":
        node("Identity", [x], out, nm);
        break;
      case "BatchNorm": {
        const [gamma, beta] = params(l.name) as [Float32Array, Float32Array];
        const [mean, v] = (byName.get(l.name) as unknown as { state(): { value: Float32Array }[] })
          .state()
          .map((p) => p.value) as [Float32Array, Float32Array];
        const c = gamma.length;
        const fusedOut = (l["activation"] ?? "linear") !== "linear" ? fresh(nm) : out;
        node(
          "BatchNormalization",
          [
            x,
            init(`${nm}.gamma`, [c], gamma),
            init(`${nm}.beta`, [c], beta),
            init(`${nm}.runningMean`, [c], mean),
            init(`${nm}.runningVar`, [c], v),
          ],
          fusedOut,
          nm,
          [["epsilon", { float: layer["epsilon"] as number }]],
        );
        if (fusedOut !== out) relu(fusedOut);
        break;
      }
      case "Flatten": {
        if (s.length === 1) node("Identity", [x], out, nm);
        else if (layer["order"] === "chw" || s[2] === 1 || s[0]! * s[1]! === 1) {
          node("Flatten", [x], out, nm, [["axis", 1]]);
        } else {
          const y = fresh(nm);
          node("Transpose", [x], y, `${nm}/to_nhwc`, [["perm", [0, 2, 3, 1]]]);
          node("Flatten", [y], out, nm, [["axis", 1]]);
        }
        break;
      }
      case "Dense": {
        const [kern, bias] = params(l.name) as [Float32Array, Float32Array];
        const M = bias.length, K = kern.length / M;
        const y = (l["activation"] ?? "linear") !== "linear" ? fresh(nm) : out;
        node("Gemm", [x, init(`${nm}.weight`, [K, M], kern), init(`${nm}.bias`, [M], bias)], y, nm);
        if (y !== out) relu(y);
        break;
      }
      case "Add":
      case "Multiply":
      case "Subtract":
      case "Divide": {
        // Broadcasting carries over to NCHW only between inputs of one rank (ours right-align
        // [c] to [1, 1, c]; ONNX would align it with W).
        const ranks = new Set(inShapes.map((sh) => sh.length));
        if (ranks.size > 1) {
          fail(
            RangeError,
            "saveOnnx",
            `layer "${l.name}"`,
            "inputs of one rank (reshape them first)",
            [...ranks],
          );
        }
        // ONNX's Add and Mul are binary: chain them for more inputs.
        const op = { Add: "Add", Multiply: "Mul", Subtract: "Sub", Divide: "Div" }[kind];
        const fusedRelu = l["activation"] === "relu";
        let acc = ins[0]!;
        for (let i = 1; i < ins.length; i++) {
          const y = i === ins.length - 1 && !fusedRelu ? out : fresh(nm);
          node(op, [acc, ins[i]!], y, i === ins.length - 1 ? nm : `${nm}/${i}`);
          acc = y;
        }
        if (fusedRelu) node("Relu", [acc], out, `${nm}/relu`);
        break;
      }
      case "Concatenate":
        node("Concat", ins, out, nm, [["axis", 1]]);
        break;
      case "Pad2D": {
        const [t, b, le, r] = layer["padding"] as [number, number, number, number];
        node(
          "Pad",
          [
            x,
            init(`${nm}.pads`, [8], [0, 0, t, le, 0, 0, b, r], INT64),
            init(`${nm}.value`, [], Float32Array.of(layer["value"] as number)),
          ],
          out,
          nm,
          [["mode", "constant"]],
        );
        break;
      }
      default: {
        // Every kind of LAYER_TYPES has a case: adding a kind without one fails to compile here.
        const missing: never = kind;
        fail(RangeError, "saveOnnx", `layer "${l.name}"`, "a kind with an ONNX mapping", missing);
      }
    }
    values.push(out);
  });
  graph.string(2, "convnet_wasm");
  for (const t of inits) graph.message(5, t);
  graph.message(11, valueInfo("input", onnxDims(cfg.inputShape)));
  graph.message(12, valueInfo("output", onnxDims(shapes[cfg.output]!)));
  return new ProtoWriter()
    .varint(1, opset >= 19 ? 9 : 8)
    .string(2, "convnet-wasm")
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, "").varint(2, opset))
    .finish();
}

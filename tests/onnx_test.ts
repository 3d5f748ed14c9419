/**
 * ONNX import and export, held to outside oracles: PyTorch's own outputs
 * (fixtures written by scripts/onnx_fixtures.py) and onnxruntime-node, on
 * every backend.
 */
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import {
  Add,
  availableBackends,
  AvgPool2D,
  BatchNorm,
  ChannelShuffle,
  ChannelSlice,
  Clip,
  Concatenate,
  Conv2D,
  Conv2DTranspose,
  Dense,
  DepthwiseConv2D,
  Divide,
  Dropout,
  Erf,
  Flatten,
  Gelu,
  GlobalAvgPool2D,
  GlobalMaxPool2D,
  HardSigmoid,
  HardSwish,
  Input,
  InstanceNorm,
  LayerNorm,
  LeakyReLU,
  loadModel,
  loadOnnx,
  LocalResponseNorm,
  MaxPool2D,
  Model,
  Multiply,
  nchwToNhwc,
  nhwcToNchw,
  OnnxFormatError,
  OnnxUnsupportedError,
  Pad2D,
  PReLU,
  ReduceChannels,
  ReLU,
  ReLU6,
  Reshape,
  saveModel,
  saveOnnx,
  ScaleShift,
  Sequential,
  Sigmoid,
  SiLU,
  Softmax,
  Subtract,
  Tanh,
  type Tensor,
  tensor,
  Unary,
  Upsample2D,
} from "../mod.ts";
import { assertTensorClose } from "../src/testing/mod.ts";
import { randArray, rng, withBackend } from "./_helpers.ts";
import { buildOnnx, type NodeSpec } from "./_onnx_build.ts";

const DIR = new URL("./fixtures/onnx/", import.meta.url);
const FIXTURES = [
  "lenet5",
  "resnet",
  "mobilenet",
  "geometry",
  "unet",
  "conv1d",
  // scripts/ops_fixtures.py: the operators torchvision's networks need.
  "ops_se",
  "ops_reduce",
  "ops_reduce17",
  "ops_shuffle",
  "ops_unary",
  "ops_up_nearest",
  "ops_up_nearest_size",
  "ops_up_bilinear",
  "ops_up_bilinear_ac",
  "ops_up_bilinear_size",
  "ops_down_bilinear",
  "ops_norms",
  "ops_attention",
  "ops_shapes",
  "ops_shapes11",
  "ops_layernorm13",
  "ops_opset9_nearest",
  "ops_opset10_nearest",
  "ops_opset9_bilinear",
  "ops_opset10_bilinear",
] as const;

interface Fixture {
  opset: number;
  /** PyTorch's output is not what the file's operators define (bilinear before opset 11): onnxruntime is the oracle. */
  torchDiffers?: boolean;
  input: { shape: number[]; data: number[] };
  output: { shape: number[]; data: number[] };
}

function fixture(name: string): { bytes: Uint8Array; fx: Fixture } {
  return {
    bytes: Deno.readFileSync(new URL(`${name}.onnx`, DIR)),
    fx: JSON.parse(Deno.readTextFileSync(new URL(`${name}.json`, DIR))),
  };
}

/** Our NHWC view of an NCHW (or NCL) tensor. */
function toOurs(shape: number[], data: ArrayLike<number>): Tensor {
  const t = tensor(Float32Array.from(data), shape);
  return shape.length === 2 ? t : nchwToNhwc(t);
}

/** An NCHW output back from our NHWC one. */
function toTheirs(y: Tensor): Tensor {
  return y.shape.length === 4 ? nhwcToNchw(y) : y;
}

async function runOrt(bytes: Uint8Array, x: Tensor): Promise<Tensor> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    const out = await s.run({ input: new ort.Tensor("float32", x.data, [...x.shape]) });
    const y = out["output"]!;
    return tensor(Float32Array.from(y.data as Float32Array), [...y.dims]);
  } finally {
    await s.release();
  }
}

for (const name of FIXTURES) {
  Deno.test(`loadOnnx ${name}: equal to PyTorch and onnxruntime on every backend`, async () => {
    const { bytes, fx } = fixture(name);
    const model = loadOnnx(bytes);
    const x = toOurs(fx.input.shape, fx.input.data);
    assert.deepEqual([...model.inputShape], x.shape.slice(1));
    const torchOut = tensor(Float32Array.from(fx.output.data), fx.output.shape);
    const ortOut = await runOrt(bytes, tensor(Float32Array.from(fx.input.data), fx.input.shape));
    if (fx.torchDiffers) {
      // The two oracles must disagree, or the fixture is mislabelled.
      assert.throws(() => assertTensorClose(ortOut, torchOut, 1e-3, "differs"));
    } else assertTensorClose(ortOut, torchOut, 1e-5, `${name}: onnxruntime against PyTorch`);
    for (const b of availableBackends()) {
      withBackend(b, () => {
        const y = toTheirs(model.predict(x));
        assert.deepEqual(y.shape, fx.output.shape, `${name} ${b}: output shape`);
        if (!fx.torchDiffers) {
          assertTensorClose(y, torchOut, 1e-4, `${name} on ${b} against PyTorch`);
        }
        assertTensorClose(y, ortOut, 1e-4, `${name} on ${b} against onnxruntime`);
        // The batch axis is dynamic: one sample alone gives the same first row.
        const one = model.predict(
          tensor(x.data.slice(0, x.data.length / 3), [1, ...x.shape.slice(1)]),
        );
        assertTensorClose(
          one.data,
          model.predict(x).data.slice(0, one.data.length),
          1e-6,
          `${name} ${b}: batch of one`,
        );
      });
    }
  });
}

Deno.test("loadOnnx folds BatchNormalization nodes and fuses Relu into the layer before", () => {
  const { bytes } = fixture("resnet");
  const kinds = loadOnnx(bytes).layers.map((l) => l.kind);
  assert.ok(!kinds.includes("BatchNorm"), kinds.join(","));
  // 16 BatchNormalization and 13 Relu nodes in the file: every Relu fused, into a Conv2D or an Add.
  assert.equal(kinds.filter((k) => k === "ReLU").length, 0);
  const adds = loadOnnx(bytes).layers.filter((l) => l.kind === "Add") as Add[];
  assert.deepEqual(adds.map((a) => a.activation), ["relu", "relu", "relu"]);
  assert.equal(kinds.filter((k) => k === "Conv2D").length, 9);
});

Deno.test("loadOnnx: the GELU + Resize net that was refused now loads and matches PyTorch", () => {
  const { bytes, fx } = fixture("unsupported");
  const model = loadOnnx(bytes);
  const y = toTheirs(model.predict(toOurs(fx.input.shape, fx.input.data)));
  assertTensorClose(
    y,
    tensor(Float32Array.from(fx.output.data), fx.output.shape),
    1e-4,
    "gelu-resize",
  );
});

Deno.test("loadOnnx lists every node it cannot import at once, past the first (stand-ins keep shapes)", () => {
  // Conv → Sin → Mul(·, x) → Cos → Sub(·, x) → Einsum: Sin, Cos and Einsum are not supported; the
  // supported nodes between them are still checked, and all three are listed.
  const w = { name: "w", dims: [2, 2, 1, 1], data: [1, 0, 0, 1] };
  const bytes = buildOnnx({
    inputs: [{ name: "x", shape: ["N", 2, 4, 4] }],
    outputs: [{ name: "y", shape: ["N", 2, 4, 4] }],
    inits: [w],
    nodes: [
      { op: "Conv", inputs: ["x", "w"], outputs: ["c"], name: "conv" },
      { op: "Sin", inputs: ["c"], outputs: ["s"], name: "sin" },
      { op: "Mul", inputs: ["s", "c"], outputs: ["m"], name: "mul" },
      { op: "Cos", inputs: ["m"], outputs: ["k"], name: "cos" },
      { op: "Sub", inputs: ["k", "c"], outputs: ["d"], name: "sub" },
      {
        op: "Einsum",
        inputs: ["d"],
        outputs: ["y"],
        name: "einsum",
        attrs: { equation: "nchw->nchw" },
      },
    ],
  });
  let e: unknown;
  try {
    loadOnnx(bytes);
  } catch (err) {
    e = err;
  }
  assert.ok(e instanceof OnnxUnsupportedError, String(e));
  assert.deepEqual(e.items.map((i) => `${i.node}:${i.opType}`), [
    "sin:Sin",
    "cos:Cos",
    "einsum:Einsum",
  ]);
  assert.match((e as Error).message, /node "cos" \(Cos\): operator Cos/);
});

Deno.test("an imported model saves as safetensors and loads back equal", () => {
  for (const name of ["geometry", "unet"]) {
    const { bytes, fx } = fixture(name);
    const model = loadOnnx(bytes);
    const again = loadModel(saveModel(model));
    const x = toOurs(fx.input.shape, fx.input.data);
    assertTensorClose(again.predict(x), model.predict(x), 0, name);
  }
});

/** Our models, with every layer kind saveOnnx writes. */
function ourModels(): [string, Model][] {
  const r = rng(5);
  const a = Input([11, 13, 3]);
  const stem = new Conv2D({ filters: 6, kernelSize: 3, padding: "same" }).apply(a);
  const bn = new BatchNorm().apply(stem);
  const act = new ReLU().apply(bn);
  const dw = new DepthwiseConv2D({ kernelSize: 3, padding: 1, depthMultiplier: 2 }).apply(act);
  const r6 = new ReLU6().apply(dw);
  const pw = new Conv2D({ filters: 6, kernelSize: 1 }).apply(r6);
  const sum = new Add().apply([pw, act]);
  const gate = new Sigmoid().apply(new Conv2D({ filters: 6, kernelSize: 1 }).apply(sum));
  const prod = new Multiply().apply([sum, gate]);
  const cat = new Concatenate().apply([prod, new HardSwish().apply(sum)]);
  const pool = new MaxPool2D({ poolSize: 3, stride: 2, ceilMode: true }).apply(cat);
  const avg = new AvgPool2D({ poolSize: 2, padding: 1, countIncludePad: false }).apply(pool);
  const flat = new Flatten().apply(new Tanh().apply(avg));
  const d1 = new Dense({ units: 12, activation: "relu" }).apply(flat);
  const d2 = new Dense({ units: 5 }).apply(
    new Dropout({ rate: 0.3 }).apply(new BatchNorm().apply(d1)),
  );
  const graph = new Model({ inputs: a, outputs: new Softmax().apply(d2) }, { seed: 3 });

  const b = Input([9, 10, 2]);
  const e1 = new Conv2D({
    filters: 4,
    kernelSize: [3, 2],
    padding: [1, 1, 0, 1],
    activation: "relu",
  }).apply(b);
  const down = new MaxPool2D({ poolSize: 2 }).apply(e1);
  const up = new Conv2DTranspose({
    filters: 4,
    kernelSize: 3,
    stride: 2,
    padding: 1,
    outputPadding: [1, 1],
  }).apply(down);
  const padded = new Pad2D({ padding: [0, 1, 0, 0], value: 0.5 }).apply(up);
  const joined = new Concatenate().apply([padded, e1]);
  const head = new Conv2D({ filters: 3, kernelSize: 1, dilation: 1 }).apply(
    new LeakyReLU({ alpha: 0.2 }).apply(
      new HardSigmoid().apply(new Clip({ min: -1, max: 2 }).apply(joined)),
    ),
  );
  const unet = new Model({ inputs: b, outputs: head }, { seed: 4 });

  const seq = new Sequential(
    [
      new Conv2D({ filters: 5, kernelSize: 3, stride: 2, dilation: 1, groups: 1 }),
      new GlobalMaxPool2D(),
      new Dense({ units: 3 }),
    ],
    [8, 8, 4],
    { seed: 6 },
  );
  const chw = new Sequential([
    new Conv2D({ filters: 3, kernelSize: 2 }),
    new Flatten({ order: "chw" }),
    new Dense({ units: 2 }),
  ], [5, 4, 2]);
  const gap = new Sequential([
    new Conv2D({ filters: 3, kernelSize: 3, groups: 1 }),
    new GlobalAvgPool2D({ keepDims: true }),
  ], [6, 6, 3]);
  // The layers torchvision's networks brought: broadcasting merges, resizing, shuffles, norms.
  const c = Input([7, 6, 4]);
  const c1 = new Conv2D({ filters: 6, kernelSize: 3, padding: "same" }).apply(c);
  const se = new Sigmoid().apply(
    new Conv2D({ filters: 6, kernelSize: 1 }).apply(
      new GlobalAvgPool2D({ keepDims: true }).apply(c1),
    ),
  );
  const gated = new Multiply().apply([c1, se]);
  const centred = new Subtract().apply([
    gated,
    new GlobalMaxPool2D({ keepDims: true }).apply(gated),
  ]);
  const ratio = new Divide().apply([centred, new ScaleShift({ scale: 0.5, shift: 2 }).apply(se)]);
  const shuffled = new ChannelShuffle({ groups: 3 }).apply(
    new LayerNorm({ epsilon: 1e-6 }).apply(ratio),
  );
  const half = new ChannelSlice({ begin: 1, end: 5 }).apply(
    new SiLU().apply(new Gelu().apply(shuffled)),
  );
  const upN = new Upsample2D({ scale: 2 }).apply(half);
  const upB = new Upsample2D({ size: [14, 12], mode: "bilinear" }).apply(
    new Gelu({ approximate: "tanh" }).apply(new Erf().apply(half)),
  );
  const upA = new Upsample2D({ scale: 2, mode: "bilinear", alignCorners: true }).apply(
    new PReLU({ perChannel: true }).apply(new Unary({ fn: "mish" }).apply(new PReLU().apply(half))),
  );
  const tv = new Model({
    inputs: c,
    outputs: new Concatenate().apply([upN, upB, upA]),
  }, { seed: 8 });
  // InstanceNorm, LRN (onnxruntime takes odd sizes only), channel reductions and Reshape: LRN has no
  // PyTorch export (it writes a decomposition), so onnxruntime is its outside oracle here.
  const d = Input([6, 5, 5]);
  const nConv = new Conv2D({ filters: 6, kernelSize: 3, padding: "same" }).apply(d);
  const lrn = new LocalResponseNorm({ size: 5, alpha: 0.2, beta: 0.6, bias: 2 }).apply(
    new LocalResponseNorm({ size: 3, alpha: 0.5, beta: 0.75, bias: 1.5 }).apply(nConv),
  );
  const inn = new InstanceNorm({ epsilon: 1e-4 }).apply(lrn);
  const chGate = new Reshape({ shape: [1, 1, 6] }).apply(
    new Dense({ units: 6 }).apply(new GlobalAvgPool2D().apply(inn)),
  );
  const more = new Model({
    inputs: d,
    outputs: new Concatenate().apply([
      new Multiply().apply([inn, chGate]),
      new ReduceChannels({ op: "max" }).apply(inn),
      new ReduceChannels({ op: "mean" }).apply(inn),
      new ReduceChannels({ op: "sum" }).apply(inn),
      // BatchNorm with a fused ReLU6 (fuse() makes DenseNet's BN → ReLU one layer).
      new BatchNorm({ activation: "relu6" }).apply(
        new ScaleShift({ scale: 4, shift: 1 }).apply(inn),
      ),
    ]),
  }, { seed: 10 });
  for (const p of more.params()) {
    if (p.name.includes("instance")) p.value.set(randArray(r, p.value.length, 0.5, 1.5));
  }
  // Give the BatchNorm layers non-trivial running statistics.
  for (const m of [graph, more]) {
    for (const p of m.state()) p.value.set(randArray(r, p.value.length, 0.5, 1.5));
    for (const p of m.params()) {
      if (p.name.includes("batchnorm")) p.value.set(randArray(r, p.value.length, 0.5, 1.5));
    }
  }
  return [
    ["graph", graph],
    ["unet", unet],
    ["sequential", seq],
    ["flatten chw", chw],
    [
      "global pool",
      gap,
    ],
    ["torchvision ops", tv],
    ["norms and reductions", more],
  ];
}

Deno.test("saveOnnx: our models run in onnxruntime equal to ours, and load back equal", async () => {
  const r = rng(9);
  for (const [name, model] of ourModels()) {
    const bytes = saveOnnx(model);
    const x = tensor(randArray(r, 2 * model.inputShape.reduce((p, d) => p * d, 1)), [
      2,
      ...model.inputShape,
    ]);
    const ours = model.predict(x);
    const theirs = await runOrt(bytes, nhwcToNchw(x));
    assertTensorClose(theirs, toTheirs(ours), 1e-5, `${name}: onnxruntime against ours`);
    const back = loadOnnx(bytes);
    assert.deepEqual([...back.inputShape], [...model.inputShape], name);
    assert.deepEqual([...back.outputShape], [...model.outputShape], name);
    for (const b of availableBackends()) {
      withBackend(
        b,
        () =>
          assertTensorClose(back.predict(x), model.predict(x), 1e-5, `${name}: round trip on ${b}`),
      );
    }
  }
});

Deno.test("saveOnnx refuses what has no ONNX form, naming the layer", () => {
  class Custom extends ReLU {
    override readonly kind = "Custom" as "ReLU";
  }
  const m = new Sequential([new Custom({ name: "mine" })], [3]);
  assert.throws(
    () => saveOnnx(m),
    (e: Error) => e instanceof RangeError && /layer "mine"/.test(e.message),
  );
  assert.throws(() => saveOnnx({} as Model), TypeError);
  const same = new Sequential([
    new Conv2DTranspose({ filters: 2, kernelSize: 3, padding: "same", name: "up" }),
  ], [4, 4, 1]);
  assert.throws(() => saveOnnx(same), /layer "up"\.padding/);
});

Deno.test("loadOnnx: bad arguments are TypeErrors naming them", () => {
  assert.throws(() => loadOnnx([1, 2] as unknown as Uint8Array), /loadOnnx: bytes/);
  const { bytes } = fixture("lenet5");
  assert.throws(() => loadOnnx(bytes, { maxParameters: -1 }), /options\.maxParameters/);
  assert.throws(() => loadOnnx(bytes, { maxParameters: "9" as unknown as number }), TypeError);
});

Deno.test("loadOnnx: maxParameters caps the weights before they are copied", () => {
  const { bytes } = fixture("lenet5"); // 61,706 weights
  assert.throws(() => loadOnnx(bytes, { maxParameters: 60_000 }), OnnxFormatError);
  assert.ok(loadOnnx(bytes, { maxParameters: 61_706 }));
});

Deno.test("loadOnnx: malformed files are OnnxFormatError with the field path", () => {
  const { bytes } = fixture("mobilenet");
  // Truncated anywhere: a format error, never anything else.
  for (const cut of [1, 2, 10, 100, 1000, bytes.length - 1]) {
    assert.throws(() => loadOnnx(bytes.subarray(0, cut)), OnnxFormatError, `cut at ${cut}`);
  }
  // A length that runs past the end.
  assert.throws(() => loadOnnx(Uint8Array.of(0x3a, 0x7f, 0x00)), /graph|model.*runs past the end/);
  // A group wire type.
  assert.throws(() => loadOnnx(Uint8Array.of(0x0b)), /wire type 3/);
  // Invalid UTF-8 in a string.
  assert.throws(() => loadOnnx(Uint8Array.of(0x12, 0x02, 0xff, 0xfe)), /invalid UTF-8/);
  // An empty file has no graph.
  assert.throws(
    () => loadOnnx(new Uint8Array(0)),
    (e: Error) => e instanceof OnnxFormatError && /no graph/.test(e.message),
  );
});

Deno.test("loadOnnx: raw_data that does not fill the dims is a format error", () => {
  // A minimal graph with one initializer whose raw_data is 4 bytes short.
  const model = new Sequential([new Dense({ units: 2 })], [3]);
  const good = saveOnnx(model);
  const bad = good.slice();
  // Find the initializer's raw_data key (field 9, wire 2 = 0x4a) followed by 24 (2·3 floats · 4 bytes).
  const at = bad.findIndex((v, i) => v === 0x4a && bad[i + 1] === 24);
  assert.ok(at > 0);
  bad[at + 1] = 20;
  assert.throws(() => loadOnnx(bad), OnnxFormatError);
});

Deno.test("loadOnnx: opsets outside 9-21 and external data are refused clearly", () => {
  const bytes = saveOnnx(new Sequential([new Dense({ units: 2 })], [3]));
  // The opset_import message is last: [0x42, len, 0x0a, 0x00, 0x10, version].
  const old = bytes.slice();
  assert.equal(old[old.length - 2], 0x10);
  old[old.length - 1] = 8;
  assert.throws(
    () => loadOnnx(old),
    (e: Error) => e instanceof OnnxUnsupportedError && /opset 8 .*9 to 21/.test(e.message),
  );
});

Deno.test("Flatten order chw equals PyTorch's flatten; Pad2D, Clip and HardSigmoid compute as documented", () => {
  const x = tensor(Float32Array.from({ length: 12 }, (_, i) => i), [1, 2, 3, 2]);
  const chw = new Sequential([new Flatten({ order: "chw" })], [2, 3, 2]).predict(x);
  assert.deepEqual([...chw.data], [...nhwcToNchw(x).data]);
  const pad = new Sequential([new Pad2D({ padding: [1, 0, 0, 1], value: 7 })], [2, 3, 2]).predict(
    x,
  );
  assert.deepEqual(pad.shape, [1, 3, 4, 2]);
  assert.equal(pad.data[0], 7);
  assert.equal(pad.data[8], 0); // row 1, col 0, channel 0 = x[0]
  assert.deepEqual([
    ...new Sequential([new Clip({ min: -1, max: 2 })], [3]).predict(tensor([-5, 1, 9], [1, 3]))
      .data,
  ], [-1, 1, 2]);
  const hs = new Sequential([new HardSigmoid({ alpha: 0.5, beta: 0.25 })], [3]).predict(
    tensor([-1, 1, 3], [1, 3]),
  );
  assert.deepEqual([...hs.data], [0, 0.75, 1]);
  assert.throws(() => new Flatten({ order: "cwh" as "chw" }), RangeError);
  assert.throws(() => new Clip({ min: 2, max: 1 }), /options\.max/);
  assert.throws(() => new Pad2D({ padding: -1 }), /options\.padding/);
  assert.throws(() => new HardSigmoid({ alpha: NaN }), /options\.alpha/);
});

Deno.test("loadOnnx: hand-built files — external data, custom domains, unknown attributes, several inputs", () => {
  const io = {
    inputs: [{ name: "x", shape: ["N", 2, 4, 4] }],
    outputs: [{ name: "y", shape: ["N", 3, 4, 4] }],
  };
  const conv = (extra: Partial<NodeSpec> = {}): NodeSpec => ({
    op: "Conv",
    inputs: ["x", "w"],
    outputs: ["y"],
    name: "c",
    ...extra,
  });
  const w = { name: "w", dims: [3, 2, 1, 1], data: [1, 2, 3, 4, 5, 6] };
  // The plain file loads and computes a 1×1 convolution.
  const ok = loadOnnx(buildOnnx({ ...io, nodes: [conv()], inits: [w] }));
  const x = tensor(Float32Array.from({ length: 32 }, (_, i) => i % 5), [1, 4, 4, 2]);
  const y = ok.predict(x);
  assert.deepEqual(y.shape, [1, 4, 4, 3]);
  assert.deepEqual([...y.data.slice(0, 3)], [0 * 1 + 1 * 2, 0 * 3 + 1 * 4, 0 * 5 + 1 * 6]);
  const refuse = (bytes: Uint8Array, re: RegExp) =>
    assert.throws(
      () => loadOnnx(bytes),
      (e: Error) => e instanceof OnnxUnsupportedError && re.test(e.message),
      String(re),
    );
  refuse(buildOnnx({ ...io, nodes: [conv()], inits: [{ ...w, external: true }] }), /external file/);
  refuse(
    buildOnnx({ ...io, nodes: [conv({ domain: "com.example" })], inits: [w] }),
    /node "c" \(Conv\): operator com\.example\.Conv/,
  );
  refuse(
    buildOnnx({
      ...io,
      nodes: [conv({ attrs: { auto_pad: "SAME_LOWER", fancy: 1 } })],
      inits: [w],
    }),
    /attribute fancy[\s\S]*SAME_LOWER|SAME_LOWER[\s\S]*attribute fancy/,
  );
  refuse(
    buildOnnx({
      inputs: [...io.inputs, { name: "z", shape: ["N", 2, 4, 4] }],
      outputs: io.outputs,
      nodes: [conv()],
      inits: [w],
    }),
    /2 inputs/,
  );
  refuse(
    buildOnnx({
      ...io,
      inputs: [{ name: "x", shape: ["N", 2, "H", 4] }],
      nodes: [conv()],
      inits: [w],
    }),
    /fixed positive size/,
  );
  refuse(
    buildOnnx({
      ...io,
      inputs: [{ name: "x", shape: ["N", 2, 4, 4], elemType: 10 }],
      nodes: [conv()],
      inits: [w],
    }),
    /FLOAT16/,
  );
  // Two problems at once are both listed.
  const both = buildOnnx({
    ...io,
    nodes: [conv({ outputs: ["t"] }), { op: "Resize", inputs: ["t"], outputs: ["u"], name: "r" }, {
      op: "Sin",
      inputs: ["u"],
      outputs: ["y"],
      name: "e",
    }],
    inits: [w],
  });
  assert.throws(
    () => loadOnnx(both),
    (e: Error) => e instanceof OnnxUnsupportedError && e.items.length === 2,
  );
  // A node that reads a value nothing produces is malformed.
  assert.throws(
    () =>
      loadOnnx(buildOnnx({ ...io, nodes: [{ op: "Relu", inputs: ["nowhere"], outputs: ["y"] }] })),
    (e: Error) =>
      e instanceof OnnxFormatError && /graph\.node\[0\]/.test(e.message) &&
      /"nowhere"/.test(e.message),
  );
  // raw_data shorter than its dims.
  assert.throws(
    () =>
      loadOnnx(buildOnnx({ ...io, nodes: [conv()], inits: [{ ...w, raw: new Uint8Array(20) }] })),
    (e: Error) =>
      e instanceof OnnxFormatError && /graph\.initializer\[0\]/.test(e.message) &&
      /need 24/.test(e.message),
  );
});

Deno.test("saveOnnx: a layer shared by two nodes writes its weights once and runs equal in onnxruntime", async () => {
  const a = Input([5, 5, 2]);
  const shared = new Conv2D({ filters: 2, kernelSize: 3, padding: "same", activation: "relu" });
  const twice = shared.apply(shared.apply(a));
  const model = new Model({ inputs: a, outputs: new Add().apply([twice, a]) });
  const bytes = saveOnnx(model);
  const x = tensor(randArray(rng(2), 50), [1, 5, 5, 2]);
  assertTensorClose(await runOrt(bytes, nhwcToNchw(x)), nhwcToNchw(model.predict(x)), 1e-5);
  assertTensorClose(loadOnnx(bytes).predict(x), model.predict(x), 1e-5);
});

Deno.test("loadOnnx: maxActivation refuses a file whose shapes blow up, before predict allocates", () => {
  const big = new Sequential([new Pad2D({ padding: 3000, name: "huge" })], [4, 4, 2]);
  const bytes = saveOnnx(big); // [6004, 6004, 2]: 72 million values a sample
  assert.throws(
    () => loadOnnx(bytes),
    (e: Error) =>
      e instanceof OnnxUnsupportedError && /maxActivation/.test(e.message) &&
      /huge/.test(e.message),
  );
  assert.deepEqual([...loadOnnx(bytes, { maxActivation: 2 ** 27 }).outputShape], [6004, 6004, 2]);
  assert.throws(() => loadOnnx(bytes, { maxActivation: 0 }), /options\.maxActivation/);
});

Deno.test("loadOnnx: a file whose weights hold NaN or Infinity is refused, naming the layer", () => {
  for (const bad of [NaN, Infinity]) {
    const m = new Sequential([new Conv2D({ filters: 2, kernelSize: 3, name: "c" })], [5, 5, 1]);
    m.params()[0]!.value[4] = bad; // behind setWeights' back, as a corrupt exporter would
    assert.throws(
      () => loadOnnx(saveOnnx(m)),
      (e: Error) =>
        e instanceof OnnxFormatError && /layer "c"/.test(e.message) &&
        new RegExp(`is ${bad}`).test(e.message),
    );
  }
});

Deno.test("loadOnnx: the model keeps no view of the file's bytes, at any alignment of them", () => {
  // Weights are read as views of the file where its raw data is 4-byte aligned; every array a
  // layer keeps must be its own. Shifting the file by 0–3 bytes moves every tensor's alignment.
  // The fixtures, and a BatchNorm after an Add, which keeps the file's four arrays as they are.
  const C = 3, init = (name: string, v: number) => ({ name, dims: [C], data: [v, v + 1, v + 2] });
  const unfolded = buildOnnx({
    nodes: [
      { op: "Add", inputs: ["x", "x"], outputs: ["s"] },
      { op: "BatchNormalization", inputs: ["s", "g", "b", "m", "v"], outputs: ["y"] },
    ],
    inits: [init("g", 0.5), init("b", -1), init("m", 0.25), init("v", 2)],
    inputs: [{ name: "x", shape: ["N", C, 2, 2] }],
    outputs: [{ name: "y", shape: ["N", C, 2, 2] }],
  });
  const cases: [string, Uint8Array, Tensor][] = [
    ["add-batchnorm", unfolded, tensor(randArray(rng(4), 12), [1, 2, 2, C])],
  ];
  for (const name of readdirNames().filter((n) => n !== "unsupported")) {
    const { bytes, fx } = fixture(name);
    cases.push([name, bytes, toOurs(fx.input.shape, fx.input.data)]);
  }
  for (const [name, bytes, x] of cases) {
    for (let shift = 0; shift < 4; shift++) {
      const buf = new Uint8Array(bytes.length + shift);
      buf.set(bytes, shift);
      const file = buf.subarray(shift);
      const model = loadOnnx(file);
      for (const p of [...model.params(), ...model.state()]) {
        assert.notEqual(p.value.buffer, buf.buffer, `${name} shift ${shift}: ${p.name}`);
      }
      const before = model.predict(x);
      buf.fill(0xff); // every float of the file becomes NaN
      const after = model.predict(x);
      assert.ok(after.data.every((v) => Number.isFinite(v)), `${name} shift ${shift}: NaN`);
      assert.deepEqual(after.data, before.data, `${name} shift ${shift}`);
    }
  }
});

/** The fixture files' names (each `.onnx` with its `.json`). */
function readdirNames(): string[] {
  return [...Deno.readDirSync(DIR)].filter((e) => e.name.endsWith(".onnx"))
    .map((e) => e.name.slice(0, -5)).sort();
}

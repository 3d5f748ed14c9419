/**
 * Issue "no silent failures, part two": every options bag refuses unknown
 * keys (from the layers' declarations), model files refuse what this
 * version does not know, custom layers load through registerLayer, and the
 * errors say what to do.
 */
import assert from "node:assert/strict";
import {
  Adam,
  BatchNorm,
  Conv2D,
  convForward,
  Dense,
  evaluate,
  fit,
  Flatten,
  type Layer,
  LAYER_TYPES,
  LayerBase,
  type LayerConfig,
  loadModel,
  loadOnnx,
  MaxPool2D,
  ModelFormatError,
  type Param,
  poolForward,
  registerLayer,
  type SampleShape,
  saveModel,
  saveOnnx,
  Sequential,
  SGD,
  type Tensor,
  tensor,
  VERSION,
} from "../mod.ts";
import { checkGradients, GradientCheckError } from "../src/testing/mod.ts";

function typeErrorNaming(key: string, suggestion?: string) {
  return (e: unknown) => {
    assert.ok(e instanceof TypeError, `expected a TypeError, got ${e}`);
    assert.match(e.message, new RegExp(`options\\.${key} is not an option`));
    if (suggestion) assert.match(e.message, new RegExp(`did you mean "${suggestion}"`));
    assert.match(e.message, /the options are |it takes no options/);
    return true;
  };
}

const tiny = () =>
  new Sequential([
    new Conv2D({ filters: 2, kernelSize: 3 }),
    new Flatten(),
    new Dense({ units: 3 }),
  ], [
    5,
    5,
    1,
  ]);
const data = () => ({
  x: tensor(new Float32Array(4 * 25).map((_, i) => Math.sin(i)), [4, 5, 5, 1]),
  labels: [0, 1, 2, 0],
});

Deno.test("1. misspelt options are refused with the key, the accepted ones and a 'did you mean'", () => {
  assert.throws(
    () => new Conv2D({ filters: 1, kernelSize: 3, paddding: "same" } as never),
    typeErrorNaming("paddding", "padding"),
  );
  assert.throws(
    () => new MaxPool2D({ pool_size: 4 } as never),
    typeErrorNaming("pool_size", "poolSize"),
  );
  assert.throws(() => new Adam({ learningRate: 0.1 } as never), typeErrorNaming("learningRate"));
  assert.throws(
    () => new SGD({ lr: 0.1, nesterov: true, momentun: 0.9 } as never),
    typeErrorNaming("momentun", "momentum"),
  );
  const m = tiny(), before = m.params().map((p) => p.value.slice());
  assert.throws(() => fit(m, data(), { epoch: 3 } as never), typeErrorNaming("epoch", "epochs"));
  assert.deepEqual(m.params().map((p) => p.value), before, "nothing changed before the refusal");
  assert.throws(
    () => evaluate(m, data(), { batch_size: 2 } as never),
    typeErrorNaming("batch_size", "batchSize"),
  );
  assert.throws(
    () => m.predict(data().x, { batchsize: 2 } as never),
    typeErrorNaming("batchsize", "batchSize"),
  );
  assert.throws(
    () => loadOnnx(saveOnnx(m), { maxParams: 5 } as never),
    typeErrorNaming("maxParams"),
  );
  assert.throws(
    () => checkGradients(m, data().x, { tolerence: 1 } as never),
    typeErrorNaming("tolerence", "tolerance"),
  );
  const x = tensor(new Float32Array(16), [1, 4, 4, 1]);
  assert.throws(
    () =>
      convForward(
        x,
        tensor(new Float32Array(9), [3, 3, 1, 1]),
        new Float32Array(1),
        { padding: 1 } as never,
      ),
    (e: Error) =>
      e instanceof TypeError &&
      /hp\.padding is not an option \(did you mean "pad"\?\)/.test(e.message),
  );
  assert.throws(
    () => poolForward(x, { f: 2, strides: 2 } as never, "max"),
    (e: Error) =>
      e instanceof TypeError &&
      /hp\.strides is not an option \(did you mean "stride"\?\)/.test(e.message),
  );
});

Deno.test("1. every layer kind of LAYER_TYPES refuses an unknown key before reading the others", () => {
  for (const [kind, info] of Object.entries(LAYER_TYPES)) {
    assert.throws(() => info.make({ bogusKey: 1 } as never), typeErrorNaming("bogusKey"), kind);
  }
});

Deno.test("1. config() stores exactly the declared options, and a layer rebuilt from it equals the original", () => {
  for (const [kind, info] of Object.entries(LAYER_TYPES)) {
    const declared = new Set([...Object.keys(info.options), "kind", "name"]);
    const samples: Record<string, Record<string, unknown>> = {
      Conv2D: { filters: 3, kernelSize: [3, 1], stride: 2, padding: "same", groups: 1 },
      DepthwiseConv2D: { kernelSize: 3, depthMultiplier: 2 },
      Conv2DTranspose: { filters: 2, kernelSize: 2, stride: 2, outputPadding: 1 },
      Dense: { units: 4, activation: "relu" },
      Pad2D: { padding: [1, 0, 2, 1], value: 0.5 },
      Clip: { min: -1 },
      ChannelShuffle: { groups: 2 },
      ChannelSlice: { begin: 1, end: 3 },
      Upsample2D: { scale: [2, 1.5], mode: "bilinear" },
      ScaleShift: { scale: 2, shift: -1 },
      Gelu: { approximate: "tanh" },
      LayerNorm: { epsilon: 1e-6 },
      Unary: { fn: "elu", alpha: 0.5 },
      PReLU: { perChannel: true, initial: 0.1 },
      InstanceNorm: { epsilon: 1e-3 },
      LocalResponseNorm: { size: 4, alpha: 0.01, beta: 0.5, bias: 2 },
      ReduceChannels: { op: "max" },
      Reshape: { shape: [1, 1, 6] },
    };
    const layer = info.make({ ...samples[kind], name: "l" } as never);
    const cfg = layer.config();
    for (const k of Object.keys(cfg)) {
      assert.ok(declared.has(k), `${kind}.config() has undeclared "${k}"`);
    }
    const { kind: _k, ...opts } = cfg;
    assert.deepEqual(info.make(opts as never).config(), cfg, kind);
  }
});

/** The README's custom layer: y = x · s with one trainable scale per channel. */
class ChannelScale extends LayerBase implements Layer {
  readonly kind = "ChannelScale";
  name = "";
  #s: Param | null = null;
  #x: Tensor | null = null;
  build(shape: SampleShape, rand?: () => number): SampleShape {
    const c = shape[shape.length - 1]!;
    if (rand) {
      this.#s = {
        name: `${this.name}.s`,
        shape: [c],
        value: new Float32Array(c).fill(1),
        grad: new Float32Array(c),
      };
    }
    return shape;
  }
  forward(x: Tensor): Tensor {
    this.#x = x;
    const s = this.#s!.value;
    return { shape: x.shape, data: x.data.map((v, i) => v * s[i % s.length]!) };
  }
  backward(d: Tensor): Tensor {
    const s = this.#s!, c = s.value.length;
    d.data.forEach((g, i) => (s.grad[i % c]! += g * this.#x!.data[i]!));
    return { shape: d.shape, data: d.data.map((g, i) => g * s.value[i % c]!) };
  }
  params(): Param[] {
    return this.#s ? [this.#s] : [];
  }
  config(): LayerConfig {
    return { kind: "ChannelScale", name: this.name };
  }
}

Deno.test("10. a custom layer saves, and loads once registered (unregistered: the error names registerLayer)", () => {
  const model = new Sequential([new Flatten(), new ChannelScale(), new Dense({ units: 2 })], [
    2,
    2,
    3,
  ]);
  model.params()[0]!.value.set([2, -1, 0.5, 3]);
  const bytes = saveModel(model);
  const x = tensor(new Float32Array(2 * 12).map((_, i) => Math.cos(i)), [2, 2, 2, 3]);
  if (!("registered" in globalThis)) {
    assert.throws(
      () => loadModel(bytes),
      (e: Error) =>
        e instanceof ModelFormatError && /"ChannelScale"/.test(e.message) &&
        /registerLayer\("ChannelScale"/.test(e.message),
    );
  }
  registerLayer("ChannelScale", (cfg) => {
    const l = new ChannelScale();
    l.name = cfg.name;
    return l;
  });
  const back = loadModel(bytes);
  assert.deepEqual(back.predict(x).data, model.predict(x).data);
  assert.throws(() => registerLayer("Conv2D", () => new ChannelScale()), RangeError);
  assert.throws(() => registerLayer("X", 3 as never), TypeError);
});

/** Rewrites a model file's architecture JSON and metadata (the tensors kept). */
function rewrite(
  bytes: Uint8Array,
  edit: (meta: Record<string, string>, arch: Record<string, unknown>) => void,
): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const arch = JSON.parse(header.__metadata__.architecture);
  edit(header.__metadata__, arch);
  header.__metadata__.architecture = JSON.stringify(arch);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes.subarray(8 + n), 8 + json.length);
  return out;
}

Deno.test("9. model files: an unknown layer key or format is refused naming it; the library version is recorded", () => {
  const bytes = saveModel(tiny());
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))).__metadata__;
  assert.equal(meta.libraryVersion, VERSION);
  assert.equal(
    loadModel(bytes).metadata["libraryVersion"],
    undefined,
    "kept out of model.metadata",
  );
  const deno = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
  assert.equal(VERSION, deno.version);
  const bad = (b: Uint8Array, re: RegExp) =>
    assert.throws(
      () => loadModel(b),
      (e: Error) => e instanceof ModelFormatError && re.test(e.message),
    );
  bad(
    rewrite(
      bytes,
      (_m, a) => ((a["layers"] as Record<string, unknown>[])[0]!["paddingMode"] = "reflect"),
    ),
    /layers\[0\]: Conv2D: options\.paddingMode is not an option/,
  );
  bad(
    rewrite(bytes, (m) => (m["format"] = "convnet-wasm-2")),
    /format must be "convnet-wasm", got "convnet-wasm-2"/,
  );
  bad(
    rewrite(bytes, (_m, a) => (a["format"] = "dag")),
    /format must be "graph" or absent \(a sequential model\), got "dag"/,
  );
  bad(
    rewrite(bytes, (_m, a) => (a["dropoutEverywhere"] = true)),
    /unknown key "dropoutEverywhere"/,
  );
});

Deno.test("11. loadModel on ONNX bytes points to loadOnnx; on a state dict, to setWeights", () => {
  const onnx = saveOnnx(tiny());
  assert.throws(
    () => loadModel(onnx),
    (e: Error) => e instanceof ModelFormatError && /loadOnnx/.test(e.message),
  );
  const json = new TextEncoder().encode(
    JSON.stringify({ "fc.weight": { dtype: "F32", shape: [1], data_offsets: [0, 4] } }),
  );
  const sd = new Uint8Array(8 + json.length + 4);
  new DataView(sd.buffer).setBigUint64(0, BigInt(json.length), true);
  sd.set(json, 8);
  assert.throws(
    () => loadModel(sd),
    (e: Error) =>
      e instanceof ModelFormatError && /weights only/.test(e.message) &&
      /setWeights/.test(e.message),
  );
});

Deno.test("11. a tensor whose data does not match its shape names both; a wrong data type is named", () => {
  const model = new Sequential([new Flatten()], [2, 2, 1]);
  assert.throws(
    () => model.predict({ shape: [1, 2, 2, 1], data: new Float32Array(3) }),
    (e: Error) =>
      e instanceof RangeError && /data has 3 values, shape \[1, 2, 2, 1\] needs 4/.test(e.message),
  );
  assert.throws(
    () => model.predict({ shape: [1, 2, 2, 1], data: [1, 2, 3, 4] as unknown as Float32Array }),
    (e: Error) =>
      e instanceof TypeError && /must be a Float32Array, got \[1, 2, 3, 4\]/.test(e.message),
  );
  assert.throws(
    () => tensor(new Float32Array(3), [1, 2, 2, 1]),
    (e: Error) =>
      e instanceof RangeError && /data has 3 values, shape \[1, 2, 2, 1\] needs 4/.test(e.message),
  );
});

Deno.test("11. parameter budgets name maxParameters", () => {
  assert.throws(
    () => new Sequential([new Dense({ units: 1000 })], [1000], { maxParameters: 10 }),
    (e: Error) => e instanceof RangeError && /maxParameters/.test(e.message),
  );
});

Deno.test("7. checkGradients in training mode restores BatchNorm's running statistics; a model's layer is checked in place", () => {
  const model = new Sequential(
    [
      new Conv2D({ filters: 3, kernelSize: 3 }),
      new BatchNorm(),
      new Flatten(),
      new Dense({ units: 2 }),
    ],
    [5, 5, 2],
    { seed: 2 },
  );
  const x = tensor(new Float32Array(3 * 50).map((_, i) => Math.sin(i * 0.9)), [3, 5, 5, 2]);
  const before = [...model.params(), ...model.state()].map((
    p,
  ) => [p.value.slice(), p.grad.slice()]);
  checkGradients(model, x, { training: true, tolerance: 2e-2 });
  assert.deepEqual([...model.params(), ...model.state()].map((p) => [p.value, p.grad]), before);
  assert.equal(model.training, false);
  // The dense layer in place: its own weights, x shaped as its input.
  const dense = model.layers[3] as Dense;
  const w = dense.params()[0]!.value.slice();
  checkGradients(dense, tensor(new Float32Array(2 * 27).map((_, i) => Math.cos(i)), [2, 27]));
  assert.deepEqual(dense.params()[0]!.value, w);
});

Deno.test("7. a disagreement in a max-pooling model says near-tied windows may be the cause", () => {
  const model = new Sequential([new MaxPool2D({ poolSize: 2 }), new Flatten()], [2, 2, 1]);
  // 1 and 1.001 tie within 2·eps: finite differences straddle the tie.
  const x = tensor([1, 1.001, 0, 0], [1, 2, 2, 1]);
  assert.throws(
    () => checkGradients(model, x, { eps: 0.01 }),
    (e: Error) =>
      e instanceof GradientCheckError &&
      /max-pools: a window whose two largest values are within 2·eps/.test(e.message),
  );
});

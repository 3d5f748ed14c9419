/** Model files (safetensors) and PyTorch weight conversion. */
import assert from "node:assert/strict";
import {
  Conv2D,
  convForward,
  Dense,
  Flatten,
  fromTorchConv2dWeight,
  fromTorchLinearWeight,
  loadModel,
  MaxPool2D,
  ModelFormatError,
  ReLU,
  saveModel,
  Sequential,
  tensor,
} from "../mod.ts";
import { randArray, rng } from "./_helpers.ts";

function model(seed = 1): Sequential {
  return new Sequential(
    [
      new Conv2D({ filters: 4, kernelSize: 3, padding: "same" }),
      new ReLU(),
      new MaxPool2D(),
      new Flatten(),
      new Dense({ units: 5 }),
    ],
    [6, 6, 2],
    { seed },
  );
}

/** Builds a safetensors file from a header object and a data section. */
function file(
  header: unknown,
  data: Uint8Array = new Uint8Array(0),
  lengthOverride?: bigint,
): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function headerOf(bytes: Uint8Array): Record<string, unknown> {
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
}

function dataOf(bytes: Uint8Array): Uint8Array {
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  return bytes.subarray(8 + n);
}

function rejects(bytes: Uint8Array, pattern: RegExp) {
  assert.throws(() => loadModel(bytes), (e: unknown) => {
    assert.ok(e instanceof ModelFormatError, `expected ModelFormatError, got ${e}`);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("save then load gives the same architecture, weights, predictions and metadata", () => {
  const a = model(3);
  a.metadata = { heldOutAccuracy: "0.99" };
  const bytes = saveModel(a, { trainedBy: "test" });
  const b = loadModel(bytes);
  assert.deepEqual(b.config(), a.config());
  assert.deepEqual(b.params().map((p) => p.value), a.params().map((p) => p.value));
  const x = tensor(randArray(rng(1), 3 * 72), [3, 6, 6, 2]);
  assert.deepEqual(b.predict(x).data, a.predict(x).data);
  assert.deepEqual(b.metadata, {
    heldOutAccuracy: "0.99",
    trainedBy: "test",
  });
  // Standard layout: u64 header length, JSON header with dtype/shape/data_offsets, 8-byte aligned data.
  const h = headerOf(bytes) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: number[] }
  >;
  assert.deepEqual(h["conv2d_1.kernel"], {
    dtype: "F32",
    shape: [3, 3, 2, 4],
    data_offsets: [0, 288],
  });
  assert.equal((bytes.length - dataOf(bytes).length) % 8, 0);
});

Deno.test("the little-endian data is the weights, in parameter order", () => {
  const a = model(2);
  const data = dataOf(saveModel(a));
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const first = a.params()[0]!.value;
  for (let i = 0; i < first.length; i++) assert.equal(view.getFloat32(i * 4, true), first[i]);
});

Deno.test("truncation at every offset of a small file is rejected", () => {
  const bytes = saveModel(new Sequential([new Dense({ units: 2 })], [3]));
  for (let cut = 0; cut < bytes.length; cut++) {
    assert.throws(() => loadModel(bytes.subarray(0, cut)), ModelFormatError, `cut at ${cut}`);
  }
  assert.equal(loadModel(bytes).outputShape[0], 2);
});

Deno.test("corrupt headers are rejected with a message that says what is wrong", () => {
  const good = saveModel(model());
  const h = headerOf(good);
  const data = dataOf(good);
  rejects(
    file({}, new Uint8Array(0), 2n ** 31n),
    /header length is 2147483648 bytes, more than the 1048576 allowed/,
  );
  rejects(file({}, new Uint8Array(0), 2n ** 63n), /more than the 1048576 allowed/);
  rejects(
    new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0, 123, 34]),
    /claims 5 bytes but the file has only 2/,
  );
  const notJson = new Uint8Array(12);
  new DataView(notJson.buffer).setBigUint64(0, 4n, true);
  notJson.set([0x7b, 0x7b, 0xff, 0x7d], 8);
  rejects(notJson, /not valid UTF-8 JSON/);
  rejects(file([1, 2]), /header must be a JSON object/);
  rejects(file({ a: 1 }), /holds weights only/); // no __metadata__: a state dict
  rejects(file({ __metadata__: 5 }), /__metadata__ must be an object of strings/);
  rejects(
    file({ __metadata__: { format: "convnet-wasm", n: 3 } }),
    /__metadata__ must be an object of strings/,
  );
  rejects(file({ __metadata__: { x: "1" } }), /holds weights only.*setWeights/);
  rejects(file({ __metadata__: { format: "convnet-wasm" } }), /architecture is missing/);
  const withTensor = (name: string, v: unknown) => file({ ...h, [name]: v }, data);
  const k = h["conv2d_1.kernel"] as Record<string, unknown>;
  rejects(withTensor("conv2d_1.kernel", { ...k, dtype: "F16" }), /dtype "F16"; only F32/);
  rejects(withTensor("conv2d_1.kernel", { ...k, shape: [3, 3, -2, 4] }), /invalid shape/);
  rejects(
    withTensor("conv2d_1.kernel", { ...k, data_offsets: [0, 10 ** 9] }),
    /ends at byte 1000000000/,
  );
  rejects(
    withTensor("conv2d_1.kernel", { ...k, data_offsets: [4, 292] }),
    /overlaps|belong to no tensor/,
  );
  rejects(
    withTensor("conv2d_1.kernel", { ...k, shape: [3, 3, 2, 5] }),
    /needs 360 bytes but its offsets span 288/,
  );
  rejects(file(h, data.subarray(0, data.length - 4)), /ends at byte|belong to no tensor/);
  rejects(
    file(h, new Uint8Array([...data, 0, 0, 0, 0])),
    /last 4 bytes of the data belong to no tensor/,
  );
});

Deno.test("an architecture that disagrees with the tensors, or names an unknown layer, is rejected", () => {
  const good = saveModel(model());
  const h = headerOf(good) as Record<string, unknown> & { __metadata__: Record<string, string> };
  const data = dataOf(good);
  const arch = JSON.parse(h.__metadata__["architecture"]!);
  const withArch = (a: unknown) =>
    file({ ...h, __metadata__: { ...h.__metadata__, architecture: JSON.stringify(a) } }, data);
  rejects(
    withArch({
      ...arch,
      layers: arch.layers.map((
        l: { kind: string },
      ) => (l.kind === "ReLU" ? { ...l, kind: "Swish" } : l)),
    }),
    /layers\[\d\]: layerFromConfig: cfg.kind must be one of .*"Conv2D", .*got "Swish"/,
  );
  rejects(
    withArch({
      ...arch,
      layers: arch.layers.map((
        l: { kind: string },
      ) => (l.kind === "Dense" ? { ...l, units: 4 } : l)),
    }),
    /tensor "dense_1.kernel" has shape \[36, 5\] but the architecture needs \[36, 4\]/,
  );
  // An architecture needing more parameters than the file holds fails before allocating them:
  // here a billion-unit dense layer (4 GB of weights) in a file of a few hundred bytes.
  rejects(
    withArch({
      ...arch,
      layers: arch.layers.map((
        l: { kind: string },
      ) => (l.kind === "Dense" ? { ...l, units: 1e9 } : l)),
    }),
    /Dense "dense_1": needs 36000000000 parameters, more than the \d+ left under maxParameters/,
  );
  rejects(
    withArch({ ...arch, inputShape: [5, 5, 2] }),
    /dense_1.kernel" has shape \[36, 5\] but the architecture needs \[16, 5\]/,
  );
  rejects(
    withArch({ ...arch, layers: arch.layers.slice(0, 4) }),
    /is not a parameter of the architecture/,
  );
  // The bias stored under another name: the architecture's tensor is missing.
  const { ["dense_1.bias"]: bias, ...rest } = h;
  rejects(
    file({ ...rest, "dense_1.b": bias }, data),
    /tensor "dense_1.bias" \(shape \[5\]\) is missing/,
  );
  rejects(withArch({ inputShape: [6, 6, 2] }), /inputShape and layers arrays/);
  rejects(
    file({ ...h, __metadata__: { ...h.__metadata__, architecture: "{" } }, data),
    /architecture is not JSON/,
  );
});

Deno.test("a PyTorch Conv2d weight converts so the convolution gives PyTorch's answer", () => {
  // PyTorch computes out[o][y][x] = b[o] + Σ_i Σ_h Σ_w weight[o][i][h][w] · in[i][y+h][x+w] (NCHW).
  const r = rng(31);
  const [cOut, cIn, k] = [3, 2, 3];
  const torchW = randArray(r, cOut * cIn * k * k);
  const input = randArray(r, cIn * 5 * 5); // [cIn, 5, 5]
  const ours = fromTorchConv2dWeight(torchW, [cOut, cIn, k, k]);
  assert.deepEqual(ours.shape, [k, k, cIn, cOut]);
  const nhwc = new Float32Array(25 * cIn);
  for (let i = 0; i < cIn; i++) for (let p = 0; p < 25; p++) nhwc[p * cIn + i] = input[i * 25 + p]!;
  const { z } = convForward(tensor(nhwc, [1, 5, 5, cIn]), ours, new Float32Array(cOut), {
    stride: 1,
    pad: 0,
  });
  for (let o = 0; o < cOut; o++) {
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 3; x++) {
        let s = 0;
        for (let i = 0; i < cIn; i++) {
          for (let h = 0; h < k; h++) {
            for (let w = 0; w < k; w++) {
              s += torchW[((o * cIn + i) * k + h) * k + w]! * input[i * 25 + (y + h) * 5 + x + w]!;
            }
          }
        }
        assert.ok(Math.abs(z.data[(y * 3 + x) * cOut + o]! - s) < 1e-5);
      }
    }
  }
  assert.throws(
    () => fromTorchConv2dWeight(torchW, [3, 2, 3, 2]),
    /data.length must be 36, got 54/,
  );
});

Deno.test("a PyTorch Linear weight converts, reordering a flattened NCHW input", () => {
  // torch: y[o] = Σ_i W[o][i] · flat_chw[i]; ours: y[o] = Σ_j K[j][o] · flat_hwc[j].
  const r = rng(32);
  const [c, h, w, nOut] = [3, 2, 2, 4];
  const W = randArray(r, nOut * c * h * w);
  const feat = randArray(r, c * h * w); // [c, h, w]
  const K = fromTorchLinearWeight(W, [nOut, c * h * w], { flattenedFrom: [c, h, w] });
  const hwc = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) {
    for (let p = 0; p < h * w; p++) hwc[p * c + ch] = feat[ch * h * w + p]!;
  }
  for (let o = 0; o < nOut; o++) {
    let torch = 0, ours = 0;
    for (let i = 0; i < c * h * w; i++) torch += W[o * c * h * w + i]! * feat[i]!;
    for (let j = 0; j < c * h * w; j++) ours += K.data[j * nOut + o]! * hwc[j]!;
    assert.ok(Math.abs(torch - ours) < 1e-5);
  }
  assert.throws(
    () => fromTorchLinearWeight(W, [nOut, 12], { flattenedFrom: [2, 2, 2] }),
    /c·h·w = 12/,
  );
});

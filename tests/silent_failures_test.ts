/**
 * Each mistake that once passed silently, reproduced, now caught with a
 * typed error naming the argument (or made right).
 */
import assert from "node:assert/strict";
import {
  Adam,
  AvgPool2D,
  Conv2D,
  Dense,
  Flatten,
  fromTorchLinearWeight,
  layerFromConfig,
  loadModel,
  MaxPool2D,
  ModelFormatError,
  mulberry32,
  ReLU,
  saveModel,
  Sequential,
  setBackend,
  SGD,
  softmaxCrossEntropy,
  tensor,
  trainStep,
} from "../mod.ts";
import { fromPixels } from "../worker/inputs.ts";
import { randArray, rng } from "./_helpers.ts";

const tiny = (seed = 1) =>
  new Sequential(
    [new Conv2D({ filters: 2, kernelSize: 3 }), new Flatten(), new Dense({ units: 3 })],
    [5, 5, 1],
    { seed },
  );

Deno.test("1. a layer object reused in a second model is refused, and the first model keeps working", () => {
  const conv = new Conv2D({ filters: 2, kernelSize: 3 });
  const dense = new Dense({ units: 3 });
  const first = new Sequential([conv, new Flatten(), dense], [5, 5, 1], { seed: 1 });
  const x = tensor(randArray(rng(1), 2 * 25), [2, 5, 5, 1]);
  const before = first.predict(x).data.slice();
  const weights = first.params().map((p) => p.value.slice());
  assert.throws(
    () => new Sequential([conv, new Flatten(), new Dense({ units: 3 })], [5, 5, 1]),
    (e: Error) =>
      e instanceof RangeError &&
      /Sequential: layers\[0\] \(Conv2D "conv2d_1"\) already belongs to another model/.test(
        e.message,
      ),
  );
  // Also with a different input shape that would have re-built it.
  assert.throws(() => new Sequential([new Flatten(), dense], [7]), /layers\[1\].*another model/);
  assert.deepEqual(first.params().map((p) => p.value), weights);
  assert.deepEqual(first.predict(x).data, before);
  // The same object twice in one model is refused too.
  const relu = new ReLU();
  assert.throws(
    () => new Sequential([relu, relu], [3]),
    /layers\[1\].*already belongs to this model/,
  );
  // A construction that failed on shapes does not claim its layers.
  const d = new Dense({ units: 2 });
  assert.throws(() => new Sequential([d], [2, 2]), /add a Flatten/);
  assert.equal(new Sequential([d], [4]).outputShape[0], 2);
});

Deno.test("2. saveModel refuses metadata that is not strings, and reserved keys; never writes an unloadable file", () => {
  const model = tiny();
  assert.throws(
    () => saveModel(model, { a: 1 } as unknown as Record<string, string>),
    (e: Error) =>
      e instanceof TypeError &&
      e.message === 'saveModel: metadata["a"] must be a string (write String(value)), got 1',
  );
  (model.metadata as Record<string, unknown>)["acc"] = 0.98;
  assert.throws(() => saveModel(model), /saveModel: model.metadata\["acc"\] must be a string/);
  model.metadata["acc"] = "0.98";
  assert.throws(
    () => saveModel(model, { architecture: "x" }),
    (e: Error) =>
      e instanceof RangeError && /metadata\["architecture"\] is reserved/.test(e.message),
  );
  assert.throws(() => saveModel(model, null as never), TypeError);
  assert.throws(() => saveModel({} as never), /saveModel: model must be a Model or Sequential/);
  const copy = loadModel(saveModel(model, { note: "n" }));
  assert.deepEqual(copy.metadata, { acc: "0.98", note: "n" });
  // A loaded model saves again (format and architecture are not carried in metadata).
  assert.deepEqual(loadModel(saveModel(copy)).metadata, { acc: "0.98", note: "n" });
});

Deno.test("3. an optimiser's lr made NaN or negative after construction throws at step; the weights stay", () => {
  for (const make of [() => new SGD({ lr: 0.1, momentum: 0.9 }), () => new Adam({ lr: 0.01 })]) {
    for (const bad of [NaN, -1, 0, Infinity]) {
      const model = tiny();
      const opt = make();
      const x = tensor(randArray(rng(2), 2 * 25), [2, 5, 5, 1]);
      trainStep(model, x, [0, 1], opt);
      const before = model.params().map((p) => p.value.slice());
      opt.lr = bad;
      assert.throws(
        () => trainStep(model, x, [0, 1], opt),
        (e: Error) =>
          e instanceof RangeError &&
          /\.step: this\.lr must be a number in \(0, Infinity\)/.test(e.message),
        `lr ${bad}`,
      );
      assert.deepEqual(model.params().map((p) => p.value), before, `lr ${bad}`);
    }
    const opt = make();
    opt.lr = "0.1" as unknown as number;
    assert.throws(() => opt.step([]), TypeError);
  }
  const sgd = new SGD({ lr: 0.1 });
  (sgd as unknown as { momentum: number }).momentum = 1;
  assert.throws(() => sgd.step([]), /SGD.step: this.momentum must be a number in \[0, 1\)/);
});

Deno.test("4. softmaxCrossEntropy never counts a NaN row as correct", () => {
  const r = softmaxCrossEntropy(tensor([NaN, 0, 0, 1, 0, 0], [2, 3]), [0, 0]);
  assert.equal(r.correct, 1); // the second row only
  assert.ok(Number.isNaN(r.loss));
  const all = softmaxCrossEntropy(tensor([NaN, NaN, 0, Infinity], [2, 2]), [0, 1]);
  assert.equal(all.correct, 0);
});

Deno.test("5. fromTorchLinearWeight refuses flattenedFrom with negative, fractional or wrong dims", () => {
  const data = new Float32Array(12);
  for (const bad of [[-2, -3, 1], [1.5, 4, 1], [0, 6, 1], [2, 3]]) {
    assert.throws(
      () => fromTorchLinearWeight(data, [2, 6], { flattenedFrom: bad as never }),
      (e: Error) => e instanceof RangeError && e.message.includes("options.flattenedFrom"),
      JSON.stringify(bad),
    );
  }
  assert.throws(
    () => fromTorchLinearWeight(data, [2, 6], { flattenedFrom: [2, 2, 2] }),
    /c·h·w = 6/,
  );
  assert.throws(
    () => fromTorchLinearWeight(data, [2, 6], { flattenedFrom: "2,3,1" as never }),
    TypeError,
  );
  assert.equal(fromTorchLinearWeight(data, [2, 6], { flattenedFrom: [3, 2, 1] }).data.length, 12);
});

Deno.test("6. seeds must be integers in [0, 2^32): nothing is coerced", () => {
  for (const bad of [NaN, 2 ** 32, 1.7, -1, Infinity]) {
    assert.throws(() => mulberry32(bad), RangeError, String(bad));
    assert.throws(
      () => tiny(bad),
      (e: Error) =>
        e instanceof RangeError &&
        e.message.includes(`options.seed must be an integer in [0, 2^32), got ${bad}`),
    );
  }
  assert.throws(() => mulberry32("abc" as never), TypeError);
  assert.throws(() => tiny("7" as never), /options.seed must be .*, got "7"/);
  assert.equal(mulberry32(2 ** 32 - 1)(), mulberry32(2 ** 32 - 1)());
});

Deno.test("7. layer.backward(dOut) with one argument returns the input gradient", () => {
  const layers = [
    new Conv2D({ filters: 2, kernelSize: 3, padding: "same" }),
    new MaxPool2D(),
    new AvgPool2D(),
    new ReLU(),
    new Flatten(),
    new Dense({ units: 3 }),
  ];
  new Sequential(layers, [4, 4, 1]);
  let x = tensor(randArray(rng(3), 4 * 16), [4, 4, 4, 1]);
  for (const l of layers) {
    const y = l.forward(x);
    const dx = l.backward(tensor(new Float32Array(y.data.length).fill(1), y.shape));
    assert.ok(dx !== null, l.kind);
    assert.deepEqual([...dx.shape], [...x.shape], l.kind);
    assert.equal(l.backward(tensor(new Float32Array(y.data.length), y.shape), false), null);
    x = y;
  }
});

Deno.test("8. Infinity in JSON pixels and in shapes is reported as Infinity, not null", () => {
  const pixels = new Array(784).fill(0);
  pixels[5] = JSON.parse("1e999");
  assert.throws(
    () => fromPixels(pixels, [28, 28, 1]),
    /pixels\[5\] must be a finite number, got Infinity/,
  );
  assert.throws(
    () => tensor([1], [Infinity]),
    /shape\[0\] must be a non-negative integer, got Infinity/,
  );
  assert.throws(
    () => new Sequential([new ReLU()], [Infinity]),
    /inputShape\[0\] must be a positive integer, got Infinity/,
  );
  // A model file whose tensor shape holds 1e999.
  const good = saveModel(tiny());
  const n = Number(new DataView(good.buffer).getBigUint64(0, true));
  const header = new TextDecoder().decode(good.subarray(8, 8 + n));
  const patched = header.replace('"shape":[3,3,1,2]', '"shape":[1e999,3,1,2]');
  assert.notEqual(patched, header);
  const json = new TextEncoder().encode(patched.padEnd(Math.ceil(patched.length / 8) * 8));
  const bytes = new Uint8Array(8 + json.length + good.length - 8 - n);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  bytes.set(good.subarray(8 + n), 8 + json.length);
  assert.throws(
    () => loadModel(bytes),
    (e: Error) =>
      e instanceof ModelFormatError && /Infinity/.test(e.message) && !/null/.test(e.message),
  );
});

Deno.test("options of the wrong type throw TypeError; wrong values RangeError", () => {
  const cases: [() => unknown, ErrorConstructor][] = [
    [() => new Conv2D({ filters: "8", kernelSize: 3 } as never), TypeError],
    [() => new Conv2D({ filters: 8.5, kernelSize: 3 }), RangeError],
    [() => new Conv2D({ filters: 8, kernelSize: 3, padding: true } as never), TypeError],
    [() => new Conv2D({ filters: 8, kernelSize: 3, padding: "full" } as never), RangeError],
    [() => new Conv2D({ filters: 8, kernelSize: 3, activation: 1 } as never), TypeError],
    [() => new Conv2D({ filters: 8, kernelSize: 3, init: "zeros" } as never), RangeError],
    [() => new Conv2D({ filters: 8, kernelSize: 3, name: 5 } as never), TypeError],
    [() => new Conv2D(null as never), TypeError],
    [() => new Dense({ units: "10" } as never), TypeError],
    [() => new Dense({ units: 0 }), RangeError],
    [() => new MaxPool2D({ poolSize: "2" } as never), TypeError],
    [() => new AvgPool2D({ stride: 0 }), RangeError],
    [() => new ReLU({ name: [] } as never), TypeError],
    [() => new SGD({ lr: "0.1" } as never), TypeError],
    [() => new SGD({ lr: -0.1 }), RangeError],
    [() => new Adam({ beta2: "0.9" } as never), TypeError],
    [() => new Sequential("layers" as never, [1]), TypeError],
    [() => new Sequential([], [1]), RangeError],
    [() => new Sequential([new ReLU()], "3" as never), TypeError],
    [() => new Sequential([new ReLU()], [3], { maxParameters: -1 }), RangeError],
    [() => setBackend(3 as never), TypeError],
    [() => setBackend("gpu" as never), RangeError],
    [() => loadModel("bytes" as never), TypeError],
    [() => loadModel(new ArrayBuffer(8) as never), TypeError],
    [() => layerFromConfig({ kind: "Dense", name: "d", units: "3" } as never), TypeError],
  ];
  for (const [f, Kind] of cases) {
    assert.throws(f, (e: Error) => e.constructor === Kind, f.toString());
  }
});

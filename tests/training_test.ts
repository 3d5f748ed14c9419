/**
 * fit, evaluate, batched predict, getWeights/setWeights.
 */
import assert from "node:assert/strict";
import {
  Adam,
  Conv2D,
  Dense,
  evaluate,
  fit,
  Flatten,
  getBackend,
  KernelMemoryError,
  loadModel,
  MaxPool2D,
  Sequential,
  SGD,
  tensor,
  TrainingDivergedError,
} from "../mod.ts";
import { blobs, rng } from "./_helpers.ts";

/** The toy problem of `_helpers.ts`, from a seed. */
const blobsOf = (n: number, seed: number) => blobs(n, rng(seed));

const net = (seed = 1) =>
  new Sequential(
    [
      new Conv2D({ filters: 4, kernelSize: 3, padding: "same", activation: "relu" }),
      new MaxPool2D(),
      new Flatten(),
      new Dense({ units: 3 }),
    ],
    [8, 8, 1],
    { seed },
  );

Deno.test("fit learns a toy problem: history, callbacks, validation, partial last batch", () => {
  const model = net();
  const train = blobsOf(50, 1), val = blobsOf(30, 2);
  const batches: number[] = [], sizes: number[] = [], epochsSeen: number[] = [];
  const history = fit(model, train, {
    epochs: 8,
    batchSize: 16,
    optimizer: new Adam({ lr: 0.02 }),
    validation: val,
    augment: (x) => {
      sizes.push(x.shape[0]!);
      return x;
    },
    onBatch: (e) => {
      batches.push(e.batch);
      assert.equal(e.batches, 4);
      assert.ok(Number.isFinite(e.loss) && e.samplesPerSecond > 0 && e.secondsLeft >= 0);
    },
    onEpoch: (log) => epochsSeen.push(log.epoch),
  });
  assert.equal(history.epochs.length, 8);
  assert.deepEqual(epochsSeen, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(batches.slice(0, 4), [1, 2, 3, 4]);
  assert.deepEqual(sizes.slice(0, 4), [16, 16, 16, 2]); // the last batch holds the rest
  const first = history.epochs[0]!, last = history.epochs.at(-1)!;
  assert.ok(last.loss < first.loss / 3, `loss ${first.loss} → ${last.loss}`);
  assert.ok(last.validation!.accuracy >= 0.9, JSON.stringify(last));
  assert.equal(last.lr, 0.02);
  const e = evaluate(model, val);
  assert.equal(e.accuracy, last.validation!.accuracy);
  assert.equal(e.loss, last.validation!.loss);
});

Deno.test("fit is deterministic for a shuffle seed; another seed, or no shuffle, differs", () => {
  const data = blobsOf(40, 3);
  const run = (shuffle: number | false) => {
    const model = net(5);
    fit(model, data, { epochs: 2, batchSize: 8, optimizer: new SGD({ lr: 0.1 }), shuffle });
    return model.params().map((p) => p.value);
  };
  const a = run(7);
  assert.deepEqual(run(7), a);
  assert.notDeepEqual(run(8), a);
  assert.notDeepEqual(run(false), a);
});

Deno.test("fit with shuffle: false keeps the data's order", () => {
  const data = blobsOf(6, 4);
  const seen: number[] = [];
  fit(net(), data, {
    batchSize: 4,
    shuffle: false,
    augment: (x) => {
      for (let i = 0; i < x.shape[0]!; i++) {
        seen.push(x.data.subarray(i * 64, i * 64 + 64).findIndex((v) => v === 1));
      }
      return x;
    },
  });
  const want = Array.from(
    { length: 6 },
    (_, i) => data.x.data.subarray(i * 64, i * 64 + 64).findIndex((v) => v === 1),
  );
  assert.deepEqual(seen, want);
});

Deno.test("fit stops with TrainingDivergedError at a NaN loss, without applying that step", () => {
  const data = blobsOf(8, 5);
  const model = net();
  let afterFirst: Float32Array[] = [];
  assert.throws(
    () =>
      fit(model, data, {
        batchSize: 2,
        onBatch: (e) => {
          if (e.batch !== 1) return;
          model.params()[2]!.value[0] = NaN; // a dense weight goes bad: batch 2's loss is NaN
          afterFirst = model.params().map((p) => p.value.slice());
        },
      }),
    (e: Error) =>
      e instanceof TrainingDivergedError && e.epoch === 1 && e.batch === 2 &&
      /loss became NaN at epoch 1, batch 2/.test(e.message),
  );
  assert.deepEqual(model.params().map((p) => p.value), afterFirst);
});

Deno.test("fit and evaluate check every argument first, naming it", () => {
  const model = net(), data = blobsOf(4, 6);
  const before = model.params().map((p) => p.value.slice());
  const bad: [() => unknown, ErrorConstructor, RegExp][] = [
    [
      () => fit(model, { x: data.x, labels: [0, 1, 2, 3] }),
      RangeError,
      /data.labels\[3\] must be an integer in \[0, 3\), got 3/,
    ],
    [() => fit(model, { x: data.x, labels: [0, 1, 2, 1.5] }), RangeError, /data.labels\[3\]/],
    [
      () => fit(model, { x: data.x, labels: [0, 1, 2, "1"] as never }),
      TypeError,
      /data.labels\[3\]/,
    ],
    [
      () => fit(model, { x: data.x, labels: [0, 1] }),
      RangeError,
      /one label per sample \(4\), got 2/,
    ],
    [
      () => fit(model, { x: tensor(new Float32Array(49), [1, 7, 7, 1]), labels: [0] }),
      RangeError,
      /data.x.shape must be \[m, 8, 8, 1\]/,
    ],
    [() => fit(model, data, { epochs: 0 }), RangeError, /options.epochs/],
    [() => fit(model, data, { batchSize: "8" as never }), TypeError, /options.batchSize/],
    [() => fit(model, data, { optimizer: {} as never }), TypeError, /options.optimizer/],
    [() => fit(model, data, { shuffle: 1.5 }), RangeError, /options.shuffle/],
    [
      () => fit(model, data, { onBatch: "log" as never }),
      TypeError,
      /options.onBatch must be a function/,
    ],
    [
      () => fit(model, data, { validation: { x: data.x, labels: [9, 9, 9, 9] } }),
      RangeError,
      /options.validation.labels\[0\]/,
    ],
    [() => fit(model, null as never), TypeError, /fit: data must be an object/],
    [() => evaluate(model, data, { batchSize: 0 }), RangeError, /evaluate: options.batchSize/],
    [
      () => evaluate(model, { x: data.x, labels: [5, 0, 0, 0] }),
      RangeError,
      /evaluate: data.labels\[0\]/,
    ],
    [
      // A [4, 4, 1] output is per-pixel scores: it needs one label per pixel.
      () => evaluate(new Sequential([new MaxPool2D()], [8, 8, 1]), data),
      RangeError,
      /labels must hold one label per pixel/,
    ],
  ];
  for (const [f, Kind, re] of bad) {
    assert.throws(f, (e: Error) => e.constructor === Kind && re.test(e.message), f.toString());
  }
  assert.deepEqual(model.params().map((p) => p.value), before);
});

Deno.test("evaluate: loss, accuracy and confusion matrix, the same for any batch size", () => {
  const model = new Sequential([new Dense({ units: 2, name: "d" })], [2]);
  model.setWeights({ "d.kernel": tensor([1, 0, 0, 1], [2, 2]), "d.bias": tensor([0, 0], [2]) });
  const data = { x: tensor([1, 0, 0, 1, 1, 0, 0, 2], [4, 2]), labels: [0, 1, 1, 0] };
  const e = evaluate(model, data);
  assert.deepEqual(e.confusion, [[1, 1], [1, 1]]);
  assert.equal(e.accuracy, 0.5);
  assert.equal(e.correct, 2);
  assert.equal(e.count, 4);
  const l1 = Math.log(1 + Math.exp(-1)),
    l2 = Math.log(1 + Math.exp(1)),
    l3 = Math.log(1 + Math.exp(2));
  assert.ok(Math.abs(e.loss - (l1 + l1 + l2 + l3) / 4) < 1e-6, String(e.loss));
  for (const batchSize of [1, 3]) {
    assert.deepEqual(evaluate(model, data, { batchSize }).confusion, e.confusion);
  }
  model.setWeights({ "d.bias": tensor([0, 0], [2]) });
  model.params()[0]!.value[0] = NaN;
  assert.throws(() => evaluate(model, data), /evaluate: the model's output for sample 0 holds NaN/);
});

Deno.test("predict splits large inputs: 5,000 MNIST-sized images, equal to per-slice forward", async () => {
  const model = loadModel(
    await Deno.readFile(new URL("../models/mnist.safetensors", import.meta.url)),
  );
  const n = 5000, r = rng(8);
  const x = tensor(Float32Array.from({ length: n * 784 }, () => (r() < 0.2 ? r() : 0)), [
    n,
    28,
    28,
    1,
  ]);
  if (getBackend() !== "js") {
    // What predict used to do: one forward pass over everything exceeds the kernel memory.
    assert.throws(() => model.forward(x), KernelMemoryError);
  }
  const y = model.predict(x);
  assert.deepEqual([...y.shape], [n, 10]);
  const slice = tensor(x.data.slice(4100 * 784, 4200 * 784), [100, 28, 28, 1]);
  assert.deepEqual(y.data.subarray(4100 * 10, 4200 * 10), model.forward(slice).data);
  assert.deepEqual(model.predict(slice, { batchSize: 7 }).data, model.forward(slice).data);
  assert.throws(
    () => model.predict(slice, { batchSize: 0 }),
    /predict: options.batchSize must be a positive integer/,
  );
});

Deno.test("getWeights copies; setWeights checks everything before changing anything", () => {
  const model = net();
  const w = model.getWeights();
  assert.deepEqual(Object.keys(w), [
    "conv2d_1.kernel",
    "conv2d_1.bias",
    "dense_1.kernel",
    "dense_1.bias",
  ]);
  assert.deepEqual(w["conv2d_1.kernel"]!.shape, [3, 3, 1, 4]);
  w["conv2d_1.bias"]!.data[0] = 42; // a copy: the model is unchanged
  assert.equal(model.params()[1]!.value[0], 0);
  const other = net(9);
  other.setWeights(model.getWeights());
  assert.deepEqual(other.params().map((p) => p.value), model.params().map((p) => p.value));
  const before = other.params().map((p) => p.value.slice());
  const good = tensor(new Float32Array(4).fill(1), [4]);
  for (
    const [bad, re] of [
      [{ "conv2d_1.bias": good, "nope.kernel": good }, /"nope.kernel", which is not a parameter/],
      [
        { "conv2d_1.bias": good, "dense_1.bias": tensor([1, 2], [2]) },
        /weights\["dense_1.bias"\].shape must be \[3\], got \[2\]/,
      ],
      [
        { "conv2d_1.bias": tensor([1, NaN, 1, 1], [4]) },
        /weights\["conv2d_1.bias"\].data\[1\] must be a finite number, got NaN/,
      ],
      [{ "conv2d_1.bias": { shape: [4], data: [1, 1, 1, 1] } }, /data must be a Float32Array/],
    ] as const
  ) {
    assert.throws(() => other.setWeights(bad as never), re);
    assert.deepEqual(other.params().map((p) => p.value), before);
  }
});

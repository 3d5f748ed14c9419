/** Layers, models and optimisers: finite-difference gradient checks and behaviour. */
import assert from "node:assert/strict";
import {
  Adam,
  availableBackends,
  AvgPool2D,
  Conv2D,
  Conv2DTranspose,
  Dense,
  DepthwiseConv2D,
  Flatten,
  GlobalAvgPool2D,
  GlobalMaxPool2D,
  type Layer,
  loadModel,
  MaxPool2D,
  ReLU,
  saveModel,
  Sequential,
  SGD,
  softmax,
  softmaxCrossEntropy,
  type Tensor,
  tensor,
  trainStep,
  zeroGrad,
} from "../mod.ts";
import {
  assertClose,
  assertGradient,
  blobs,
  dot,
  randArray,
  rng,
  withBackend,
} from "./_helpers.ts";

const EPS = 1e-2;

/** Checks input and parameter gradients of one layer inside a one-layer model. */
function checkLayer(
  layer: Layer,
  inputShape: number[],
  seed: number,
  xs?: Float32Array,
  eps = EPS,
) {
  const model = new Sequential([layer], inputShape, { seed });
  const r = rng(seed);
  const m = 2;
  const x = tensor(xs ?? randArray(r, m * inputShape.reduce((p, v) => p * v, 1)), [
    m,
    ...inputShape,
  ]);
  const y = layer.forward(x);
  const g = randArray(r, y.data.length);
  zeroGrad(model.params());
  const dx = layer.backward({ shape: y.shape, data: g }, true)!;
  const loss = () => dot(layer.forward(x).data, g);
  assertGradient(x.data, dx.data, loss, `${layer.kind} input`, { tol: 3e-3, eps });
  for (const p of layer.params()) {
    assertGradient(p.value, p.grad.slice(), loss, `${layer.kind} ${p.name}`, { tol: 3e-3, eps });
  }
}

Deno.test("Conv2D gradients (stride 2, pad 1; and 'same')", () => {
  checkLayer(new Conv2D({ filters: 3, kernelSize: 3, stride: 2, padding: 1 }), [6, 5, 2], 1);
  checkLayer(new Conv2D({ filters: 2, kernelSize: 5, padding: "same" }), [5, 5, 3], 2);
});

Deno.test("Dense gradients", () => checkLayer(new Dense({ units: 4 }), [7], 3));

Deno.test("fused-ReLU Conv2D and Dense gradients", () => {
  // Finite differences are wrong across the kink at 0, so use the first seed (from 100 up) whose
  // pre-activations all stay 0.02 away from it; a step of 1e-3 then cannot cross it.
  const clearOfKink = (make: () => Layer, shape: number[]) => {
    for (let seed = 100;; seed++) {
      const linear = make();
      new Sequential([linear], shape, { seed });
      const x = randArray(rng(seed), 2 * shape.reduce((p, v) => p * v, 1));
      const z = linear.forward(tensor(x.slice(), [2, ...shape])).data;
      if (z.every((v) => Math.abs(v) > 0.02)) return { seed, x };
    }
  };
  const cases: [(a: "relu" | "linear") => Layer, number[]][] = [
    [(activation) => new Conv2D({ filters: 3, kernelSize: 3, padding: 1, activation }), [4, 3, 2]],
    [(activation) => new Dense({ units: 5, activation, init: "he" }), [6]],
  ];
  for (const [make, shape] of cases) {
    const { seed, x } = clearOfKink(() => make("linear"), shape);
    checkLayer(make("relu"), shape, seed, x, 1e-3);
  }
  assert.throws(
    () => new Conv2D({ filters: 1, kernelSize: 1, activation: "tanh" as "relu" }),
    /options.activation must be one of "relu", "relu6", "linear", got "tanh"/,
  );
});

Deno.test("a fused ReLU outputs max(0, ·) of the same layer without it", () => {
  const r = rng(15);
  const cases: [(a: "relu" | "linear") => Layer, number[]][] = [
    [(activation) => new Conv2D({ filters: 4, kernelSize: 3, padding: "same", activation }), [
      5,
      5,
      2,
    ]],
    [(activation) => new Dense({ units: 7, activation }), [9]],
  ];
  for (const [make, shape] of cases) {
    const linear = make("linear"), relu = make("relu");
    new Sequential([linear], shape, { seed: 3 });
    new Sequential([relu], shape, { seed: 3 });
    const x = tensor(randArray(r, 3 * shape.reduce((p, v) => p * v, 1)), [3, ...shape]);
    const z = linear.forward(x).data, y = relu.forward(x).data;
    assert.ok(z.some((v) => v < 0) && z.some((v) => v > 0), "the check needs both signs");
    assert.deepEqual(y, z.map((v) => (v > 0 ? v : 0)), relu.kind);
  }
});

Deno.test("a fused ReLU6 outputs min(max(0, ·), 6) of the same layer without it, on every backend", () => {
  const r = rng(16);
  type Act = "relu6" | "linear";
  const cases: [(a: Act) => Layer, number[]][] = [
    [(activation) => new Conv2D({ filters: 11, kernelSize: 3, padding: "same", activation }), [
      5,
      6,
      3,
    ]],
    // 21 channels: the depthwise kernel's 16-, 4- and 1-channel loops all run.
    [(activation) => new DepthwiseConv2D({ kernelSize: 3, padding: 1, activation }), [4, 5, 21]],
    [(activation) => new Conv2DTranspose({ filters: 5, kernelSize: 2, stride: 2, activation }), [
      3,
      3,
      4,
    ]],
    [(activation) => new Dense({ units: 13, activation }), [9]],
  ];
  for (const b of availableBackends()) {
    withBackend(b, () => {
      for (const [make, shape] of cases) {
        const linear = make("linear"), six = make("relu6");
        new Sequential([linear], shape, { seed: 3 });
        new Sequential([six], shape, { seed: 3 });
        const x = tensor(randArray(r, 3 * shape.reduce((p, v) => p * v, 1), -12, 12), [
          3,
          ...shape,
        ]);
        const z = linear.forward(x).data, y = six.forward(x).data;
        assert.ok(
          z.some((v) => v < 0) && z.some((v) => v > 6),
          `${six.kind}: the check needs both bounds`,
        );
        assertClose(y, z.map((v) => Math.min(Math.max(v, 0), 6)), 1e-6, `${b} ${six.kind}`);
        assert.ok(y.every((v) => v >= 0 && v <= 6), `${b} ${six.kind}: out of [0, 6]`);
        // The gradient passes only where 0 < y < 6: the same as the linear layer's with that mask.
        const outShape = six.forward(x).shape;
        const ones = tensor(new Float32Array(y.length).fill(1), outShape);
        const mask = tensor(Float32Array.from(y, (v) => (v > 0 && v < 6 ? 1 : 0)), outShape);
        assertClose(
          six.backward(ones)!.data,
          linear.backward(mask)!.data,
          1e-5,
          `${b} ${six.kind} gradient`,
        );
      }
    });
  }
});

Deno.test("pooling, ReLU and Flatten gradients", () => {
  // Distinct values far apart so ±ε never changes which element is the maximum or crosses 0.
  const distinct = (n: number, r: () => number) => {
    const v = Array.from({ length: n }, (_, i) => (i - n / 2 + 0.5) * 0.1);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [v[i], v[j]] = [v[j]!, v[i]!];
    }
    return Float32Array.from(v);
  };
  const r = rng(4);
  checkLayer(new MaxPool2D({ poolSize: 3, stride: 2 }), [7, 6, 2], 4, distinct(2 * 7 * 6 * 2, r));
  checkLayer(new AvgPool2D({ poolSize: 2, stride: 1 }), [4, 5, 3], 5);
  checkLayer(new ReLU(), [3, 4], 6, distinct(2 * 12, r));
  checkLayer(new Flatten(), [2, 3, 2], 7);
});

Deno.test("softmaxCrossEntropy: value, gradient and counting", () => {
  const logits = tensor([2, 0, 0, 2, 1, 1], [3, 2]);
  const { loss, dLogits, probs, correct } = softmaxCrossEntropy(logits, [0, 1, 1]);
  // Rows 1 and 2: p(label) = e²/(e²+1); row 3: 1/2. Loss = mean of -log p.
  const p = Math.exp(2) / (Math.exp(2) + 1);
  assert.ok(Math.abs(loss - (-2 * Math.log(p) - Math.log(0.5)) / 3) < 1e-6);
  assert.equal(correct, 2); // the tie in row 3 goes to class 0
  // Row 1's gradient: (p - onehot) / m = ((p - 1) / 3, (1 - p) / 3).
  assert.ok(
    Math.abs(dLogits.data[0]! - (p - 1) / 3) < 1e-6 &&
      Math.abs(dLogits.data[1]! - (1 - p) / 3) < 1e-6,
  );
  assert.ok(Math.abs(probs.data[0]! - p) < 1e-6);
  const r = rng(8);
  const z = tensor(randArray(r, 4 * 5, -3, 3), [4, 5]);
  const labels = [0, 4, 2, 2];
  const g = softmaxCrossEntropy(z, labels).dLogits.data;
  assertGradient(z.data, g, () => softmaxCrossEntropy(z, labels).loss, "softmax cross-entropy", {
    tol: 1e-2,
  });
  assert.throws(
    () => softmaxCrossEntropy(z, [0, 1, 2]),
    /labels must have one entry per row \(4\)/,
  );
  assert.throws(
    () => softmaxCrossEntropy(z, [0, 1, 2, 5]),
    /labels\[3\] must be an integer in \[0, 5\)/,
  );
  const big = softmax(tensor([1000, 0], [1, 2])).data;
  assert.deepEqual([...big], [1, 0]);
});

function smallModel(seed: number): Sequential {
  return new Sequential(
    [
      new Conv2D({ filters: 3, kernelSize: 3, padding: "same" }),
      new ReLU(),
      new MaxPool2D({ poolSize: 2 }),
      new Conv2D({ filters: 4, kernelSize: 2, stride: 1 }),
      new ReLU(),
      new AvgPool2D({ poolSize: 2, stride: 1 }),
      new Flatten(),
      new Dense({ units: 3 }),
    ],
    [8, 8, 1],
    { seed },
  );
}

Deno.test("a whole model's parameter gradients agree with finite differences of the loss", () => {
  const model = smallModel(11);
  const r = rng(12);
  const x = tensor(randArray(r, 3 * 64, 0, 1), [3, 8, 8, 1]);
  const labels = [0, 2, 1];
  const loss = () => softmaxCrossEntropy(model.forward(x), labels).loss;
  const { dLogits } = softmaxCrossEntropy(model.forward(x), labels);
  zeroGrad(model.params());
  model.backward(dLogits);
  // Max-pool and ReLU kinks make a few entries non-differentiable at ±ε; tolerate 5% relative.
  for (const p of model.params()) {
    assertGradient(p.value, p.grad.slice(), loss, `model ${p.name}`, { tol: 5e-2 });
  }
});

Deno.test("Sequential names layers, checks shapes at construction and reports a summary", () => {
  const model = smallModel(1);
  assert.deepEqual(model.layers.map((l) => l.name), [
    "conv2d_1",
    "relu_1",
    "maxpool2d_1",
    "conv2d_2",
    "relu_2",
    "avgpool2d_1",
    "flatten_1",
    "dense_1",
  ]);
  assert.deepEqual(model.outputShape, [3]);
  assert.equal(model.parameterCount, (9 * 3 + 3) + (4 * 3 * 4 + 4) + (2 * 2 * 4 * 3 + 3));
  assert.match(model.summary(), /conv2d_2\s+Conv2D\s+\[3, 3, 4\]\s+52/);
  assert.throws(
    () =>
      new Sequential([new Conv2D({ filters: 2, kernelSize: 3 }), new Dense({ units: 2 })], [
        5,
        5,
        1,
      ]),
    /layer 1 \(Dense "dense_1"\) cannot take input \[3, 3, 2\].*add a Flatten layer/,
  );
  assert.throws(
    () => new Sequential([new MaxPool2D({ poolSize: 4 })], [3, 3, 1]),
    /layer 0 \(MaxPool2D "maxpool2d_1"\).*options.poolSize = 4 must not exceed the input's height 3 and width 3/,
  );
  assert.throws(
    () => new Sequential([new ReLU({ name: "a" }), new ReLU({ name: "a" })], [2]),
    /two layers are named "a"/,
  );
  // "same" with an even kernel pads asymmetrically (the extra zero at the bottom and right).
  assert.deepEqual(
    new Sequential([new Conv2D({ filters: 2, kernelSize: 4, padding: "same" })], [5, 5, 1])
      .outputShape,
    [5, 5, 2],
  );
  assert.throws(
    () => new Dense({ units: 0 }),
    /Dense: options.units must be a positive integer, got 0/,
  );
});

Deno.test("predict with a wrong shape and backward before forward are clear errors", () => {
  const model = smallModel(1);
  assert.throws(
    () => model.predict(tensor(new Float32Array(2 * 49), [2, 7, 7, 1])),
    /Sequential.predict: x must have shape \[m, 8, 8, 1\].*got \[2, 7, 7, 1\]/,
  );
  const fresh = smallModel(2);
  assert.throws(
    () => fresh.backward(tensor(new Float32Array(3), [1, 3])),
    (e: Error) =>
      e instanceof RangeError &&
      /Sequential.backward: backward was called before forward/.test(e.message),
  );
  const conv = new Conv2D({ filters: 1, kernelSize: 1 });
  assert.throws(
    () => conv.forward(tensor(new Float32Array(1), [1, 1, 1, 1])),
    (e: Error) => e instanceof RangeError && /used before build/.test(e.message),
  );
  const relu = new ReLU();
  assert.throws(
    () => relu.backward(tensor(new Float32Array(1), [1, 1])),
    (e: Error) =>
      e instanceof RangeError && /ReLU "": backward was called before forward/.test(e.message),
  );
});

Deno.test("the same seed gives bit-identical weights and training; another seed differs", () => {
  const run = (seed: number) => {
    const model = smallModel(seed);
    const opt = new Adam({ lr: 0.01 });
    const r = rng(99);
    for (let s = 0; s < 5; s++) {
      trainStep(model, tensor(randArray(r, 4 * 64, 0, 1), [4, 8, 8, 1]), [0, 1, 2, 1], opt);
    }
    return model.params().map((p) => p.value.slice());
  };
  const a = run(3), b = run(3), c = run(4);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

Deno.test("training reduces the loss on a learnable toy problem", () => {
  // Class = which of three places of an 8×8 image holds a bright 2×2 blob.
  const r = rng(21);
  const make = (n: number) => blobs(n, r);
  const model = smallModel(5);
  const opt = new Adam({ lr: 0.02 });
  // Images and labels from one call, so that they belong together.
  const b0 = make(16);
  const first = trainStep(model, b0.x, b0.labels, opt).loss;
  let last = first;
  for (let s = 0; s < 60; s++) {
    const b = make(16);
    last = trainStep(model, b.x, b.labels, opt).loss;
  }
  assert.ok(last < first / 4, `loss went from ${first} to ${last}`);
});

Deno.test("SGD with momentum and Adam update as their formulas say", () => {
  const p = {
    name: "w",
    shape: [2],
    value: new Float32Array([1, -1]),
    grad: new Float32Array([0.5, -2]),
  };
  const sgd = new SGD({ lr: 0.1, momentum: 0.9 });
  sgd.step([p]);
  // v = -0.1·g; w += v.
  assert.deepEqual([...p.value].map((v) => +v.toFixed(6)), [0.95, -0.8]);
  sgd.step([p]);
  // v = 0.9·v - 0.1·g = 1.9·(-0.1·g).
  assert.deepEqual([...p.value].map((v) => +v.toFixed(6)), [0.855, -0.42]);
  const q = {
    name: "w",
    shape: [2],
    value: new Float32Array([1, -1]),
    grad: new Float32Array([0.5, -2]),
  };
  new Adam({ lr: 0.1 }).step([q]);
  // After one bias-corrected step, Adam moves each weight by lr·sign(g) (up to ε).
  assert.deepEqual([...q.value].map((v) => +v.toFixed(5)), [0.9, -0.9]);
  assert.throws(
    () => new SGD({ lr: 0 }),
    /SGD: options.lr must be a number in \(0, Infinity\), got 0/,
  );
  assert.throws(() => new Adam({ beta1: 1 }), /Adam: options.beta1 must be a number in \[0, 1\)/);
});

Deno.test("forwardAll returns every layer's output", () => {
  const model = smallModel(1);
  const outs: Tensor[] = model.forwardAll(tensor(new Float32Array(64), [1, 8, 8, 1]));
  assert.equal(outs.length, model.layers.length);
  assert.deepEqual(outs[0]!.shape, [1, 8, 8, 3]);
  assert.deepEqual(outs.at(-1)!.shape, [1, 3]);
});

Deno.test("new layers' gradients: grouped and dilated Conv2D, DepthwiseConv2D, Conv2DTranspose, padded pools, global pools", () => {
  checkLayer(
    new Conv2D({
      filters: 4,
      kernelSize: [3, 2],
      stride: [1, 2],
      dilation: [2, 1],
      groups: 2,
      padding: [1, 0, 0, 1],
    }),
    [7, 6, 4],
    21,
  );
  checkLayer(
    new DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2, padding: "same", stride: 2 }),
    [6, 5, 3],
    22,
  );
  checkLayer(new Conv2DTranspose({ filters: 3, kernelSize: 2, stride: 2 }), [3, 4, 2], 23);
  checkLayer(
    new Conv2DTranspose({
      filters: 2,
      kernelSize: 3,
      stride: 2,
      padding: "same",
      outputPadding: 1,
    }),
    [3, 3, 2],
    24,
  );
  const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 37) % n) * 0.05);
  checkLayer(
    new MaxPool2D({ poolSize: 3, stride: 2, padding: 1, ceilMode: true }),
    [5, 6, 2],
    25,
    ramp(2 * 60),
  );
  checkLayer(
    new AvgPool2D({ poolSize: [2, 3], padding: "same", countIncludePad: true }),
    [5, 6, 2],
    26,
  );
  checkLayer(new GlobalAvgPool2D(), [4, 3, 5], 27);
  checkLayer(new GlobalMaxPool2D({ keepDims: true }), [4, 3, 5], 28, ramp(2 * 60));
});

Deno.test("new layers: shapes, and a model of them saves and loads to the same predictions", () => {
  const model = new Sequential(
    [
      new Conv2D({ filters: 8, kernelSize: 3, padding: "same", activation: "relu" }),
      new DepthwiseConv2D({ kernelSize: [3, 5], dilation: 2, padding: "same", activation: "relu" }),
      new Conv2D({ filters: 8, kernelSize: 1, groups: 4 }),
      new MaxPool2D({ poolSize: 3, stride: 2, padding: 1, ceilMode: true }),
      new Conv2DTranspose({ filters: 4, kernelSize: 2, stride: 2, activation: "relu" }),
      new AvgPool2D({ poolSize: 2, padding: [0, 1, 0, 1], countIncludePad: true }),
      new GlobalMaxPool2D({ keepDims: true }),
      new GlobalAvgPool2D(),
      new Dense({ units: 3 }),
    ],
    [9, 10, 2],
    { seed: 4 },
  );
  assert.deepEqual(model.layerSummary().map((l) => l.outputShape), [
    [9, 10, 8],
    [9, 10, 8],
    [9, 10, 8],
    [5, 6, 8], // ceil((10 + 2 − 3) / 2) + 1 = 6 columns, as PyTorch's ceil_mode
    [10, 12, 4],
    [5, 6, 4],
    [1, 1, 4],
    [4],
    [3],
  ]);
  const copy = loadModel(saveModel(model));
  assert.deepEqual(copy.config(), model.config());
  const x = tensor(randArray(rng(9), 3 * 180), [3, 9, 10, 2]);
  assert.deepEqual(copy.predict(x).data, model.predict(x).data);
  // The shipped model (saved before these options existed) still loads.
  assert.equal(
    loadModel(Deno.readFileSync(new URL("../models/mnist.safetensors", import.meta.url)))
      .outputShape[0],
    10,
  );
});

/**
 * Graph models, the new layers, BatchNorm and its folding, and the testing
 * module: finite differences through residual blocks, concatenations and
 * shared layers; shapes checked as the graph is built; save/load; ResNet-
 * and MobileNet-style models trained, saved, loaded and fused.
 */
import assert from "node:assert/strict";
import {
  Adam,
  Add,
  BatchNorm,
  Concatenate,
  Conv2D,
  Dense,
  DepthwiseConv2D,
  Dropout,
  fit,
  Flatten,
  fuse,
  GlobalAvgPool2D,
  HardSwish,
  Input,
  type Layer,
  LayerBase,
  type LayerConfig,
  LeakyReLU,
  loadModel,
  MaxPool2D,
  Model,
  Multiply,
  type Param,
  ReLU,
  ReLU6,
  type SampleShape,
  saveModel,
  Sequential,
  Sigmoid,
  Softmax,
  type SymbolicTensor,
  Tanh,
  type Tensor,
  tensor,
} from "../mod.ts";
import { assertTensorClose, checkGradients, GradientCheckError } from "../src/testing/mod.ts";
import { blobs, randArray, rng } from "./_helpers.ts";

const r = rng(42);
const rand = (shape: number[]) => tensor(randArray(r, shape.reduce((p, v) => p * v, 1)), shape);

Deno.test("every new layer's gradients agree with finite differences (checkGradients)", () => {
  for (
    const layer of [
      new LeakyReLU({ alpha: 0.1 }),
      new ReLU6(),
      new Sigmoid(),
      new Tanh(),
      new HardSwish(),
      new Softmax(),
    ]
  ) {
    // Inputs away from the kinks (0, ±3, 6) by more than the step.
    const x = tensor(Float32Array.from({ length: 24 }, (_, i) => -4.3 + i * 0.41), [2, 3, 4]);
    assert.ok(checkGradients(layer, x) < 3e-3, layer.kind);
  }
  assert.ok(checkGradients(new BatchNorm(), rand([3, 4, 4, 5]), { training: true }) < 3e-3);
  assert.ok(checkGradients(new BatchNorm(), rand([3, 6])) < 3e-3);
  assert.ok(checkGradients(new Dropout({ rate: 0.3 }), rand([2, 5])) < 3e-3); // inference: identity
});

Deno.test("graphs: finite differences through a residual block, a concatenation, a product and a shared layer", () => {
  const x = Input([5, 5, 3]);
  const conv = new Conv2D({ filters: 3, kernelSize: 3, padding: "same" });
  const h = conv.apply(x);
  const again = conv.apply(new Tanh().apply(h)); // the same weights, used twice
  const res = new Add().apply([x, again]);
  const gate = new Multiply().apply([h, new Sigmoid().apply(h)]);
  const y = new Concatenate().apply([res, gate]);
  const model = new Model({ inputs: x, outputs: y }, { seed: 3 });
  assert.equal(model.layers.filter((l) => l === conv).length, 1);
  assert.equal(model.params().length, 2); // the shared conv's kernel and bias, once
  assert.deepEqual(model.outputShape, [5, 5, 6]);
  assert.ok(checkGradients(model, rand([2, 5, 5, 3])) < 3e-3);
  // With BatchNorm in training mode inside a residual block:
  const x2 = Input([4, 4, 2]);
  const b = new BatchNorm().apply(
    new Conv2D({ filters: 2, kernelSize: 3, padding: "same" }).apply(x2),
  );
  const m2 = new Model({ inputs: x2, outputs: new Add().apply([x2, b]) });
  assert.ok(checkGradients(m2, rand([3, 4, 4, 2]), { training: true }) < 3e-3);
});

Deno.test("graphs: a wrong graph fails as it is built, naming the layer and both shapes", () => {
  const x = Input([6, 6, 3]);
  const a = new Conv2D({ filters: 4, kernelSize: 3 }).apply(x); // [4, 4, 4]
  assert.throws(
    () => new Add({ name: "skip" }).apply([x, a]),
    /Add "skip" cannot take \[6, 6, 3\] and \[4, 4, 4\].*needs shapes that broadcast.*input 1 is \[4, 4, 4\]/,
  );
  assert.throws(
    () => new Concatenate().apply([x, new Flatten().apply(x)]),
    /Concatenate.*\[6, 6, 3\].*\[108\]/,
  );
  assert.throws(
    () => new Dense({ units: 2 }).apply(x),
    /Dense cannot take \[6, 6, 3\].*add a Flatten/,
  );
  const shared = new Conv2D({ filters: 3, kernelSize: 1 });
  const s1 = shared.apply(x);
  const s2 = shared.apply(new MaxPool2D().apply(x)); // another shape
  assert.throws(
    () =>
      new Model({
        inputs: x,
        outputs: new Concatenate().apply([new Flatten().apply(s1), new Flatten().apply(s2)]),
      }),
    /conv2d_1" is shared, but takes \[\[6,6,3\]\] at one use and \[\[3,3,3\]\] at another/,
  );
  const other = Input([6, 6, 3]);
  assert.throws(
    () => new Model({ inputs: x, outputs: new ReLU().apply(other) }),
    /depends on an Input\(\[6, 6, 3\]\) that is not spec.inputs/,
  );
  assert.throws(() => new Model({ inputs: a, outputs: a }), /must come from Input/);
  assert.throws(() => new Add().apply([x]), /merges two or more inputs/);
  const bn = new BatchNorm();
  assert.throws(
    () => new Model({ inputs: x, outputs: new Add().apply([bn.apply(x), bn.apply(x)]) }),
    /BatchNorm.*is used 2 times.*cannot be shared/,
  );
  // A layer of a built model cannot join another graph.
  const m = new Sequential([new ReLU({ name: "r" })], [2]);
  assert.throws(
    () => (m.layers[0] as unknown as { apply(t: SymbolicTensor): unknown }).apply(Input([2])),
    /already belongs to a model/,
  );
});

Deno.test("graphs save and load (versioned graph format), predictions equal", () => {
  const x = Input([6, 6, 2]);
  const h = new Conv2D({ filters: 4, kernelSize: 3, padding: "same" }).apply(x);
  const b = new ReLU().apply(new BatchNorm().apply(h));
  const d = new DepthwiseConv2D({ kernelSize: 3, padding: "same" }).apply(b);
  const y = new Dense({ units: 3 }).apply(
    new Dropout({ rate: 0.2 }).apply(new GlobalAvgPool2D().apply(new Add().apply([b, d]))),
  );
  const model = new Model({ inputs: x, outputs: y }, { seed: 5 });
  const data = { x: rand([12, 6, 6, 2]), labels: Array.from({ length: 12 }, (_, i) => i % 3) };
  fit(model, data, { epochs: 2, batchSize: 4, optimizer: new Adam({ lr: 0.01 }) });
  assert.ok(
    model.state().some((p) => p.value.some((v) => v !== 0 && v !== 1)),
    "running statistics moved",
  );
  const bytes = saveModel(model, { note: "graph" });
  const copy = loadModel(bytes);
  assert.ok(copy instanceof Model && !(copy instanceof Sequential));
  assert.equal((copy.config() as { format: string; version: number }).version, 2);
  assert.deepEqual(copy.config(), model.config());
  assert.deepEqual(copy.predict(data.x).data, model.predict(data.x).data);
  assert.deepEqual(copy.state().map((p) => p.value), model.state().map((p) => p.value));
});

Deno.test("BatchNorm: PyTorch's running statistics; training mode in fit, inference in predict and evaluate", () => {
  const bn = new BatchNorm({ momentum: 0.5 });
  const model = new Sequential([bn], [2]);
  const x = tensor([1, 10, 3, 20, 5, 30], [3, 2]);
  model.setTraining(true);
  const y = model.forward(x);
  // batch mean [3, 20], biased var [8/3, 200/3]; running = 0.5·old + 0.5·batch (var unbiased: 4, 100)
  assertTensorClose(bn.state()[0]!.value, [1.5, 10], 1e-6);
  assertTensorClose(bn.state()[1]!.value, [2.5, 50.5], 1e-6);
  assertTensorClose(y.data, [-1.2247, -1.2247, 0, 0, 1.2247, 1.2247].map((v) => v), 1e-4);
  model.setTraining(false);
  const z = model.predict(tensor([1.5, 10], [1, 2])).data; // the running mean maps to beta = 0
  assertTensorClose(z, [0, 0], 1e-6);
});

Deno.test("Dropout: seeded masks in training mode, scaled by 1/(1 − rate); backward uses the same mask", () => {
  const run = () => {
    const d = new Dropout({ rate: 0.25, seed: 9 });
    const m = new Sequential([d], [1000]);
    m.setTraining(true);
    const y = m.forward(tensor(new Float32Array(1000).fill(1), [1, 1000]));
    const g = m.backward(tensor(new Float32Array(1000).fill(2), [1, 1000]), {
      inputGradient: true,
    })!;
    return { y: y.data, g: g.data };
  };
  const a = run(), b = run();
  assert.deepEqual(a.y, b.y);
  const kept = a.y.filter((v) => v !== 0);
  assert.ok(kept.every((v) => Math.abs(v - 4 / 3) < 1e-6));
  assert.ok(Math.abs(kept.length / 1000 - 0.75) < 0.05, String(kept.length));
  a.y.forEach((v, i) => assert.equal(a.g[i], v * 2));
});

/** A ResNet-style model: stem, three residual stages with BatchNorm, global average pooling. */
function resnet(): Model {
  const x = Input([8, 8, 1]);
  let h = new ReLU().apply(
    new BatchNorm().apply(new Conv2D({ filters: 8, kernelSize: 3, padding: "same" }).apply(x)),
  );
  for (const [filters, stride] of [[8, 1], [12, 2], [16, 2]] as const) {
    const a = new ReLU().apply(
      new BatchNorm().apply(
        new Conv2D({ filters, kernelSize: 3, stride, padding: "same" }).apply(h),
      ),
    );
    const b = new BatchNorm().apply(
      new Conv2D({ filters, kernelSize: 3, padding: "same" }).apply(a),
    );
    const skip = stride === 1 && filters === h.shape[2]
      ? h
      : new BatchNorm().apply(new Conv2D({ filters, kernelSize: 1, stride }).apply(h));
    h = new ReLU().apply(new Add().apply([b, skip]));
  }
  return new Model({
    inputs: x,
    outputs: new Dense({ units: 3 }).apply(new GlobalAvgPool2D().apply(h)),
  }, { seed: 11 });
}

/** A MobileNet-style model: depthwise-separable blocks with ReLU6. */
function mobilenet(): Model {
  const layers: Layer[] = [
    new Conv2D({ filters: 8, kernelSize: 3, stride: 2, padding: "same" }),
    new BatchNorm(),
    new ReLU6(),
  ];
  for (const [filters, stride] of [[12, 1], [16, 2]] as const) {
    layers.push(
      new DepthwiseConv2D({ kernelSize: 3, stride, padding: "same" }),
      new BatchNorm(),
      new ReLU6(),
      new Conv2D({ filters, kernelSize: 1 }),
      new BatchNorm(),
      new ReLU6(),
    );
  }
  layers.push(new GlobalAvgPool2D(), new Dense({ units: 3 }));
  return new Sequential(layers, [8, 8, 1], { seed: 12 });
}

for (const [name, make] of [["ResNet-style", resnet], ["MobileNet-style", mobilenet]] as const) {
  Deno.test(`${name}: trains (loss falls), saves, loads, and folds its BatchNorms (1e-5)`, () => {
    const model = make();
    const data = blobs(48, rng(5));
    const x8 = data.x;
    const history = fit(model, data, {
      epochs: 6,
      batchSize: 8,
      optimizer: new Adam({ lr: 0.01 }),
    });
    assert.ok(
      history.epochs.at(-1)!.loss < history.epochs[0]!.loss,
      JSON.stringify(history.epochs.map((e) => e.loss)),
    );
    const copy = loadModel(saveModel(model));
    assert.deepEqual(copy.predict(x8).data, model.predict(x8).data);
    const fused = fuse(model);
    const bns = model.layers.filter((l) => l.kind === "BatchNorm").length;
    assert.ok(bns > 0 && fused.layers.filter((l) => l.kind === "BatchNorm").length === 0);
    assertTensorClose(fused.predict(x8), model.predict(x8), 1e-5, `${name} fused`);
    // A ReLU read only by itself after a folded layer became that layer's activation.
    const relus = (m: typeof model) => m.layers.filter((l) => l.kind === "ReLU").length;
    if (relus(model)) {
      assert.ok(
        relus(fused) < relus(model),
        `${name}: ${relus(fused)} ReLUs of ${relus(model)} left`,
      );
    }
  });
}

Deno.test("Add with a fused ReLU: max(0, sum), gradients by finite differences, saved and loaded", () => {
  const x = Input([3, 3, 2]);
  const c = new Conv2D({ filters: 2, kernelSize: 3, padding: "same" }).apply(x);
  const model = new Model({ inputs: x, outputs: new Add({ activation: "relu" }).apply([c, x]) }, {
    seed: 8,
  });
  // Finite differences are wrong across the kink: pick an input whose sums all stay 0.05 from 0.
  const sums = (t: Tensor) => model.forwardAll(t)[0]!.data.map((v, i) => v + t.data[i]!);
  let input = tensor(new Float32Array(36), [2, 3, 3, 2]);
  for (let phase = 0;; phase++) {
    const data = Float32Array.from({ length: 36 }, (_, i) => Math.sin(i * 1.7 + phase) * 2);
    input = tensor(data, [2, 3, 3, 2]);
    if (sums(input).every((v) => Math.abs(v) > 0.05)) break;
  }
  const y = model.predict(input).data, z = sums(input);
  assert.ok(z.some((v) => v < 0) && z.some((v) => v > 0));
  assert.deepEqual([...y], [...z].map((v) => (v > 0 ? v : 0)));
  checkGradients(model, input);
  assert.deepEqual(loadModel(saveModel(model)).predict(input).data, model.predict(input).data);
  assert.throws(() => new Add({ activation: "relu6" as "relu" }), /options\.activation/);
});

Deno.test("fuse: Conv-BatchNorm-ReLU becomes one Conv2D with a fused ReLU; a ReLU read twice stays", () => {
  const x = Input([6, 6, 2]);
  const c = new Conv2D({ filters: 3, kernelSize: 3 }).apply(x);
  const r = new ReLU().apply(new BatchNorm().apply(c));
  const shared = new Conv2D({ filters: 3, kernelSize: 1 }).apply(r);
  const r2 = new ReLU().apply(shared);
  const model = new Model({ inputs: x, outputs: new Add().apply([r2, shared]) });
  for (const p of model.state()) p.value.set(p.value.map((_, i) => 0.5 + i / 10));
  const fused = fuse(model);
  assert.deepEqual(fused.layers.map((l) => l.kind), ["Conv2D", "Conv2D", "ReLU", "Add"]);
  const input = tensor(Float32Array.from({ length: 144 }, (_, i) => Math.sin(i)), [2, 6, 6, 2]);
  assertTensorClose(fused.predict(input), model.predict(input), 1e-5);
});

Deno.test("testing module: checkGradients names the parameter and index of a wrong backward", () => {
  /** y = scale · x, with a deliberately wrong gradient for `scale` (off by a factor of 2). */
  class Scale extends LayerBase implements Layer {
    readonly kind = "Scale";
    name = "scale";
    #p: Param = {
      name: "scale.s",
      shape: [1],
      value: Float32Array.of(1.5),
      grad: new Float32Array(1),
    };
    #x: Tensor | null = null;
    build(s: SampleShape): SampleShape {
      return s;
    }
    forward(x: Tensor): Tensor {
      this.#x = x;
      return { shape: x.shape, data: x.data.map((v) => v * this.#p.value[0]!) };
    }
    backward(d: Tensor): Tensor {
      let s = 0;
      d.data.forEach((v, i) => (s += v * this.#x!.data[i]!));
      this.#p.grad[0]! += 2 * s; // wrong on purpose
      return { shape: d.shape, data: d.data.map((v) => v * this.#p.value[0]!) };
    }
    params(): Param[] {
      return [this.#p];
    }
    config(): LayerConfig {
      return { kind: "Dense", name: this.name };
    }
  }
  assert.throws(
    () => checkGradients(new Scale(), rand([2, 3])),
    (e: Error) =>
      e instanceof GradientCheckError && e.what === "scale.s" && e.index === 0 &&
      /scale\.s\[0\]/.test(e.message),
  );
});

Deno.test("backward checks dOut's shape even when the output layer (Add) would pass it on unchecked", () => {
  const x = Input([3]);
  const model = new Model({
    inputs: x,
    outputs: new Add().apply([x, new Dense({ units: 3 }).apply(x)]),
  });
  model.forward(rand([2, 3]));
  assert.throws(
    () => model.backward(rand([2, 4]), { inputGradient: true }),
    /Model.backward: dOut must have the last forward output's shape \[2, 3\], got \[2, 4\]/,
  );
  assert.throws(
    () => new BatchNorm({ momentum: 1.00000005 }),
    /options.momentum must be a number in \[0, 1\]/,
  );
  assert.equal(new BatchNorm({ momentum: 1 }).momentum, 1);
});

/**
 * NaN stays NaN through every rectifier (ReLU, ReLU6, Clip, HardSigmoid and
 * the fused activations of Conv2D, DepthwiseConv2D, Conv2DTranspose, Dense
 * and Add), on every backend, as in PyTorch: a broken input must not turn
 * into a confident answer.
 */
import assert from "node:assert/strict";
import {
  Add,
  availableBackends,
  Clip,
  Conv2D,
  Conv2DTranspose,
  Dense,
  DepthwiseConv2D,
  fuse,
  HardSigmoid,
  Input,
  loadModel,
  Model,
  ReLU,
  ReLU6,
  Sequential,
  tensor,
} from "../mod.ts";
import { randArray, rng, withBackend } from "./_helpers.ts";

const BACKENDS = availableBackends();

Deno.test("ReLU, ReLU6, Clip and HardSigmoid pass NaN through, and clamp the rest", () => {
  const x = tensor([NaN, -2, 0.5, 7, -Infinity, Infinity], [1, 6]);
  const cases: [string, () => ReLU | ReLU6 | Clip | HardSigmoid, number[]][] = [
    ["ReLU", () => new ReLU(), [NaN, 0, 0.5, 7, 0, Infinity]],
    ["ReLU6", () => new ReLU6(), [NaN, 0, 0.5, 6, 0, 6]],
    ["Clip", () => new Clip({ min: -1, max: 1 }), [NaN, -1, 0.5, 1, -1, 1]],
    ["HardSigmoid", () => new HardSigmoid(), [NaN, 0.1, 0.6, 1, 0, 1]],
  ];
  for (const [name, make, want] of cases) {
    const got = [...new Sequential([make()], [6]).predict(x).data];
    want.forEach((w, i) => {
      if (Number.isNaN(w)) {
        assert.ok(Number.isNaN(got[i]), `${name}[${i}] should be NaN, got ${got[i]}`);
      } else {assert.ok(
          got[i] === w || Math.abs(got[i]! - w) < 1e-6,
          `${name}[${i}]: ${got[i]} vs ${w}`,
        );}
    });
  }
});

Deno.test("fused relu/relu6 keep NaN in Conv2D (direct and Winograd sizes), DepthwiseConv2D, Conv2DTranspose, Dense and Add, on every backend", () => {
  const r = rng(7);
  for (const activation of ["relu", "relu6"] as const) {
    const layers: [string, () => Sequential][] = [
      [
        "Conv2D 3×3",
        () =>
          new Sequential([new Conv2D({ filters: 9, kernelSize: 3, padding: "same", activation })], [
            20,
            20,
            16,
          ]),
      ],
      [
        "Conv2D 1×1",
        () => new Sequential([new Conv2D({ filters: 13, kernelSize: 1, activation })], [5, 5, 3]),
      ],
      [
        "DepthwiseConv2D",
        () =>
          new Sequential([new DepthwiseConv2D({ kernelSize: 3, padding: 1, activation })], [
            6,
            6,
            5,
          ]),
      ],
      ["Conv2DTranspose", () =>
        new Sequential(
          [new Conv2DTranspose({ filters: 3, kernelSize: 2, stride: 2, activation })],
          [4, 4, 2],
        )],
      ["Dense", () => new Sequential([new Dense({ units: 11, activation })], [7])],
    ];
    for (const [name, make] of layers) {
      for (const be of BACKENDS) {
        withBackend(be, () => {
          const model = make();
          const n = model.inputShape.reduce((a, b) => a * b, 1);
          const data = randArray(r, 2 * n);
          data[0] = NaN; // the first sample's first value: it reaches some outputs of sample 0
          const y = model.predict(tensor(data, [2, ...model.inputShape])).data;
          const per = y.length / 2;
          const nan0 = y.subarray(0, per).filter(Number.isNaN).length;
          assert.ok(nan0 > 0, `${name} ${activation} on ${be}: a NaN input gave no NaN output`);
          assert.equal(
            y.subarray(per).filter(Number.isNaN).length,
            0,
            `${name} ${activation} on ${be}: NaN leaked into the other sample`,
          );
        });
      }
    }
  }
  for (const be of BACKENDS) {
    withBackend(be, () => {
      const a = Input([3]);
      const sum = new Add({ activation: "relu" }).apply([a, a]);
      const model = new Model({ inputs: a, outputs: sum });
      const y = model.predict(tensor([NaN, -1, 2], [1, 3])).data;
      assert.ok(Number.isNaN(y[0]), `Add relu on ${be}: ${y[0]}`);
      assert.deepEqual([...y.subarray(1)], [0, 4]);
    });
  }
});

Deno.test("an all-NaN image gets NaN logits from the shipped MNIST model (fused and not), on every backend", () => {
  const bytes = Deno.readFileSync(new URL("../models/mnist.safetensors", import.meta.url));
  for (const be of BACKENDS) {
    withBackend(be, () => {
      const model = loadModel(bytes);
      for (const m of [model, fuse(model)]) {
        const y = m.predict(tensor(new Float32Array(784).fill(NaN), [1, 28, 28, 1])).data;
        assert.ok(y.every(Number.isNaN), `${be}: logits ${[...y].slice(0, 3)}`);
      }
    });
  }
});

/**
 * The outside oracle for graphs and BatchNorm: a residual block with
 * BatchNorm built in PyTorch 1.13 (`scripts/torch_resblock_fixture.py`,
 * committed as `tests/fixtures/torch_resblock.json`), one SGD step in
 * training mode. Our graph, given the same initial weights, must give the
 * same loss, gradients, updated weights and updated running statistics
 * (1e-4), on every backend.
 */
import assert from "node:assert/strict";
import {
  Add,
  availableBackends,
  BatchNorm,
  Conv2D,
  Dense,
  GlobalAvgPool2D,
  Input,
  Model,
  ReLU,
  SGD,
  tensor,
  trainStep,
} from "../mod.ts";
import { assertTensorClose, compareArrays } from "../src/testing/mod.ts";
import { withBackend } from "./_helpers.ts";

const fx = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/torch_resblock.json", import.meta.url)),
) as {
  torch: string;
  x: { shape: number[]; data: number[] };
  labels: number[];
  lr: number;
  loss: number;
  before: Record<string, number[]>;
  grads: Record<string, number[]>;
  after: Record<string, number[]>;
};

function block(): Model {
  const x = Input([6, 6, 3]);
  const h1 = new ReLU().apply(
    new BatchNorm({ name: "b1" }).apply(
      new Conv2D({ name: "c1", filters: 4, kernelSize: 3, padding: 1 }).apply(x),
    ),
  );
  const h2 = new BatchNorm({ name: "b2" }).apply(
    new Conv2D({ name: "c2", filters: 4, kernelSize: 3, padding: 1 }).apply(h1),
  );
  const skip = new Conv2D({ name: "proj", filters: 4, kernelSize: 1 }).apply(x);
  const out = new GlobalAvgPool2D().apply(new ReLU().apply(new Add().apply([h2, skip])));
  return new Model({ inputs: x, outputs: new Dense({ name: "fc", units: 3 }).apply(out) });
}

for (const backend of availableBackends()) {
  Deno.test(`[${backend}] a residual block with BatchNorm: one SGD step equals PyTorch's (1e-4)`, () => {
    withBackend(backend, () => {
      assert.match(fx.torch, /^1\.13/);
      const model = block();
      const shapes = new Map([...model.params(), ...model.state()].map((p) => [p.name, p.shape]));
      model.setWeights(
        Object.fromEntries(
          Object.entries(fx.before).map((
            [k, v],
          ) => [k, tensor(Float32Array.from(v), shapes.get(k)!)]),
        ),
      );
      const { loss } = trainStep(
        model,
        tensor(Float32Array.from(fx.x.data), fx.x.shape),
        fx.labels,
        new SGD({ lr: fx.lr }),
      );
      assert.ok(Math.abs(loss - fx.loss) <= 1e-4 * Math.abs(fx.loss), `loss ${loss} vs ${fx.loss}`);
      const byName = new Map([...model.params(), ...model.state()].map((p) => [p.name, p]));
      // The convolutions' biases before a BatchNorm have a zero gradient (the batch mean
      // removes them): both sides hold rounding noise (~1e-8), judged against the gradients' scale.
      const floor = 1e-2 * Math.max(...Object.values(fx.grads).flat().map(Math.abs));
      for (const [k, g] of Object.entries(fx.grads)) {
        const c = compareArrays(byName.get(k)!.grad, g, floor);
        assert.ok(c.error <= 1e-4, `grad ${k}: relative error ${c.error} at ${c.index}`);
      }
      for (const [k, v] of Object.entries(fx.after)) {
        assertTensorClose(byName.get(k)!.value, v, 1e-4, `after ${k}`);
      }
    });
  });
}

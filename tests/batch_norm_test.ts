/**
 * BatchNorm's fused activation: the same bits as BatchNorm then ReLU/ReLU6,
 * the same gradients, saved and loaded, and what `fuse()` makes of a
 * BatchNorm → ReLU it cannot fold into a convolution (DenseNet's order).
 */
import assert from "node:assert/strict";
import {
  BatchNorm,
  Concatenate,
  Conv2D,
  fuse,
  Input,
  loadModel,
  Model,
  ReLU,
  ReLU6,
  saveModel,
  Sequential,
  tensor,
} from "../mod.ts";
import { randArray, rng } from "./_helpers.ts";

/** BatchNorm with random statistics and affine parameters, then the activation; and its fused twin. */
function pair(act: "relu" | "relu6", seed: number): [Sequential, Sequential] {
  const r = rng(seed);
  const split = new Sequential(
    [new BatchNorm(), act === "relu" ? new ReLU() : new ReLU6()],
    [3, 4, 5],
    { seed },
  );
  const fused = new Sequential([new BatchNorm({ activation: act })], [3, 4, 5], { seed });
  for (const p of [...split.params(), ...split.state()]) {
    p.value.set(randArray(r, p.value.length, p.name.includes("Var") ? 0.5 : -2, 2));
  }
  fused.setWeights(split.getWeights());
  return [split, fused];
}

for (const act of ["relu", "relu6"] as const) {
  Deno.test(`BatchNorm activation "${act}": the bits of BatchNorm then ${act}, NaN kept`, () => {
    const [split, fused] = pair(act, 3);
    const x = tensor(randArray(rng(4), 2 * 60, -6, 6), [2, 3, 4, 5]);
    x.data[17] = NaN;
    for (const training of [false, true]) {
      split.setTraining(training);
      fused.setTraining(training);
      const a = split.forward(x), b = fused.forward(x);
      assert.deepEqual(b.data, a.data, `training ${training}`);
      assert.ok(Number.isNaN(b.data[17]!));
      const g = tensor(randArray(rng(5), a.data.length), a.shape);
      const da = split.backward(g, { inputGradient: true })!;
      const db = fused.backward(g, { inputGradient: true })!;
      assert.deepEqual(db.data, da.data, `input gradient, training ${training}`);
    }
  });
}

// (Gradients: equal bit for bit to BatchNorm's then ReLU's, each checked by finite differences elsewhere.)
Deno.test("BatchNorm activation: model files keep it; a wrong one is refused", () => {
  const [, fused] = pair("relu6", 6);
  const x = tensor(randArray(rng(7), 2 * 60, -1, 1), [2, 3, 4, 5]);
  const back = loadModel(saveModel(fused));
  assert.equal((back.layers[0] as BatchNorm).activation, "relu6");
  assert.deepEqual(back.predict(x).data, fused.predict(x).data);
  assert.throws(
    () => new BatchNorm({ activation: "gelu" as "relu" }),
    /BatchNorm.*activation.*"relu", "relu6" or "linear"|activation/,
  );
});

Deno.test("fuse: a BatchNorm → ReLU after a concatenation becomes one BatchNorm with ReLU", () => {
  const x0 = Input([5, 5, 2]);
  const a = new Conv2D({ filters: 3, kernelSize: 3, padding: "same" }).apply(x0);
  const cat = new Concatenate().apply([a, x0]);
  const y = new ReLU().apply(new BatchNorm().apply(cat));
  const model = new Model({ inputs: x0, outputs: y }, { seed: 2 });
  const r = rng(8);
  for (const p of model.state()) p.value.set(randArray(r, p.value.length, 0.5, 1.5));
  model.weightsChanged();
  const fused = fuse(model);
  const kinds = fused.layers.map((l) => l.kind);
  assert.ok(!kinds.includes("ReLU"), kinds.join(", "));
  assert.equal((fused.layers.find((l) => l.kind === "BatchNorm") as BatchNorm).activation, "relu");
  const x = tensor(randArray(r, 2 * 50, -1, 1), [2, 5, 5, 2]);
  assert.deepEqual(fused.predict(x).data, model.predict(x).data);
});

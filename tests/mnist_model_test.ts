/**
 * The committed model, held to its promise: at least 99.0% on the 2,000
 * held-out digits of the fixed split, the accuracy it records in its own
 * metadata is the one measured here, and the metadata records the honest
 * procedure (settings chosen on a validation split carved from the training
 * digits; held-out digits evaluated once).
 */
import assert from "node:assert/strict";
import { evaluate, fuse, getBackend, loadModel, setBackend } from "../mod.ts";
import { asDataset, carveValidation, loadMnist, TRAIN_FRACTION } from "../train/mnist.ts";

const MODEL = new URL("../models/mnist.safetensors", import.meta.url);

Deno.test("the split is fixed: 2,000 held-out digits, per digit the last 20% in file order", async () => {
  const { train, heldOut } = await loadMnist();
  assert.equal(TRAIN_FRACTION, 0.8);
  assert.equal(heldOut.n, 2000);
  assert.equal(train.n + heldOut.n, 10000);
  const counts = new Array(10).fill(0);
  for (const l of heldOut.labels) counts[l]++;
  assert.deepEqual(counts, [200, 225, 198, 206, 196, 173, 203, 214, 189, 196]);
});

Deno.test("the committed model reaches ≥ 99.0% on the held-out digits, on every backend, fused or not", async () => {
  const model = loadModel(await Deno.readFile(MODEL));
  const { heldOut } = await loadMnist();
  const before = getBackend();
  try {
    for (const b of ["wasm-relaxed-simd", "wasm-simd", "js"] as const) {
      setBackend(b);
      const { accuracy, confusion: matrix } = evaluate(model, asDataset(heldOut));
      assert.ok(accuracy >= 0.99, `${b}: held-out accuracy ${accuracy} is below 0.99`);
      // The Worker serves the fused model: the same predictions.
      const fused = evaluate(fuse(model), asDataset(heldOut));
      assert.deepEqual(fused.confusion, matrix, `${b}: the fused model predicts differently`);
      assert.equal(matrix.flat().reduce((s, v) => s + v, 0), 2000);
      assert.equal(
        Number(model.metadata["heldOutAccuracy"]).toFixed(3),
        accuracy.toFixed(3),
        `${b}: metadata disagrees`,
      );
    }
  } finally {
    setBackend(before);
  }
});

Deno.test("the validation split is carved from the training digits only, and the metadata says how the model was chosen", async () => {
  const { train, heldOut } = await loadMnist();
  const { fit, validation } = carveValidation(train);
  assert.equal(fit.n + validation.n, train.n);
  assert.equal(validation.n, 999);
  // Every validation image is a training image, none is held out.
  const key = (x: Float32Array, i: number) => x.subarray(i * 784, (i + 1) * 784).join(",");
  const trainKeys = new Set(Array.from({ length: train.n }, (_, i) => key(train.x, i)));
  const heldKeys = new Set(Array.from({ length: heldOut.n }, (_, i) => key(heldOut.x, i)));
  for (let i = 0; i < validation.n; i++) {
    assert.ok(trainKeys.has(key(validation.x, i)));
    assert.ok(!heldKeys.has(key(validation.x, i)));
  }
  const m = loadModel(await Deno.readFile(MODEL)).metadata;
  assert.match(m["procedure"] ?? "", /chosen on the validation split/);
  assert.match(m["procedure"] ?? "", /evaluated once/);
  assert.ok(Number(m["validationAccuracy"]) >= 0.98, m["validationAccuracy"]);
  assert.equal(m["validationDigits"], "999");
});

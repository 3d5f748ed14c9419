/**
 * The committed model, held to its promise: at least 98.5% on the 2,000
 * held-out digits of the fixed split, and the accuracy it records in its
 * own metadata is the one measured here.
 */
import assert from "node:assert/strict";
import { evaluate, getBackend, loadModel, setBackend } from "../mod.ts";
import { asDataset, loadMnist, TRAIN_FRACTION } from "../train/mnist.ts";

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

Deno.test("the committed model reaches ≥ 98.5% on the held-out digits, on every backend", async () => {
  const model = loadModel(await Deno.readFile(MODEL));
  const { heldOut } = await loadMnist();
  const before = getBackend();
  try {
    for (const b of ["wasm-relaxed-simd", "wasm-simd", "js"] as const) {
      setBackend(b);
      const { accuracy, confusion: matrix } = evaluate(model, asDataset(heldOut));
      assert.ok(accuracy >= 0.985, `${b}: held-out accuracy ${accuracy} is below 0.985`);
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

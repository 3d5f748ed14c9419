/**
 * `predict` reuses its outputs (src/core/_outputs.ts): a node's output goes
 * back to the pool once its last reader ran. What must hold: the answers are
 * the bits `forward` gives, on every backend; an answer already returned is
 * never overwritten by a later prediction; values read by several nodes, or
 * viewed by a reshape, are not reused while a reader is left; the pool
 * reuses by length and keeps one prediction's working set.
 */
import assert from "node:assert/strict";
import {
  Add,
  availableBackends,
  Concatenate,
  Conv2D,
  Dense,
  DepthwiseConv2D,
  Flatten,
  Input,
  MaxPool2D,
  Model,
  ReLU,
  tensor,
} from "../mod.ts";
import { OutputPool } from "../src/core/_outputs.ts";
import { randArray, rng, withBackend } from "./_helpers.ts";

/** Branches, a residual add read late, a value read by three nodes, a flatten (a view). */
function graph(): Model {
  const x = Input([9, 9, 3]);
  const a = new Conv2D({ filters: 8, kernelSize: 3, padding: "same" }).apply(x);
  const r = new ReLU().apply(a);
  const b = new DepthwiseConv2D({ kernelSize: 3, padding: "same" }).apply(r);
  const c = new Conv2D({ filters: 8, kernelSize: 1 }).apply(b);
  const sum = new Add().apply([a, c]); // a is read again after two more nodes
  const p = new MaxPool2D({ poolSize: 2 }).apply(sum);
  const q = new Conv2D({ filters: 5, kernelSize: 3, padding: "same" }).apply(p);
  const cat = new Concatenate().apply([p, q, new ReLU().apply(q)]);
  const flat = new Flatten().apply(cat);
  const y = new Dense({ units: 7 }).apply(flat);
  return new Model({ inputs: x, outputs: y }, { seed: 11 });
}

Deno.test("predict with reused outputs: forward's bits, earlier answers intact, on every backend", () => {
  for (const backend of availableBackends()) {
    withBackend(backend, () => {
      const model = graph(), r = rng(4);
      const xs = [1, 3, 2].map((m) => tensor(randArray(r, m * 9 * 9 * 3), [m, 9, 9, 3]));
      const want = xs.map((x) => model.forward(x).data.slice());
      const answers = xs.map((x) => model.predict(x));
      for (let round = 0; round < 3; round++) {
        xs.forEach((x, i) => assert.deepEqual(model.predict(x).data, want[i], `${backend} ${i}`));
      }
      // Answers returned earlier still hold their own values after nine more predictions.
      answers.forEach((a, i) => assert.deepEqual(a.data, want[i], `${backend} kept answer ${i}`));
      // Batches split into slices go through the same path (forward's bits slice by slice).
      const x3 = xs[1]!, n = 9 * 9 * 3;
      const slices = [[0, 2], [2, 3]].map(([a, b]) =>
        model.forward(tensor(x3.data.slice(a! * n, b! * n), [b! - a!, 9, 9, 3])).data
      );
      assert.deepEqual(
        model.predict(x3, { batchSize: 2 }).data,
        Float32Array.from([...slices[0]!, ...slices[1]!]),
      );
    });
  }
});

Deno.test("predict's answer is its own array, also when the last node is a view of a pooled value", () => {
  for (const backend of availableBackends()) {
    withBackend(backend, () => {
      const x = Input([5, 5, 2]);
      const conv = new Conv2D({ filters: 3, kernelSize: 3, padding: "same" }).apply(x);
      const model = new Model({ inputs: x, outputs: new Flatten().apply(conv) }, { seed: 3 });
      const r = rng(9);
      const xs = [0, 1, 2].map(() => tensor(randArray(r, 2 * 5 * 5 * 2), [2, 5, 5, 2]));
      const want = xs.map((v) => model.forward(v).data.slice());
      const answers = xs.map((v) => model.predict(v));
      answers.forEach((a, i) => assert.deepEqual(a.data, want[i], `${backend} ${i}`));
      // Three answers, three arrays of their own (no two share memory).
      const buffers = new Set(answers.map((a) => a.data.buffer));
      assert.equal(buffers.size, 3, backend);
      for (const a of answers) assert.equal(a.data.byteLength, a.data.buffer.byteLength, backend);
    });
  }
});

Deno.test("predict keeps nothing for backward: backward after predict is a clear error", () => {
  const model = graph();
  const y = model.predict(tensor(new Float32Array(9 * 9 * 3), [1, 9, 9, 3]));
  assert.throws(
    () => model.backward(tensor(new Float32Array(y.data.length), y.shape)),
    /backward was called before forward.*predict keeps nothing/,
  );
});

Deno.test("OutputPool: reuses by length, takes back only its own arrays, keeps one run's working set", () => {
  const made: number[] = [];
  const pool = new OutputPool();
  const take = pool.take.bind(pool);
  // Count the arrays the pool has to create (none on a free list of that length).
  pool.take = (n: number) => {
    const before = pool.freeFloats;
    const a = take(n);
    if (pool.freeFloats === before) made.push(n);
    return a;
  };
  const a = pool.take(10), b = pool.take(10);
  pool.give(a);
  pool.give(b);
  pool.give(new Float32Array(10)); // not the pool's: ignored
  pool.give(a.subarray(2) as Float32Array); // a view, not the array: ignored
  assert.equal(pool.freeFloats, 20);
  made.length = 0;
  pool.take(10);
  pool.take(10);
  assert.deepEqual(made, [], "both from the free list");
  pool.give(a);
  pool.endRun();
  assert.equal(pool.freeFloats, 10, "a length asked for in the run stays");
  pool.endRun();
  assert.equal(pool.freeFloats, 0, "a length no run asked for is dropped");
});

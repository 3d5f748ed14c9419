/**
 * The training loop users expect, each option held to a behaviour that
 * fails on the code before it: PyTorch's optimiser numbers, a trailing
 * Softmax trained as logits, refused non-finite data, divergence caught at
 * the weights, clipping, schedules, early stopping, the other losses,
 * segmentation, fitAsync and its abort.
 */
import assert from "node:assert/strict";
import {
  Adam,
  AdamW,
  Conv2D,
  cosineDecay,
  Dense,
  evaluate,
  fit,
  fitAsync,
  linearWarmup,
  type Optimizer,
  type Param,
  Sequential,
  SGD,
  Softmax,
  stepDecay,
  tensor,
  TrainingDivergedError,
} from "../mod.ts";

const fixture = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/optimizers.json", import.meta.url)),
) as {
  w0: number[];
  grads: number[][];
  cases: { optimizer: string; options: Record<string, unknown>; steps: number[][] }[];
};

Deno.test("SGD (momentum, dampening, Nesterov, weight decay), Adam and AdamW match PyTorch's numbers for five steps", () => {
  for (const c of fixture.cases) {
    const make: Record<string, (o: never) => Optimizer> = {
      SGD: (o) => new SGD(o),
      Adam: (o) => new Adam(o),
      AdamW: (o) => new AdamW(o),
    };
    const opt = make[c.optimizer]!(c.options as never);
    const p: Param = {
      name: "w",
      shape: [5],
      value: Float32Array.from(fixture.w0),
      grad: new Float32Array(5),
    };
    c.steps.forEach((want, t) => {
      p.grad.set(fixture.grads[t]!);
      opt.step([p]);
      want.forEach((w, i) => {
        const got = p.value[i]!;
        assert.ok(
          Math.abs(got - w) <= 2e-6 * Math.max(1, Math.abs(w)),
          `${c.optimizer} ${JSON.stringify(c.options)} step ${
            t + 1
          } [${i}]: ${got} vs PyTorch ${w}`,
        );
      });
    });
  }
  assert.throws(
    () => new SGD({ lr: 0.1, nesterov: true }),
    /nesterov must be false unless momentum > 0/,
  );
});

const xs = (n: number, f = 3, seed = 1) => {
  const d = new Float32Array(n * f);
  for (let i = 0; i < d.length; i++) d[i] = Math.sin(i * 1.3 + seed);
  return tensor(d, [n, f]);
};
const data = () => {
  const x = xs(24);
  const labels = Array.from(
    { length: 24 },
    (_, i) => (x.data[i * 3]! > 0 ? 1 : 0) + (x.data[i * 3 + 1]! > 0.5 ? 1 : 0),
  );
  return { x, labels };
};

Deno.test("4. a model ending in Softmax trains as the same model without it (loss and weights to 1e-5); predict gives probabilities", () => {
  const plain = new Sequential(
    [new Dense({ units: 8, activation: "relu" }), new Dense({ units: 3 })],
    [3],
    { seed: 4 },
  );
  const soft = new Sequential(
    [new Dense({ units: 8, activation: "relu" }), new Dense({ units: 3 }), new Softmax()],
    [3],
    {
      seed: 4,
    },
  );
  const opts = { epochs: 3, batchSize: 8, optimizer: new SGD({ lr: 0.3 }) };
  const a = fit(plain, data(), opts);
  const b = fit(soft, data(), { ...opts, optimizer: new SGD({ lr: 0.3 }) });
  a.epochs.forEach((e, i) =>
    assert.ok(
      Math.abs(e.loss - b.epochs[i]!.loss) < 1e-5,
      `epoch ${i + 1}: ${e.loss} vs ${b.epochs[i]!.loss}`,
    )
  );
  plain.params().forEach((p, i) => {
    const q = soft.params()[i]!;
    p.value.forEach((v, k) => assert.ok(Math.abs(v - q.value[k]!) < 1e-5, p.name));
  });
  const ev = evaluate(soft, data()), ep = evaluate(plain, data());
  assert.ok(Math.abs(ev.loss - ep.loss) < 1e-5);
  const probs = soft.predict(data().x).data;
  for (let i = 0; i < 24; i++) {
    assert.ok(Math.abs(probs[i * 3]! + probs[i * 3 + 1]! + probs[i * 3 + 2]! - 1) < 1e-5);
  }
});

Deno.test("3. non-finite training data is refused up front, naming data.x, the index and the sample; weights untouched", () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const model = new Sequential([new Dense({ units: 3 })], [3]);
    const before = model.params().map((p) => p.value.slice());
    const d = data();
    d.x.data[3 * 5 + 2] = bad;
    for (const run of [() => fit(model, d), () => evaluate(model, d)]) {
      assert.throws(
        run,
        (e: Error) =>
          e instanceof RangeError && /data\.x must be finite/.test(e.message) &&
          /index 17 \(sample 5\)/.test(e.message),
      );
    }
    assert.deepEqual(model.params().map((p) => p.value), before);
  }
});

Deno.test("3. a step that would make a weight non-finite throws TrainingDivergedError and leaves the weights as they were", () => {
  const model = new Sequential([new Dense({ units: 3 })], [3], { seed: 2 });
  let steps = 0;
  const blowUp: Optimizer = {
    lr: 1,
    step(params) {
      if (++steps === 3) params[0]!.value[1] = Infinity; // the third step breaks a weight
      else {for (const p of params) {
          for (let i = 0; i < p.value.length; i++) p.value[i]! -= 0.01 * p.grad[i]!;
        }}
    },
  };
  let afterTwo: Float32Array[] = [];
  assert.throws(
    () =>
      fit(model, data(), {
        batchSize: 8,
        optimizer: blowUp,
        onBatch: (e) => {
          if (e.batch === 2) afterTwo = model.params().map((p) => p.value.slice());
        },
      }),
    (e: Error) =>
      e instanceof TrainingDivergedError &&
      /a weight became non-finite at epoch 1, batch 3/.test(e.message),
  );
  assert.deepEqual(model.params().map((p) => p.value), afterTwo);
});

Deno.test("clipNorm clips the global gradient norm before the step (SGD step = lr · clipped gradient)", () => {
  const model = new Sequential([new Dense({ units: 2, name: "d" })], [3], { seed: 1 });
  const w0 = model.params().map((p) => p.value.slice());
  const d = { x: tensor([10, -20, 30], [1, 3]), labels: [1] };
  fit(model, d, { optimizer: new SGD({ lr: 1 }), clipNorm: 0.5, shuffle: false });
  let moved = 0;
  model.params().forEach((p, i) => p.value.forEach((v, k) => (moved += (v - w0[i]![k]!) ** 2)));
  assert.ok(
    Math.abs(Math.sqrt(moved) - 0.5) < 1e-5,
    `the step's norm is ${Math.sqrt(moved)}, not 0.5`,
  );
  assert.throws(
    () => fit(model, d, { clipNorm: 0 }),
    /clipNorm must be a number in \(0, Infinity\)/,
  );
});

Deno.test("schedule sets the learning rate of every step; the ready-made schedules compute what they say", () => {
  const seen: number[] = [];
  const opt = new SGD({ lr: 1 });
  const real = opt.step.bind(opt);
  opt.step = (p) => {
    seen.push(opt.lr);
    real(p);
  };
  fit(new Sequential([new Dense({ units: 3 })], [3]), data(), {
    epochs: 2,
    batchSize: 8,
    optimizer: opt,
    schedule: (step, epoch) => 0.1 * (step + 1) + epoch,
  });
  assert.deepEqual(seen.map((v) => +v.toFixed(6)), [1.1, 1.2, 1.3, 2.4, 2.5, 2.6]);
  const c = cosineDecay({ lr: 1, steps: 4, minLr: 0.2 });
  assert.deepEqual([0, 2, 4, 9].map((s) => +c(s, 1).toFixed(6)), [1, 0.6, 0.2, 0.2]);
  assert.equal(stepDecay({ lr: 1, every: 3, gamma: 0.5 })(7, 1), 0.25);
  // Closed intervals are closed exactly: 1 is accepted, nothing above it.
  assert.equal(stepDecay({ lr: 1, every: 1, gamma: 1 })(5, 1), 1);
  assert.throws(
    () => stepDecay({ lr: 1, every: 1, gamma: 1.00000005 }),
    /gamma must be a number in \(0, 1\]/,
  );
  assert.equal(cosineDecay({ lr: 0.5, steps: 2, minLr: 0.5 })(1, 1), 0.5);
  assert.throws(
    () => cosineDecay({ lr: 0.5, steps: 2, minLr: 0.50000001 }),
    /minLr must be a number in \[0, 0\.5\]/,
  );
  new SGD({ lr: 0.1, momentum: 0.5, dampening: 1 });
  assert.throws(
    () => new SGD({ lr: 0.1, dampening: 1.00000005 }),
    /dampening must be a number in \[0, 1\]/,
  );
  const w = linearWarmup({ lr: 1, steps: 4, then: c });
  assert.deepEqual([0, 3, 4, 6].map((s) => +w(s, 1).toFixed(6)), [0.25, 1, 1, 0.6]);
  assert.throws(
    () => fit(new Sequential([new Dense({ units: 3 })], [3]), data(), { schedule: () => NaN }),
    /options\.schedule\(0, 1\) must be a positive finite learning rate, got NaN/,
  );
});

Deno.test("earlyStopping stops after patience epochs without improvement and restores the best weights", () => {
  const model = new Sequential([new Dense({ units: 3 })], [3], { seed: 3 });
  const val = data();
  const snaps: Float32Array[][] = [];
  // A learning rate so high the validation loss gets worse after the first epochs.
  const h = fit(model, data(), {
    epochs: 30,
    batchSize: 24,
    optimizer: new SGD({ lr: 40 }),
    validation: val,
    earlyStopping: { monitor: "val_loss", patience: 2, restoreBest: true },
    onEpoch: () => snaps.push(model.params().map((p) => p.value.slice())),
  });
  const losses = h.epochs.map((e) => e.validation!.loss);
  assert.ok(h.stoppedEarly, `did not stop: ${losses}`);
  const best = losses.indexOf(Math.min(...losses));
  assert.equal(h.bestEpoch, best + 1);
  assert.equal(
    h.epochs.length,
    best + 1 + 3,
    "patience 2: stops at the third epoch without improvement",
  );
  assert.deepEqual(model.params().map((p) => p.value), snaps[best]);
  assert.throws(
    () => fit(model, data(), { earlyStopping: { monitor: "val_loss", patience: 1 } }),
    /options\.validation must be a data set \(earlyStopping watches it\)/,
  );
  assert.throws(
    () =>
      fit(model, data(), {
        validation: val,
        earlyStopping: { monitor: "loss", patience: 1 } as never,
      }),
    /monitor must be "val_loss" or "val_accuracy"/,
  );
});

Deno.test("loss mse and sigmoid-cross-entropy train on data.y and lower the loss; a y of the wrong shape is named", () => {
  for (const loss of ["mse", "sigmoid-cross-entropy"] as const) {
    const model = new Sequential(
      [new Dense({ units: 8, activation: "relu" }), new Dense({ units: 2 })],
      [3],
      { seed: 5 },
    );
    const x = xs(32);
    const y = new Float32Array(64);
    for (let i = 0; i < 32; i++) {
      y[2 * i] = x.data[3 * i]! > 0 ? 1 : 0;
      y[2 * i + 1] = x.data[3 * i + 2]! > 0 ? 1 : 0;
    }
    const d = { x, y: tensor(y, [32, 2]) };
    const before = evaluate(model, d, { loss }).loss;
    const h = fit(model, d, { loss, epochs: 40, batchSize: 8, optimizer: new Adam({ lr: 0.02 }) });
    const after = evaluate(model, d, { loss });
    assert.ok(after.loss < before * 0.5, `${loss}: ${before} → ${after.loss}`);
    if (loss === "mse") {
      assert.ok(Number.isNaN(after.accuracy) && Number.isNaN(h.epochs[0]!.accuracy));
    } else assert.ok(after.accuracy > 0.9, `multi-label accuracy ${after.accuracy}`);
    assert.throws(
      () => fit(model, { x, y: tensor(y.subarray(0, 32), [32, 1]) }, { loss }),
      /data\.y\.shape must be \[32, 2\]/,
    );
    assert.throws(
      () => fit(model, { x, labels: [] }, { loss }),
      /data\.y must be a tensor of targets/,
    );
  }
});

Deno.test("a [h, w, classes] output trains per-pixel softmax cross-entropy; evaluate reports per-pixel accuracy", () => {
  const model = new Sequential([new Conv2D({ filters: 2, kernelSize: 3, padding: "same" })], [
    6,
    6,
    1,
  ], { seed: 6 });
  const n = 8, x = new Float32Array(n * 36), labels: number[] = [];
  for (let i = 0; i < x.length; i++) {
    x[i] = Math.sin(i * 0.7) + Math.cos(i * 0.13);
    labels.push(x[i]! > 0 ? 1 : 0);
  }
  const d = { x: tensor(x, [n, 6, 6, 1]), labels };
  const before = evaluate(model, d);
  fit(model, d, { epochs: 60, batchSize: 4, optimizer: new Adam({ lr: 0.05 }) });
  const after = evaluate(model, d);
  assert.equal(after.count, n * 36, "counted per pixel");
  assert.ok(
    after.accuracy > 0.95 && after.loss < before.loss,
    `${before.accuracy} → ${after.accuracy}`,
  );
  assert.throws(
    () => fit(model, { x: d.x, labels: labels.slice(0, n) }),
    /one label per pixel \(8·6·6 = 288\)/,
  );
});

Deno.test("fitAsync trains like fit and yields between batches; abort rejects with AbortError after the current batch", async () => {
  const a = new Sequential([new Dense({ units: 3 })], [3], { seed: 8 });
  const b = new Sequential([new Dense({ units: 3 })], [3], { seed: 8 });
  const ha = fit(a, data(), { epochs: 2, batchSize: 8 });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  const hb = await fitAsync(b, data(), { epochs: 2, batchSize: 8 });
  clearInterval(timer);
  assert.deepEqual(hb.epochs.map((e) => e.loss), ha.epochs.map((e) => e.loss));
  assert.deepEqual(b.params().map((p) => p.value), a.params().map((p) => p.value));
  assert.ok(ticks > 0, "the event loop ran while it trained");
  const c = new Sequential([new Dense({ units: 3 })], [3]);
  const controller = new AbortController();
  let batches = 0;
  const run = fitAsync(c, data(), {
    epochs: 50,
    batchSize: 8,
    signal: controller.signal,
    onBatch: () => {
      if (++batches === 4) controller.abort();
    },
  });
  await assert.rejects(run, (e: Error) => e.name === "AbortError");
  assert.equal(batches, 4, "stopped after the batch that aborted");
  assert.equal(c.training, false);
});

Deno.test("verbose prints a progress bar to stderr; off by default", async () => {
  const script = `import { Dense, fit, Sequential, tensor } from "${
    new URL("../mod.ts", import.meta.url).href
  }";
const m = new Sequential([new Dense({ units: 2 })], [2]);
const d = { x: tensor([1, 0, 0, 1, 1, 1, 0, 0], [4, 2]), labels: [0, 1, 0, 1] };
fit(m, d, { epochs: 2, batchSize: 2, verbose: Deno.args[0] === "on" });`;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, script);
    const run = async (arg: string) =>
      new TextDecoder().decode(
        (await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", file, arg],
          stderr: "piped",
        }).output()).stderr,
      );
    const on = await run("on");
    assert.match(on, /epoch 1\/2 \[.*\] 2\/2 loss \d\.\d{4} accuracy \d\.\d{4} ETA \d+s/);
    assert.match(on, /epoch 2\/2 loss \d\.\d{4} accuracy/);
    assert.equal(await run("off"), "");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("checkpointing with onEpoch + saveModel + writeFileAtomic: each epoch's file loads, no temporary file is left", async () => {
  const { loadModel, saveModel, writeFileAtomic } = await import("../mod.ts");
  const dir = await Deno.makeTempDir();
  try {
    const model = new Sequential([new Dense({ units: 3 })], [3]);
    const path = `${dir}/ckpt.safetensors`;
    const seen: Float32Array[] = [];
    fit(model, data(), {
      epochs: 3,
      batchSize: 8,
      onEpoch: () => {
        writeFileAtomic(path, saveModel(model));
        seen.push(loadModel(Deno.readFileSync(path)).params()[0]!.value);
      },
    });
    assert.equal(seen.length, 3);
    assert.notDeepEqual(seen[0], seen[2]);
    assert.deepEqual(seen[2], model.params()[0]!.value);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["ckpt.safetensors"]);
    assert.throws(() => writeFileAtomic(`${dir}/no/such/dir/x`, new Uint8Array(1)));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["ckpt.safetensors"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

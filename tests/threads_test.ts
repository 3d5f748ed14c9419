/**
 * Threads: every kernel gives the same bits on 1, 2 and 3 threads (and the
 * workers really ran part of each call), a training run too; bad settings
 * are refused; a worker that fails or hangs makes the call fail with a
 * ThreadError, never a hang, and the next call works.
 */
import assert from "node:assert/strict";
import {
  availableBackends,
  Conv2D,
  Dense,
  fit,
  Flatten,
  getThreads,
  MaxPool2D,
  ReLU,
  Sequential,
  setThreads,
  tensor,
  ThreadError,
} from "../mod.ts";
import { _threadState, activeKernels } from "../src/backend/select.ts";
import { squarePool } from "../src/core/_geometry.ts";
import type { ConvGeometry } from "../src/core/types.ts";
import type { ActivationKind } from "../src/backend/types.ts";
import { convGeo, randArray, rng, withBackendAsync } from "./_helpers.ts";

const WASM = availableBackends().filter((b) => b !== "js");
const threaded = _threadState()?.kernels.threaded ?? false;
const DEFAULT_THREADS = getThreads();

const geo = convGeo;

/** Every kernel on shapes big enough to be split (and odd enough to have tails). */
function runAll(seed: number): Float32Array[] {
  const k = activeKernels();
  const r = rng(seed);
  const out: Float32Array[] = [];
  const convs: ConvGeometry[] = [
    geo(9, 21, 19, 1, 5, 16), // first-layer shape: one input channel
    geo(7, 13, 11, 13, 3, 21, { pad: 1 }), // odd channels, padding
    geo(3, 21, 19, 13, 3, 21, { pad: 1 }), // Winograd (forward, dX and dW in 5 parts)
    geo(5, 17, 17, 8, 3, 12, { stride: 2, pad: 1, dilation: 2 }),
    geo(6, 12, 12, 12, 3, 12, { groups: 3, pad: 1 }), // grouped
    geo(6, 15, 15, 10, 3, 20, { groups: 10, pad: 1 }), // depthwise, multiplier 2
    geo(1, 40, 37, 6, 5, 14), // one image: split by rows
    geo(33, 8, 8, 16, 3, 8), // a batch not divisible by the parts
    geo(1, 30, 29, 24, 3, 24, { groups: 24, pad: 1 }), // depthwise, one image: split by rows
    geo(1, 29, 31, 12, 3, 24, { groups: 12, pad: 1 }), // the same with multiplier 2
    geo(2, 33, 31, 64, 3, 64, { groups: 64, stride: 2, pad: 1 }), // two images, more parts: rows
    geo(2, 160, 20, 24, 3, 16, { pad: 1 }), // short rows padded in parts of rows, two images
    geo(1, 230, 17, 28, 3, 8, { pads: [2, 1, 0, 3] }), // one image, asymmetric padding
    geo(1, 7, 7, 96, 3, 76, { pad: 1 }), // Winograd on 16 tiles: channels split, a partial panel
  ];
  for (const g of convs) {
    const x = randArray(r, g.m * g.inH * g.inW * g.cIn);
    const w = randArray(r, g.fH * g.fW * (g.cIn / g.groups) * g.cOut);
    const b = randArray(r, g.cOut);
    const dz = randArray(r, g.m * g.outH * g.outW * g.cOut);
    out.push(k.convForward(g, x, w, b, 1));
    out.push(k.convBackwardData(g, dz, w));
    const { dW, db } = k.convBackwardFilter(g, x, dz);
    out.push(dW, db);
  }
  const p = squarePool(16, 24, 22, 7, 3, 2);
  const px = randArray(r, p.m * p.inH * p.inW * p.c);
  const dy = randArray(r, p.m * p.outH * p.outW * p.c);
  for (const mode of ["max", "average"] as const) {
    out.push(k.poolForward(p, px, mode), k.poolBackward(p, px, dy, mode));
  }
  const bx = randArray(r, 11_111 * 9, -6, 6),
    c9 = (f: () => number) => Float64Array.from({ length: 9 }, f);
  for (const act of [0, 1, 2] as const) {
    out.push(k.channelAffine(bx, 9, c9(() => r()), c9(() => r() * 3), c9(() => r() - 0.5), act));
  }
  const parts3 = [randArray(r, 20_011 * 3), randArray(r, 20_011 * 16), randArray(r, 20_011 * 5)];
  out.push(k.concatLast(parts3, [3, 16, 5], 20_011), k.sliceLast(parts3[1]!, 16, 3, 9));
  out.push(k.permuteLast(parts3[1]!, Int32Array.from({ length: 16 }, (_, i) => (i * 5) % 16)));
  const s3 = [randArray(r, 150_001), randArray(r, 150_001), randArray(r, 150_001)];
  out.push(k.addSame(s3, true), k.addSame(s3.slice(0, 2), false));
  const a = randArray(r, 100_003, -6, 6);
  const kinds = [
    "sigmoid",
    "tanh",
    "erf",
    "gelu",
    "gelu_tanh",
    "silu",
    "exp",
    "log",
    "softplus",
    "mish",
  ];
  for (const kind of kinds as ActivationKind[]) {
    out.push(k.activation(kind, a));
  }
  return out;
}

/** Runs `f` with the calling thread leaving every split call's tasks to the workers. */
function workersOnly<T>(f: () => T): T {
  const pool = _threadState()!.kernels.pool!;
  pool.callerTakesTasks = false;
  try {
    return f();
  } finally {
    pool.callerTakesTasks = true;
  }
}

function assertBitEqual(a: Float32Array[], b: Float32Array[], what: string): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    const x = new Uint32Array(a[i]!.buffer, a[i]!.byteOffset, a[i]!.length);
    const y = new Uint32Array(b[i]!.buffer, b[i]!.byteOffset, b[i]!.length);
    assert.equal(x.length, y.length, `${what}: output ${i} length`);
    for (let j = 0; j < x.length; j++) {
      if (x[j] !== y[j]) {
        assert.fail(`${what}: output ${i} differs at ${j}: ${a[i]![j]} vs ${b[i]![j]}`);
      }
    }
  }
}

/** Sets `n` threads and waits for the workers to be up. */
async function useThreads(n: number): Promise<void> {
  setThreads(n);
  await _threadState()!.kernels.threadsReady();
}

Deno.test("setThreads refuses what is not an integer from 1 to 16, naming the argument", () => {
  for (const bad of [0, -1, 1.5, 17, NaN, Infinity]) {
    assert.throws(() => setThreads(bad), (e: Error) => {
      assert.ok(e instanceof RangeError, String(bad));
      assert.match(e.message, /setThreads: n must be an integer from 1 to 16, got/);
      return true;
    });
  }
  assert.throws(() => setThreads("2" as unknown as number), TypeError);
  assert.equal(getThreads(), DEFAULT_THREADS);
});

Deno.test("by default every core is used where threads exist", () => {
  const cores = navigator.hardwareConcurrency;
  assert.equal(threaded, true, "Deno runs the threaded kernels");
  assert.equal(DEFAULT_THREADS, Math.min(16, cores));
});

for (const be of WASM) {
  Deno.test(`${be}: every kernel gives the same bits on 1, 2 and 3 threads`, async () => {
    await withBackendAsync(be, async () => {
      try {
        await useThreads(1);
        const one = runAll(7);
        for (const n of [2, 3]) {
          await useThreads(n);
          // Shared between the caller and the workers as timing has it…
          assertBitEqual(runAll(7), one, `${be}, ${n} threads`);
          // … and every split call left to the workers alone, so they surely ran.
          const before = _threadState()!.workerTasks;
          const many = workersOnly(() => runAll(7));
          const ran = _threadState()!.workerTasks - before;
          assert.ok(ran > 40, `${n} threads: workers ran ${ran} tasks`);
          assert.ok(_threadState()!.kernels.winogradCalls() > 0, "Winograd ran");
          assertBitEqual(many, one, `${be}, ${n} threads, workers only`);
        }
      } finally {
        setThreads(DEFAULT_THREADS);
      }
    });
  });
}

/** A small CNN trained for two epochs on 96 random 28×28 images: its weights. */
function trainRun(): Float32Array[] {
  const r = rng(11);
  const model = new Sequential(
    [
      new Conv2D({ filters: 8, kernelSize: 5, activation: "relu" }),
      new MaxPool2D(),
      new Conv2D({ filters: 12, kernelSize: 3, padding: "same" }),
      new ReLU(),
      new Flatten(),
      new Dense({ units: 10 }),
    ],
    [28, 28, 1],
    { seed: 3 },
  );
  const x = tensor(randArray(r, 96 * 28 * 28), [96, 28, 28, 1]);
  const labels = Array.from({ length: 96 }, (_, i) => i % 10);
  fit(model, { x, labels }, { epochs: 2, batchSize: 32, shuffle: 5 });
  return model.params().map((p) => p.value);
}

Deno.test("a training run gives the same weights, bit for bit, on 1, 2 and 3 threads", async () => {
  try {
    await useThreads(1);
    const one = trainRun();
    for (const n of [2, 3]) {
      await useThreads(n);
      assertBitEqual(trainRun(), one, `training on ${n} threads`);
      const before = _threadState()!.workerTasks;
      const many = workersOnly(trainRun);
      assert.ok(_threadState()!.workerTasks - before > 10, `${n} threads ran`);
      assertBitEqual(many, one, `training on ${n} threads, workers only`);
    }
  } finally {
    setThreads(DEFAULT_THREADS);
  }
});

Deno.test("a worker whose task throws fails the call with a ThreadError; the next call works", async () => {
  try {
    await useThreads(2);
    const k = _threadState()!.kernels;
    assert.throws(() => k.pool!._poison("throw"), (e: Error) => {
      assert.ok(e instanceof ThreadError);
      assert.match(e.message, /kernel thread failed/);
      return true;
    });
    await useThreads(2);
    const want = (() => {
      setThreads(1);
      return runAll(3);
    })();
    await useThreads(2);
    assertBitEqual(runAll(3), want, "after a failure");
  } finally {
    setThreads(DEFAULT_THREADS);
  }
});

Deno.test("a worker that hangs fails the call after the stall timeout, not forever", async () => {
  try {
    await useThreads(2);
    const k = _threadState()!.kernels;
    k.pool!.stallMs = 300;
    const t0 = performance.now();
    assert.throws(() => k.pool!._poison("hang"), (e: Error) => {
      assert.ok(e instanceof ThreadError);
      assert.match(e.message, /no progress for 300 ms/);
      return true;
    });
    assert.ok(performance.now() - t0 < 5000);
    k.pool!.stallMs = 60_000;
    // The hung worker was stopped and replaced.
    await useThreads(2);
    assert.equal(k.pool!.readyWorkers, 1);
    const before = _threadState()!.workerTasks;
    const got = workersOnly(() => runAll(4));
    assert.ok(_threadState()!.workerTasks > before, "the replacement ran tasks");
    setThreads(1);
    assertBitEqual(got, runAll(4), "after a hang");
  } finally {
    setThreads(DEFAULT_THREADS);
  }
});

Deno.test("a script that used threads exits by itself", async () => {
  const script = `
    import { convForward, getThreads, initKernels, kernelThreadStats, tensor } from "${
    new URL("../mod.ts", import.meta.url).href
  }";
    await initKernels();
    const x = tensor(new Float32Array(16 * 24 * 24 * 8).fill(0.5), [16, 24, 24, 8]);
    const w = tensor(new Float32Array(3 * 3 * 8 * 16).fill(0.25), [3, 3, 8, 16]);
    convForward(x, w, new Float32Array(16), { stride: 1, pad: 1 });
    console.log(JSON.stringify({ threads: getThreads(), ...kernelThreadStats() }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const got = JSON.parse(text);
  assert.equal(got.threads, DEFAULT_THREADS);
  // The workers were up (whether they took a share of this one call is up to timing).
  if (DEFAULT_THREADS > 1) assert.equal(got.workers, DEFAULT_THREADS - 1);
});

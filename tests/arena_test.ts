/**
 * Predictions on the kernel arena (src/backend/_arena.ts): the kernels'
 * outputs stay in WebAssembly memory between layers. The results are the
 * bits of the ordinary run on every backend and thread count; the arena is
 * really used; runs that cannot go on in place (new weights, a bigger call,
 * a full arena) are made again and still right; the result never aliases
 * kernel memory; and the arena's bookkeeping holds on its own.
 */
import assert from "node:assert/strict";
import {
  Add,
  availableBackends,
  BatchNorm,
  Concatenate,
  Conv2D,
  Dense,
  DepthwiseConv2D,
  Flatten,
  Gelu,
  getThreads,
  GlobalAvgPool2D,
  initKernels,
  Input,
  kernelMemoryStats,
  MaxPool2D,
  Model,
  Reshape,
  setThreads,
  Sigmoid,
  tensor,
} from "../mod.ts";
import {
  ArenaAbort,
  arenaSwitch,
  FirstFit,
  KernelArena,
  regionBytes,
} from "../src/backend/_arena.ts";
import { _threadState } from "../src/backend/select.ts";
import { randArray, rng, withBackendAsync } from "./_helpers.ts";

const WASM = availableBackends().filter((b) => b !== "js");
const DEFAULT_THREADS = getThreads();

/**
 * Every kind of value a kernel writes: direct, Winograd, panel-packed and
 * dilated convolutions, depthwise (multiplier 1 and 2, rows split on one
 * image), pooling, an activation kernel, a residual Add, a concatenation, a
 * BatchNorm and views (Reshape, Flatten) read after their source.
 */
function net(seed: number): Model {
  const x = Input([23, 21, 8]);
  const a = new Conv2D({ filters: 16, kernelSize: 3, padding: "same", activation: "relu" })
    .apply(x); // Winograd
  const d = new DepthwiseConv2D({ kernelSize: 3, padding: "same", activation: "relu6" }).apply(a);
  const d2 = new DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2, padding: "same" }).apply(a);
  const p = new Conv2D({ filters: 16, kernelSize: 1 }).apply(d2);
  const r = new Add().apply([d, p]);
  const dil = new Conv2D({ filters: 12, kernelSize: 3, padding: "same", dilation: 2 }).apply(r);
  const g = new Gelu().apply(new BatchNorm().apply(dil));
  const view = new Reshape({ shape: [21, 23, 12] }).apply(g); // a view of g
  const back = new Reshape({ shape: [23, 21, 12] }).apply(view);
  const cat = new Concatenate().apply([back, r, new Sigmoid().apply(dil)]);
  const big = new Conv2D({ filters: 40, kernelSize: 5, padding: "same" }).apply(cat); // panels
  const pool = new MaxPool2D({ poolSize: 2 }).apply(big);
  const gap = new GlobalAvgPool2D().apply(pool);
  const flat = new Flatten().apply(pool);
  const y = new Concatenate().apply([new Dense({ units: 7 }).apply(flat), gap]);
  return new Model({ inputs: x, outputs: y }, { seed });
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}
function assertSameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  const x = bits(a), y = bits(b);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) assert.fail(`${what}: differs at ${i}: ${a[i]} vs ${b[i]}`);
  }
}

/** Runs `f` with the arena switched on or off. */
function withArena<T>(on: boolean, f: () => T): T {
  const was = arenaSwitch.enabled;
  arenaSwitch.enabled = on;
  try {
    return f();
  } finally {
    arenaSwitch.enabled = was;
  }
}

/** Counts the calls of an arena method while `f` runs (on every instance). */
function count(method: "take" | "abort", f: () => void): number {
  const proto = KernelArena.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const was = proto[method]!;
  let n = 0;
  proto[method] = function (this: unknown, ...a: unknown[]) {
    n++;
    return was.apply(this, a);
  };
  try {
    f();
  } finally {
    proto[method] = was;
  }
  return n;
}
const countTakes = (f: () => void) => count("take", f);
const countAborts = (f: () => void) => count("abort", f);

for (const be of WASM) {
  Deno.test(`${be}: predictions on the arena are the ordinary run's bits, on 1, 2 and 3 threads`, async () => {
    await withBackendAsync(be, async () => {
      try {
        const model = net(3);
        const r = rng(5);
        const xs = [1, 3].map((m) => tensor(randArray(r, m * 23 * 21 * 8), [m, 23, 21, 8]));
        for (const n of [1, 2, 3]) {
          setThreads(n);
          await _threadState()?.kernels.threadsReady();
          for (const x of xs) {
            const plain = withArena(false, () => model.predict(x).data);
            model.predict(x); // plans: packs the weights, learns the calls' room
            let onArena: Float32Array = new Float32Array(0);
            const takes = countTakes(() => onArena = model.predict(x).data);
            assert.ok(takes >= 8, `${n} threads: ${takes} outputs on the arena`);
            assertSameBits(onArena, plain, `${be}, ${n} threads, batch ${x.shape[0]}`);
            // The result is the caller's own array, not a view of kernel memory.
            assert.ok(onArena.buffer instanceof ArrayBuffer && onArena.byteOffset === 0);
            const again = model.predict(xs[0]!).data;
            assert.ok(again.buffer !== onArena.buffer);
            assertSameBits(onArena, plain, "after the next prediction");
          }
          // The memory's parts: weights kept, values on the arena, the largest call's buffers.
          const st = kernelMemoryStats();
          assert.ok(
            st.weightBytes > 0 && st.arenaBytes > 0 && st.callBytes > 0,
            JSON.stringify(st),
          );
          assert.ok(st.weightBytes + st.arenaBytes + st.callBytes <= st.bytes, JSON.stringify(st));
        }
      } finally {
        setThreads(DEFAULT_THREADS);
      }
    });
  });

  Deno.test(`${be}: runs that cannot stay on the arena are made again, and are right`, async () => {
    await withBackendAsync(be, () => {
      const a = net(1), b = net(2);
      const r = rng(9);
      const x1 = tensor(randArray(r, 23 * 21 * 8), [1, 23, 21, 8]);
      const x8 = tensor(randArray(r, 8 * 23 * 21 * 8), [8, 23, 21, 8]);
      const want = (m: Model, x: typeof x1) => withArena(false, () => m.predict(x).data);
      const wa1 = want(a, x1), wb1 = want(b, x1), wa8 = want(a, x8);
      a.predict(x1);
      a.predict(x1);
      // A model whose weights are not packed yet (b's twin): its first run stops at the first packing.
      const twin = net(2);
      let y: Float32Array = new Float32Array(0);
      assert.equal(countAborts(() => y = twin.predict(x1).data), 1, "a new model's first run");
      assertSameBits(y, wb1, "a new model");
      assert.equal(countAborts(() => y = twin.predict(x1).data), 0, "its second run");
      assertSameBits(y, wb1, "a new model, on the arena");
      // A bigger batch: calls need more room than any before.
      assert.equal(countAborts(() => y = a.predict(x8).data), 1, "a bigger batch");
      assertSameBits(y, wa8, "a bigger batch");
      // Weights written by the user (and announced) are packed again in place.
      a.params()[0]!.value[3]! += 0.25;
      a.weightsChanged();
      const changed = want(a, x1);
      assert.ok(bits(changed).some((v, i) => v !== bits(wa1)[i]), "the edit changes the output");
      assertSameBits(a.predict(x1).data, changed, "edited weights");
      // Alternating models keep giving the right answers.
      for (let i = 0; i < 4; i++) {
        assertSameBits(b.predict(x1).data, wb1, `b, round ${i}`);
        assertSameBits(a.predict(x1).data, changed, `a, round ${i}`);
      }
      return Promise.resolve();
    });
  });
}

for (const be of WASM) {
  Deno.test(`${be}: kept Winograd filters edited between predictions on the arena are packed again without touching its values`, async () => {
    // One thread: every call runs on the instance whose arena holds the values.
    setThreads(1);
    await initKernels();
    await withBackendAsync(be, () => {
      // Two Winograd layers with kept filters (4,608 and 9,216 weights); 180 KB of values.
      const x = Input([24, 24, 16]);
      const a = new Conv2D({ filters: 32, kernelSize: 3, padding: "same", activation: "relu" })
        .apply(x);
      const model = new Model({
        inputs: x,
        outputs: new Conv2D({ filters: 32, kernelSize: 3, padding: "same" }).apply(a),
      }, { seed: 5 });
      const x1 = tensor(randArray(rng(15), 24 * 24 * 16), [1, 24, 24, 16]);
      for (let i = 0; i < 3; i++) model.predict(x1);
      assert.ok(countTakes(() => model.predict(x1)) > 0, "predictions run on the arena");
      for (const k of [1, 0]) {
        // The same sizes: the kept forms are rewritten where they are.
        model.params()[2 * k]!.value[7]! += 0.5;
        model.weightsChanged();
        // forward copies the weights in (it never keeps them): the kept forms stay stale.
        const want = model.forward(x1).data.slice();
        let got: Float32Array = new Float32Array(0);
        const takes = countTakes(() => got = model.predict(x1).data);
        assert.ok(takes > 0, `conv ${k} edited: the run starts on the arena`);
        assertSameBits(got, want, `conv ${k} edited`);
        assertSameBits(model.predict(x1).data, want, `conv ${k} edited, next run`);
      }
      return Promise.resolve();
    }).finally(() => setThreads(DEFAULT_THREADS));
  });
}

Deno.test("the arena hands out regions by size, resolves views to their region, and stops when full", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const arena = new KernelArena(memory);
  arena.place(1024, 1024 + 4096);
  const a = arena.take(100), b = arena.take(7);
  assert.equal(a.byteOffset, 1024);
  assert.ok(b.byteOffset >= a.byteOffset + 400 + 64 && b.byteOffset % 16 === 0, "slack, aligned");
  assert.equal(arena.ownerOf(a.subarray(10, 20)), a);
  assert.equal(arena.ownerOf(b), b);
  assert.equal(arena.ownerOf(new Float32Array(100)), undefined);
  assert.equal(arena.ownerOf(new Float32Array(memory.buffer, 0, 8)), undefined, "below the arena");
  arena.give(a.subarray(1)); // only the region itself is taken back
  const c = arena.take(100);
  assert.ok(c.byteOffset > b.byteOffset, "a region still live is not handed out again");
  arena.give(a);
  assert.equal(arena.ownerOf(a), undefined, "a freed region has no owner");
  const small = arena.take(30);
  assert.equal(small.byteOffset, a.byteOffset, "the lowest gap that holds it");
  const rest = arena.take(40);
  assert.equal(rest.byteOffset, a.byteOffset + regionBytes(30), "then the rest of that gap");
  arena.give(small);
  arena.give(rest);
  assert.equal(arena.take(100).byteOffset, a.byteOffset, "freed neighbours merge");
  assert.equal(arena.regionAt(b.byteOffset, 7), b);
  assert.equal(arena.regionAt(b.byteOffset, 8), undefined);
  assert.throws(() => arena.take(2000), ArenaAbort);
  assert.ok(arena.peakBytes > 4096, "a full arena says how much it needed");
  arena.endRun();
  assert.equal(arena.take(50).byteOffset, 1024, "each run starts afresh");
  assert.equal(arena.ownerOf(b), undefined, "regions of an ended run are gone");
  // A region past the reserved memory is refused, never a view out of bounds.
  arena.place(60000, 70000);
  assert.throws(() => arena.take(3000), ArenaAbort);
});

Deno.test("first-fit placement: gaps are reused lowest first, split, merged, and the top gap goes back to the end", () => {
  const f = new FirstFit(100);
  const a = f.take(32), b = f.take(64), c = f.take(16);
  assert.deepEqual([a, b, c], [100, 132, 196]);
  f.give(a, 32);
  assert.equal(f.take(48), 212, "too big for the gap below: at the end");
  assert.equal(f.take(16), 100, "the gap below, split");
  assert.equal(f.take(16), 116, "the rest of it");
  f.give(b, 64);
  f.give(c, 16);
  assert.equal(f.take(80), 132, "two freed neighbours merged into one gap");
  assert.equal(f.peak, 260);
  f.reset();
  assert.equal(f.take(16), 100);
  // The same sequence always gives the same offsets.
  const play = () => {
    const g = new FirstFit(0), r = rng(3), live: [number, number][] = [], out: number[] = [];
    for (let i = 0; i < 300; i++) {
      if (live.length && r() < 0.45) {
        const [at, n] = live.splice(Math.floor(r() * live.length), 1)[0]!;
        g.give(at, n);
      } else {
        const n = 16 * (1 + Math.floor(r() * 20));
        const at = g.take(n);
        for (const [o, m] of live) assert.ok(at + n <= o || o + m <= at, "regions never overlap");
        live.push([at, n]);
        out.push(at);
      }
    }
    return out;
  };
  assert.deepEqual(play(), play());
});

/**
 * Weights kept in kernel memory between predictions: every way weights can
 * change is seen by the next `predict`, kept and copied weights give the same
 * bits, and the kept region stays within the memory limit.
 */
import assert from "node:assert/strict";
import {
  availableBackends,
  Conv2D,
  Dense,
  DepthwiseConv2D,
  Flatten,
  getThreads,
  initKernels,
  kernelMemoryBytes,
  ReLU,
  Sequential,
  setMemoryLimit,
  setThreads,
  SGD,
  tensor,
  trainStep,
} from "../mod.ts";
import { randArray, rng, withBackend } from "./_helpers.ts";
import { _threadState, activeKernels } from "../src/backend/select.ts";

const BACKENDS = availableBackends();

/** A net with a Winograd-sized 3×3 convolution, a depthwise one and a dense layer over 4,096+ weights. */
function net(seed: number): Sequential {
  return new Sequential(
    [
      new Conv2D({ filters: 16, kernelSize: 3, padding: "same" }),
      new ReLU(),
      new DepthwiseConv2D({ kernelSize: 3, padding: "same" }),
      new Conv2D({ filters: 30, kernelSize: 3, padding: "same" }), // Winograd, 30 = 3 panels of 8 + 6
      new Flatten(),
      new Dense({ units: 10 }),
    ],
    [12, 12, 8],
    { seed },
  );
}

const input = (seed: number, m = 1) =>
  tensor(randArray(rng(seed), m * 12 * 12 * 8, -1, 1), [m, 12, 12, 8]);

/** The same model's output with every weight copied in (forward never keeps weights). */
const copied = (model: Sequential, x: ReturnType<typeof input>) => model.forward(x).data.slice();

for (const be of BACKENDS) {
  Deno.test(`${be}: predict with kept weights gives the bits of forward, call after call`, () => {
    withBackend(be, () => {
      const model = net(1), x = input(2);
      const state = _threadState();
      const calls = state?.kernels.winogradCalls() ?? 0;
      const want = copied(model, x);
      if (state) assert.ok(state.kernels.winogradCalls() > calls, "the net takes Winograd");
      for (let i = 0; i < 3; i++) assert.deepEqual(model.predict(x).data, want, `call ${i}`);
      const x2 = input(3, 5);
      assert.deepEqual(model.predict(x2).data, copied(model, x2), "a batch of 5");
    });
  });

  Deno.test(`${be}: kept Winograd filters fall back as forward does: a non-finite input, a non-finite filter, a filter whose transform overflows`, () => {
    withBackend(be, () => {
      const state = _threadState();
      const model = net(11), conv = model.layers[3] as Conv2D;
      // Bitwise equality of the NaN patterns too: deepEqual treats NaN as equal to NaN.
      /** Predict's bits (NaN patterns too) against forward's; the Winograd calls predict made. */
      const same = (x: ReturnType<typeof input>, what: string) => {
        const want = copied(model, x), before = state?.kernels.winogradCalls() ?? 0;
        for (let i = 0; i < 2; i++) {
          const got = model.predict(x).data;
          assert.deepEqual(
            new Uint32Array(got.buffer, got.byteOffset, got.length),
            new Uint32Array(want.buffer),
            `${what}, call ${i}`,
          );
        }
        return (state?.kernels.winogradCalls() ?? 0) - before;
      };
      const x = input(12);
      const wino = same(x, "finite");
      if (state) assert.ok(wino > 0, "kept Winograd filters used");
      const bad = input(12);
      bad.data[5 * 12 * 8 + 40] = NaN;
      bad.data[7] = Infinity;
      const winoBad = same(bad, "NaN and ∞ in the input");
      if (state) assert.equal(winoBad, 0, "no Winograd on a non-finite input");
      const [k] = conv.params();
      // Finite, but the transform's sums of a filter row overflow: [0, kw, 0, 0] for kw < 3.
      for (const kw of [0, 1, 2]) k!.value[kw * 16 * 30] = 3.4e38;
      model.weightsChanged();
      const winoBig = same(x, "a filter of 3.4e38s");
      if (state) assert.ok(winoBig > 0, "a finite filter keeps Winograd, as forward does");
      k!.value[17] = -Infinity;
      model.weightsChanged();
      same(x, "a filter with −∞");
    });
  });

  Deno.test(`${be}: every way of changing weights is seen by the next predict`, () => {
    withBackend(be, () => {
      const model = net(4), x = input(5);
      const changes: [string, () => void][] = [
        ["setWeights", () => {
          const w = model.getWeights();
          const k = w["dense_1.kernel"]!;
          model.setWeights({ ...w, "dense_1.kernel": { ...k, data: k.data.map((v) => -v) } });
        }],
        ["an optimiser step", () => {
          model.setTraining(true);
          const y = model.forward(x);
          model.backward({ shape: y.shape, data: new Float32Array(y.data.length).fill(1) });
          new SGD({ lr: 0.05 }).step(model.params());
          model.setTraining(false);
        }],
        ["trainStep", () => {
          trainStep(model, x, Int32Array.from([3]), new SGD({ lr: 0.05 }));
        }],
        ["one value of a large array, then weightsChanged()", () => {
          const big = model.params().find((p) => p.value.length > 4096)!;
          big.value[1234] = big.value[1234]! + 1;
          model.weightsChanged();
        }],
        [
          "one value of a small array, unannounced (small filters are copied in at every call)",
          () => {
            const small = model.params().find((p) =>
              p.name.endsWith("kernel") && p.value.length <= 4096
            )!;
            small.value[7] = small.value[7]! + 0.5;
          },
        ],
        ["a whole large array rewritten, unannounced (sampled)", () => {
          const big = model.params().find((p) => p.value.length > 4096)!;
          big.value.set(big.value.map((v) => v * 0.5));
        }],
      ];
      let before = model.predict(x).data.slice();
      for (const [what, change] of changes) {
        change();
        const after = model.predict(x).data.slice();
        assert.notDeepEqual(after, before, `${what}: the output must move`);
        assert.deepEqual(after, copied(model, x), `${what}: predict equals a fresh forward`);
        before = after;
      }
    });
  });
}

for (const be of BACKENDS.filter((b) => b !== "js")) {
  Deno.test(`${be}: kept weights stay within the memory limit over many models`, () => {
    withBackend(be, () => {
      setMemoryLimit(48 * 2 ** 20);
      try {
        const x = tensor(randArray(rng(7), 1024, -1, 1), [1, 1024]);
        // 30 models of 4 MiB of weights each: far more than the limit holds at once.
        for (let i = 0; i < 30; i++) {
          const model = new Sequential([new Dense({ units: 1024 })], [1024], { seed: i });
          const y = model.predict(x);
          assert.deepEqual(y.data, model.forward(x).data, `model ${i}`);
          assert.ok(kernelMemoryBytes() <= 2 * 48 * 2 ** 20, `${kernelMemoryBytes()} bytes`);
        }
      } finally {
        setMemoryLimit(256 * 2 ** 20);
      }
    });
  });
}

for (const be of BACKENDS.filter((b) => b !== "js")) {
  Deno.test(`${be}: a call that finds the memory full of kept weights runs with them forgotten`, () => {
    withBackend(be, () => {
      setMemoryLimit(48 * 2 ** 20);
      try {
        const x = tensor(randArray(rng(8), 1024, -1, 1), [1, 1024]);
        const fill = () => {
          // 11 models of 4 MiB of weights each: 44 of the 48 MiB kept.
          for (let i = 0; i < 11; i++) {
            new Sequential([new Dense({ units: 1024 })], [1024], { seed: i }).predict(x);
          }
        };
        const n = 2 ** 20, a = randArray(rng(9), n, -1, 1), b = randArray(rng(10), n, -1, 1);
        const k = activeKernels();
        // Each call lays out 8–16 MiB: it fits only once the kept weights are forgotten.
        const calls: [string, () => Float32Array, (i: number) => number][] = [
          [
            "concatLast",
            () => k.concatLast([a, b], [1, 1], n),
            (i) => i % 2 ? b[i >> 1]! : a[i >> 1]!,
          ],
          ["sliceLast", () => k.sliceLast(a, 2, 1, 1), (i) => a[2 * i + 1]!],
          ["addSame", () => k.addSame([a, b], false), (i) => Math.fround(a[i]! + b[i]!)],
          ["permuteLast", () => k.permuteLast(a, Int32Array.of(1, 0)), (i) => a[i ^ 1]!],
          [
            "channelAffine",
            () =>
              k.channelAffine(
                a,
                2,
                new Float64Array(2),
                new Float64Array([1, 1]),
                new Float64Array(2),
                1,
              ),
            (i) => Math.max(0, a[i]!),
          ],
        ];
        for (const [name, call, want] of calls) {
          fill();
          const y = call();
          for (let i = 0; i < y.length; i += 4099) assert.equal(y[i], want(i), `${name}[${i}]`);
          assert.ok(
            kernelMemoryBytes() <= 2 * 48 * 2 ** 20,
            `${name}: ${kernelMemoryBytes()} bytes`,
          );
        }
      } finally {
        setMemoryLimit(256 * 2 ** 20);
      }
    });
  });
}

for (const be of BACKENDS) {
  Deno.test(`${be}: filters kept by column panels give the plain kernel's bits, on 1, 2 and 3 threads (direct and Winograd)`, async () => {
    // 3×3, stride 2 (no Winograd), 64 → 130 channels: 74,880 weights, packed by panels of 8 (+ 2).
    const direct = new Sequential(
      [
        new Conv2D({ filters: 130, kernelSize: 3, stride: 2, padding: 1 }),
        new Conv2D({ filters: 20, kernelSize: 3, dilation: 2, padding: 2 }),
        // Winograd on 3 images of 9×8 (60 tiles: blocks split among threads).
        new Conv2D({ filters: 60, kernelSize: 3, padding: 1 }),
      ],
      [17, 15, 64],
      { seed: 11 },
    );
    // Winograd on 3 images of 4×4 (12 tiles, one block): the channels split among threads,
    // 76 = 9.5 panels of 8.
    const small = new Sequential([new Conv2D({ filters: 76, kernelSize: 3, padding: 1 })], [
      4,
      4,
      64,
    ], {
      seed: 13,
    });
    const cases = [
      { model: direct, x: tensor(randArray(rng(12), 3 * 17 * 15 * 64, -1, 1), [3, 17, 15, 64]) },
      { model: small, x: tensor(randArray(rng(14), 3 * 4 * 4 * 64, -1, 1), [3, 4, 4, 64]) },
    ];
    const before = getThreads();
    try {
      const first: (Float32Array | null)[] = cases.map(() => null);
      for (const n of [1, 2, 3]) {
        setThreads(n);
        await initKernels();
        withBackend(be, () => {
          cases.forEach(({ model, x }, k) => {
            const want = copied(model, x);
            const got = model.predict(x).data;
            assert.deepEqual(got, want, `model ${k}, ${n} threads: kept equals copied`);
            first[k] ??= got.slice();
            assert.deepEqual(got, first[k], `model ${k}, ${n} threads: same bits as 1 thread`);
          });
        });
      }
    } finally {
      setThreads(before);
    }
  });
}

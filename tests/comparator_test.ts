/**
 * The one comparator the suite uses (`compareArrays` / `assertTensorClose`),
 * tested with planted NaN and Infinity; and proof that the oracle tests fail
 * when a NaN is planted in any output of any backend.
 */
import assert from "node:assert/strict";
import { activeKernels } from "../src/backend/select.ts";
import type { Kernels } from "../src/backend/types.ts";
import { availableBackends, Sequential, Tanh, tensor } from "../mod.ts";
import { AssertionError, assertTensorClose, compareArrays } from "../src/testing/mod.ts";
import { relError, withBackend } from "./_helpers.ts";
import { checkConvAgainstOracle, checkPoolAgainstOracle } from "./_oracle_checks.ts";

Deno.test("compareArrays: a NaN followed by finite elements is not lost", () => {
  assert.equal(compareArrays([5, NaN, 2], [1, 1, 2]).error, Infinity);
  assert.equal(compareArrays([1, NaN, 2], [1, 1, 2]).error, Infinity);
  assert.equal(compareArrays([1, 1, 2], [1, NaN, 2]).error, Infinity);
  assert.equal(compareArrays([NaN, 1, 1], [1, 1, 1]).index, 0);
  assert.equal(relError([5, NaN, 2], [1, 1, 2]), Infinity);
});

Deno.test("compareArrays: NaN matches NaN and an infinity matches the same infinity", () => {
  assert.equal(compareArrays([NaN, 1], [NaN, 1]).error, 0);
  assert.equal(compareArrays([Infinity, -Infinity], [Infinity, -Infinity]).error, 0);
  assert.equal(compareArrays([Infinity], [-Infinity]).error, Infinity);
  assert.equal(compareArrays([Infinity, 1], [1, 1]).error, Infinity);
  assert.equal(compareArrays([1, 1], [1, -Infinity]).error, Infinity);
  assert.equal(compareArrays([NaN], [Infinity]).error, Infinity);
});

Deno.test("compareArrays: the error is relative to the largest finite expected value", () => {
  const c = compareArrays([1, 2.002, 0], [1, 2, Infinity].slice(0, 2).concat([0]));
  assert.ok(Math.abs(c.error - 1e-3) < 1e-9, String(c.error));
  assert.equal(c.index, 1);
  assert.equal(c.scale, 2);
  assert.equal(compareArrays([0, 0], [0, 0]).error, 0);
  assert.equal(compareArrays([1e-7], [0], 1e-6).error, 0.1);
  assert.deepEqual(compareArrays([], []), { error: 0, index: -1, scale: 1e-30 });
  assert.throws(() => compareArrays([1], [1, 2]), RangeError);
});

Deno.test("assertTensorClose: passes within tolerance, fails beyond it, on NaN and on shape", () => {
  assertTensorClose([1, 2], [1, 2.0000001], 1e-6);
  assertTensorClose(tensor([1, 2], [2, 1]), tensor([1, 2], [2, 1]), 0);
  assert.throws(() => assertTensorClose([1, 2.1], [1, 2], 1e-3), AssertionError);
  assert.throws(
    () => assertTensorClose([5, NaN, 2], [1, 1, 2], 1e9),
    (e: Error) => e instanceof AssertionError && /index 1 actual NaN, expected 1/.test(e.message),
  );
  assert.throws(() => assertTensorClose([Infinity], [1], 1e9), AssertionError);
  assert.throws(
    () => assertTensorClose(tensor([1, 2], [2, 1]), tensor([1, 2], [1, 2]), 1),
    /shape \[2, 1\] differs from the expected \[1, 2\]/,
  );
  assert.throws(() => assertTensorClose([1], [1, 2], 1), /length 1 differs/);
  assert.throws(() => assertTensorClose([1], [1], NaN), TypeError);
  assert.throws(() => assertTensorClose([1], [1], -1), TypeError);
  assert.throws(() => assertTensorClose([1.5], [1], 0.1, "z"), /^AssertionError: z: relative/);
});

type Method = Exclude<keyof Kernels, "backend">;

/** Runs `fn` with the active kernels' `method` writing NaN into one element of its output(s). */
function withPlantedNaN(method: Method, fn: () => void): void {
  const k = activeKernels() as unknown as Record<Method, (...a: unknown[]) => unknown>;
  const original = k[method];
  const plant = (a: Float32Array) => {
    if (a.length > 1) a[1] = NaN;
    else if (a.length === 1) a[0] = NaN;
  };
  k[method] = (...args: unknown[]) => {
    const out = original.apply(k, args);
    if (out instanceof Float32Array) plant(out);
    else {
      const o = out as { dW: Float32Array; db: Float32Array };
      plant(o.dW);
      plant(o.db);
    }
    return out;
  };
  try {
    fn();
  } finally {
    k[method] = original;
  }
}

for (const backend of availableBackends()) {
  Deno.test(`[${backend}] a NaN planted in any kernel output makes the oracle checks fail`, () => {
    withBackend(backend, () => {
      // Unplanted, a few configurations pass.
      checkConvAgainstOracle(5);
      checkPoolAgainstOracle(5);
      for (const method of ["convForward", "convBackwardData", "convBackwardFilter"] as const) {
        withPlantedNaN(method, () => {
          assert.throws(() => checkConvAgainstOracle(5), AssertionError, method);
        });
      }
      for (const method of ["poolForward", "poolBackward"] as const) {
        withPlantedNaN(method, () => {
          assert.throws(() => checkPoolAgainstOracle(5), AssertionError, method);
        });
      }
      // The activation kernel, through a layer checked against Math.tanh.
      const x = tensor(Float32Array.from({ length: 100 }, (_, i) => (i - 50) / 10), [1, 100]);
      const tanhLayer = new Sequential([new Tanh()], [100]);
      const ref = x.data.map((v) => Math.tanh(v));
      assertTensorClose(tanhLayer.predict(x).data, ref, 1e-6);
      withPlantedNaN("activation", () => {
        assert.throws(
          () => assertTensorClose(tanhLayer.predict(x).data, ref, 1e-6),
          AssertionError,
        );
      });
    });
  });
}

/**
 * Every public function against the independent float64 oracle on random
 * configurations, on every backend available here.
 */
import assert from "node:assert/strict";
import {
  availableBackends,
  convBackward,
  convForward,
  poolBackward,
  poolForward,
  tensor,
  zeroPad,
} from "../mod.ts";
import { assertClose, randArray, randInt, rng, withBackend } from "./_helpers.ts";
import {
  convBackward64,
  convForward64,
  f64,
  pad64,
  poolBackward64,
  poolForward64,
} from "./_oracle.ts";

const CONFIGS = 60;

for (const backend of availableBackends()) {
  Deno.test(`[${backend}] conv forward and backward match the float64 oracle on ${CONFIGS} random configurations`, () => {
    withBackend(backend, () => {
      const r = rng(1234);
      let done = 0;
      while (done < CONFIGS) {
        const m = randInt(r, 1, 3), H = randInt(r, 1, 12), W = randInt(r, 1, 12);
        const cIn = randInt(r, 1, 8), cOut = randInt(r, 1, 8);
        const f = randInt(r, 1, 5), stride = randInt(r, 1, 3), pad = randInt(r, 0, 2);
        if (f > H + 2 * pad || f > W + 2 * pad) continue;
        done++;
        const what = `m${m} ${H}x${W} cIn${cIn} cOut${cOut} f${f} s${stride} p${pad}`;
        const x = tensor(randArray(r, m * H * W * cIn), [m, H, W, cIn]);
        const w = tensor(randArray(r, f * f * cIn * cOut), [f, f, cIn, cOut]);
        const b = randArray(r, cOut);
        const { z, cache } = convForward(x, w, b, { stride, pad });
        const z64 = convForward64(f64(x), f64(w), b, stride, pad);
        assert.deepEqual(z.shape, z64.shape, what);
        assertClose(z.data, z64.data, 1e-5, `z ${what}`);
        const dZ = tensor(randArray(r, z.data.length), z.shape);
        const { dAPrev, dW, db } = convBackward(dZ, cache);
        const ref = convBackward64(f64(dZ), f64(x), f64(w), stride, pad);
        assertClose(dAPrev.data, ref.dA.data, 1e-5, `dAPrev ${what}`);
        assertClose(dW.data, ref.dW.data, 1e-5, `dW ${what}`);
        assertClose(db, ref.db, 1e-5, `db ${what}`);
      }
    });
  });

  Deno.test(`[${backend}] pool forward and backward match the float64 oracle on ${CONFIGS} random configurations`, () => {
    withBackend(backend, () => {
      const r = rng(99);
      let done = 0;
      while (done < CONFIGS) {
        const m = randInt(r, 1, 3), H = randInt(r, 1, 12), W = randInt(r, 1, 12);
        const c = randInt(r, 1, 8), f = randInt(r, 1, 5), stride = randInt(r, 1, 3);
        if (f > H || f > W) continue;
        done++;
        // Half the cases are all negative, to catch a max that starts from 0.
        const lo = done % 2 ? -2 : -1, hi = done % 2 ? -0.5 : 1;
        const x = tensor(randArray(r, m * H * W * c, lo, hi), [m, H, W, c]);
        for (const mode of ["max", "average"] as const) {
          const what = `${mode} m${m} ${H}x${W} c${c} f${f} s${stride}`;
          const { a, cache } = poolForward(x, { f, stride }, mode);
          const a64 = poolForward64(f64(x), f, stride, mode);
          assert.deepEqual(a.shape, a64.shape, what);
          assertClose(a.data, a64.data, 1e-6, `a ${what}`);
          const dA = tensor(randArray(r, a.data.length), a.shape);
          const dPrev = poolBackward(dA, cache);
          assertClose(
            dPrev.data,
            poolBackward64(f64(dA), f64(x), f, stride, mode).data,
            1e-5,
            `dAPrev ${what}`,
          );
        }
      }
    });
  });
}

Deno.test("zeroPad matches the oracle on random shapes", () => {
  const r = rng(7);
  for (let t = 0; t < 30; t++) {
    const shape = [randInt(r, 1, 3), randInt(r, 1, 6), randInt(r, 1, 6), randInt(r, 1, 4)];
    const pad = randInt(r, 0, 3);
    const x = tensor(randArray(r, shape.reduce((p, v) => p * v, 1)), shape);
    const y = zeroPad(x, pad);
    const y64 = pad64(f64(x), pad);
    assert.deepEqual([...y.shape], y64.shape);
    assert.deepEqual([...y.data], [...y64.data]);
  }
});

/**
 * The oracle comparisons, as functions that throw on the first mismatch, so
 * that the planted-NaN test can show they fail when a backend's output is
 * wrong.
 *
 * @module
 */
import assert from "node:assert/strict";
import { convBackward, convForward, poolBackward, poolForward, tensor } from "../mod.ts";
import { assertClose, randArray, randInt, rng } from "./_helpers.ts";
import { convBackward64, convForward64, f64, poolBackward64, poolForward64 } from "./_oracle.ts";

/** Conv forward and backward on `CONFIGS` random configurations, against the float64 oracle. */
export function checkConvAgainstOracle(CONFIGS: number): void {
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
}

/** Pool forward and backward (max and average) on `CONFIGS` random configurations. */
export function checkPoolAgainstOracle(CONFIGS: number): void {
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
}

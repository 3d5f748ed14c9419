/**
 * Every public function against the independent float64 oracle on random
 * configurations, on every backend available here.
 */
import assert from "node:assert/strict";
import { availableBackends, tensor, zeroPad } from "../mod.ts";
import { randArray, randInt, rng, withBackend } from "./_helpers.ts";
import { f64, pad64 } from "./_oracle.ts";
import { checkConvAgainstOracle, checkPoolAgainstOracle } from "./_oracle_checks.ts";

const CONFIGS = 60;

for (const backend of availableBackends()) {
  Deno.test(`[${backend}] conv forward and backward match the float64 oracle on ${CONFIGS} random configurations`, () => {
    withBackend(backend, () => {
      checkConvAgainstOracle(CONFIGS);
    });
  });

  Deno.test(`[${backend}] pool forward and backward match the float64 oracle on ${CONFIGS} random configurations`, () => {
    withBackend(backend, () => {
      checkPoolAgainstOracle(CONFIGS);
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

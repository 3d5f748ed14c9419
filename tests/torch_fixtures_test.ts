/**
 * The outside oracle: convolution, transposed convolution and pooling cases
 * computed by PyTorch 1.13 (`scripts/torch_geometry_fixtures.py`, committed
 * as `tests/fixtures/torch_geometry.json`, so CI needs no PyTorch). Every
 * backend must match PyTorch's forward output and its gradients within 1e-5
 * (norm-wise relative): strides per axis, dilation, groups, depthwise,
 * "same" with an even kernel, asymmetric padding, output padding, ceil mode,
 * count_include_pad.
 */
import assert from "node:assert/strict";
import {
  availableBackends,
  convBackward,
  convForward,
  convTransposeBackward,
  convTransposeForward,
  poolBackward,
  poolForward,
  tensor,
} from "../mod.ts";
import { assertClose, withBackend } from "./_helpers.ts";

interface T {
  shape: number[];
  data: number[];
}
interface Case {
  op: "conv" | "convTranspose" | "pool";
  name: string;
  mode?: "max" | "average";
  hp: Record<string, unknown>;
  x: T;
  w?: T;
  b?: number[];
  z: T;
  g: number[];
  dx: number[];
  dw?: number[];
  db?: number[];
}

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/torch_geometry.json", import.meta.url)),
) as { torch: string; cases: Case[] };
const t = (v: T) => tensor(Float32Array.from(v.data), v.shape);

Deno.test("the PyTorch fixture covers every operation and mode", () => {
  assert.match(fixture.torch, /^1\.13/);
  const kinds = new Set(fixture.cases.map((c) => `${c.op}${c.mode ? " " + c.mode : ""}`));
  assert.deepEqual([...kinds].sort(), ["conv", "convTranspose", "pool average", "pool max"]);
  assert.ok(fixture.cases.length >= 20);
});

for (const backend of availableBackends()) {
  Deno.test(`[${backend}] matches PyTorch on ${fixture.cases.length} geometry cases, forward and backward`, () => {
    withBackend(backend, () => {
      for (const c of fixture.cases) {
        const what = `${c.op} "${c.name}"`;
        const x = t(c.x), g = (shape: readonly number[]) => tensor(Float32Array.from(c.g), shape);
        if (c.op === "conv") {
          const { z, cache } = convForward(x, t(c.w!), Float32Array.from(c.b!), c.hp);
          assert.deepEqual([...z.shape], c.z.shape, what);
          assertClose(z.data, c.z.data, 1e-5, `z ${what}`);
          const { dAPrev, dW, db } = convBackward(g(z.shape), cache);
          assertClose(dAPrev.data, c.dx, 1e-5, `dx ${what}`);
          assertClose(dW.data, c.dw!, 1e-5, `dw ${what}`);
          assertClose(db, c.db!, 1e-5, `db ${what}`);
        } else if (c.op === "convTranspose") {
          const { z, cache } = convTransposeForward(x, t(c.w!), Float32Array.from(c.b!), c.hp);
          assert.deepEqual([...z.shape], c.z.shape, what);
          assertClose(z.data, c.z.data, 1e-5, `z ${what}`);
          const { dX, dW, db } = convTransposeBackward(g(z.shape), cache);
          assertClose(dX.data, c.dx, 1e-5, `dx ${what}`);
          assertClose(dW.data, c.dw!, 1e-5, `dw ${what}`);
          assertClose(db, c.db!, 1e-5, `db ${what}`);
        } else {
          const { a, cache } = poolForward(x, c.hp as never, c.mode);
          assert.deepEqual([...a.shape], c.z.shape, what);
          assertClose(a.data, c.z.data, 1e-6, `z ${what}`);
          assertClose(poolBackward(g(a.shape), cache).data, c.dx, 1e-5, `dx ${what}`);
        }
      }
    });
  });
}

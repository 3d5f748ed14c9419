/**
 * `fuse()` folds a zero `Pad2D` into the convolution or average pooling that
 * alone reads it, and leaves every other Pad2D where it is; the folded model
 * predicts the same values (bit for bit: padded zeros add nothing to a sum
 * of products, and an average that counts its padding divides by the same
 * window) on every backend.
 */
import assert from "node:assert/strict";
import {
  Add,
  availableBackends,
  AvgPool2D,
  Conv2D,
  DepthwiseConv2D,
  fuse,
  Input,
  MaxPool2D,
  Model,
  Pad2D,
  type SymbolicTensor,
  tensor,
} from "../mod.ts";
import { randArray, rng, withBackend } from "./_helpers.ts";

const SHAPE = [9, 7, 5] as const;

/** Input → Pad2D → `next` → its output, as a model. */
function padThen(pad: Pad2D, next: { apply(t: SymbolicTensor): SymbolicTensor }): Model {
  const x = Input([...SHAPE]);
  return new Model({ inputs: x, outputs: next.apply(pad.apply(x)) });
}

function assertSamePredictions(a: Model, b: Model, what: string): void {
  const r = rng(11);
  const x = tensor(randArray(r, 2 * SHAPE[0] * SHAPE[1] * SHAPE[2], -2, 2), [2, ...SHAPE]);
  for (const be of availableBackends()) {
    const [ya, yb] = withBackend(be, () => [a.predict(x), b.predict(x)]);
    assert.deepEqual(yb.shape, ya.shape, `${what} ${be}: shape`);
    for (let i = 0; i < ya.data.length; i++) {
      const u = ya.data[i]!, v = yb.data[i]!;
      assert.ok(u === v && !Number.isNaN(u), `${what} ${be} [${i}]: ${u} against ${v}`);
    }
  }
}

const kinds = (m: Model) => m.layers.map((l) => l.kind);

Deno.test("fuse folds a zero Pad2D into the convolution, depthwise convolution or counting average pooling that reads it", () => {
  const cases: [string, () => Model, Record<string, unknown>][] = [
    [
      "Conv2D with its own padding",
      () =>
        padThen(
          new Pad2D({ padding: [1, 0, 2, 1] }),
          new Conv2D({ filters: 6, kernelSize: 3, padding: [0, 1, 1, 0], stride: [2, 1] }),
        ),
      { padding: [1, 1, 3, 1] },
    ],
    [
      "DepthwiseConv2D, dilated",
      () =>
        padThen(
          new Pad2D({ padding: 2 }),
          new DepthwiseConv2D({ kernelSize: 3, dilation: 2, depthMultiplier: 2 }),
        ),
      { padding: [2, 2, 2, 2] },
    ],
    [
      "AvgPool2D without padding",
      () => padThen(new Pad2D({ padding: [1, 1] }), new AvgPool2D({ poolSize: 3, stride: 2 })),
      { padding: [1, 1, 1, 1], countIncludePad: true },
    ],
    [
      "AvgPool2D that counts its own padding",
      () =>
        padThen(
          new Pad2D({ padding: [0, 1, 1, 0] }),
          new AvgPool2D({ poolSize: 3, stride: 2, padding: 1, countIncludePad: true }),
        ),
      { padding: [1, 2, 2, 1], countIncludePad: true },
    ],
  ];
  for (const [what, make, want] of cases) {
    const model = make(), fused = fuse(model);
    assert.deepEqual(kinds(fused), [kinds(model)[1]], what);
    const cfg = fused.layers[0]!.config() as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(want)) assert.deepEqual(cfg[k], v, `${what}: ${k}`);
    assert.deepEqual(fused.outputShape, model.outputShape, what);
    assertSamePredictions(model, fused, what);
  }
});

Deno.test("fuse leaves a Pad2D that cannot fold: non-zero, before max pooling, a non-counting average, 'same', read twice, or the output", () => {
  const x = Input([...SHAPE]);
  const two = new Pad2D({ padding: 1 }).apply(x);
  const conv = (p: Conv2D) => p.apply(two);
  const readTwice = new Model({
    inputs: x,
    outputs: new Add().apply([
      conv(new Conv2D({ filters: 5, kernelSize: 3 })),
      conv(new Conv2D({ filters: 5, kernelSize: 3 })),
    ]),
  });
  const cases: [string, Model][] = [
    [
      "value 1",
      padThen(new Pad2D({ padding: 1, value: 1 }), new Conv2D({ filters: 4, kernelSize: 3 })),
    ],
    ["max pooling", padThen(new Pad2D({ padding: 1 }), new MaxPool2D({ poolSize: 2 }))],
    [
      "an average that does not count its padding",
      padThen(new Pad2D({ padding: 1 }), new AvgPool2D({ poolSize: 2, padding: 1 })),
    ],
    [
      "an average that rounds up",
      padThen(new Pad2D({ padding: 1 }), new AvgPool2D({ poolSize: 2, ceilMode: true })),
    ],
    [
      "an average whose padding would hold a whole window",
      padThen(
        new Pad2D({ padding: [0, 1, 0, 0] }),
        new AvgPool2D({ poolSize: 2, padding: 1, countIncludePad: true }),
      ),
    ],
    [
      "a 'same' convolution",
      padThen(
        new Pad2D({ padding: 1 }),
        new Conv2D({ filters: 4, kernelSize: 3, padding: "same" }),
      ),
    ],
    ["read twice", readTwice],
  ];
  for (const [what, model] of cases) {
    const fused = fuse(model);
    assert.ok(kinds(fused).includes("Pad2D"), `${what}: ${kinds(fused)}`);
    assertSamePredictions(model, fused, what);
  }
  // The model's output: nothing reads it but the caller.
  const x1 = Input([...SHAPE]);
  const padOnly = new Model({ inputs: x1, outputs: new Pad2D({ padding: 1 }).apply(x1) });
  assert.deepEqual(kinds(fuse(padOnly)), ["Pad2D"]);
  assertSamePredictions(padOnly, fuse(padOnly), "the model's output");
});

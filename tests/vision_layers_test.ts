/**
 * The layers torchvision's networks brought (broadcasting merges, ScaleShift,
 * ChannelShuffle, ChannelSlice, Upsample2D in every mode, LayerNorm, Gelu,
 * Erf): backward against finite differences on every backend, forward
 * against float64 loops on shapes that are no multiple of any tile, and
 * model files round-tripped.
 */
import assert from "node:assert/strict";
import {
  Add,
  availableBackends,
  ChannelShuffle,
  ChannelSlice,
  Conv2D,
  Divide,
  Erf,
  erf,
  Gelu,
  GlobalAvgPool2D,
  Input,
  type Layer,
  LayerNorm,
  loadModel,
  Model,
  Multiply,
  PReLU,
  saveModel,
  ScaleShift,
  Sequential,
  Sigmoid,
  SiLU,
  Subtract,
  tensor,
  Unary,
  Upsample2D,
} from "../mod.ts";
import { checkGradients } from "../src/testing/mod.ts";
import { randArray, rng, withBackend } from "./_helpers.ts";

const BACKENDS = availableBackends();

function batch(shape: number[], seed: number, lo = -1, hi = 1) {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(randArray(rng(seed), n, lo, hi), shape);
}

Deno.test("element-wise layers (ScaleShift, Gelu both forms, Erf, LayerNorm) pass checkGradients on every backend", () => {
  const layers: [string, () => Layer, number[]][] = [
    ["ScaleShift", () => new ScaleShift({ scale: -1.5, shift: 0.3 }), [2, 5, 3, 7]],
    ["Gelu", () => new Gelu(), [2, 4, 3, 5]],
    ["Gelu tanh", () => new Gelu({ approximate: "tanh" }), [2, 4, 3, 5]],
    ["Erf", () => new Erf(), [3, 11]],
    ["SiLU", () => new SiLU(), [2, 3, 3, 5]],
    ["PReLU", () => new PReLU({ perChannel: true, initial: 0.3 }), [2, 3, 3, 5]],
    ["PReLU shared", () => new PReLU(), [2, 7]],
    ...(["exp", "abs", "softplus", "softsign", "mish", "elu", "selu", "square"] as const).map((
      fn,
    ): [string, () => Layer, number[]] => [fn, () => new Unary({ fn }), [2, 3, 4]]),
    ["elu 0.5", () => new Unary({ fn: "elu", alpha: 0.5 }), [2, 9]],
    ["LayerNorm 4-D", () => new LayerNorm({ epsilon: 1e-6 }), [2, 3, 5, 7]],
    ["LayerNorm 2-D", () => new LayerNorm(), [4, 9]],
    ["ChannelShuffle", () => new ChannelShuffle({ groups: 3 }), [2, 3, 2, 6]],
    ["ChannelSlice", () => new ChannelSlice({ begin: 2, end: 5 }), [2, 3, 4, 7]],
  ];
  for (const [name, make, shape] of layers) {
    // Inputs at least 0.1 from 0, so finite differences (eps 1e-2) never straddle a kink (abs, PReLU).
    const x = batch(shape, 3);
    x.data.forEach((v, i) => (x.data[i] = Math.sign(v) * (0.1 + Math.abs(v))));
    for (const be of BACKENDS) {
      withBackend(be, () => {
        const err = checkGradients(make(), x, { eps: 1e-2, tolerance: 1e-2 });
        assert.ok(err < 1e-2, `${name} on ${be}: ${err}`);
      });
    }
  }
});

Deno.test("Unary's positive-domain functions (log, sqrt, reciprocal) pass checkGradients on positive inputs", () => {
  for (const fn of ["log", "sqrt", "reciprocal"] as const) {
    const err = checkGradients(new Unary({ fn }), batch([2, 3, 4], 8, 0.5, 2), {
      eps: 1e-3,
      tolerance: 1e-2,
    });
    assert.ok(err < 1e-2, `${fn}: ${err}`);
  }
  assert.throws(
    () => new Unary({ fn: "exp", alpha: 2 }),
    /alpha must be absent unless fn is "elu"/,
  );
  assert.throws(() => new Unary({ fn: "cube" as never }), /options\.fn must be one of/);
});

Deno.test("Upsample2D: nearest and bilinear, every coordinate mode and rounding, up and down: gradients on every backend", () => {
  const cases: ConstructorParameters<typeof Upsample2D>[0][] = [
    { scale: 2 },
    { size: [7, 11] },
    { scale: [1.7, 0.6], rounding: "round_prefer_ceil" },
    { size: [5, 9], coordinates: "half_pixel", rounding: "round_prefer_floor" },
    { scale: 3, coordinates: "align_corners", rounding: "ceil" },
    { scale: 2, mode: "bilinear" },
    { size: [7, 3], mode: "bilinear" },
    { scale: 3, mode: "bilinear", alignCorners: true },
    { scale: 0.5, mode: "bilinear", coordinates: "half_pixel" },
    { size: [1, 4], mode: "bilinear", coordinates: "asymmetric" },
  ];
  for (const o of cases) {
    for (const be of BACKENDS) {
      withBackend(be, () => {
        const err = checkGradients(new Upsample2D(o), batch([2, 4, 5, 3], 5), { tolerance: 1e-2 });
        assert.ok(err < 1e-2, `${JSON.stringify(o)} on ${be}: ${err}`);
      });
    }
  }
});

Deno.test("Upsample2D bilinear (half pixel) equals a float64 loop of PyTorch's formula", () => {
  const [h, w, c, oh, ow] = [5, 4, 3, 9, 7];
  const x = batch([1, h, w, c], 9);
  const y = new Sequential([new Upsample2D({ size: [oh, ow], mode: "bilinear" })], [h, w, c])
    .predict(x);
  const src = (n: number, out: number, o: number) => Math.max(0, (o + 0.5) * (n / out) - 0.5);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      const sy = src(h, oh, oy), sx = src(w, ow, ox);
      const y0 = Math.floor(sy), x0 = Math.floor(sx);
      const y1 = Math.min(y0 + 1, h - 1), x1 = Math.min(x0 + 1, w - 1), ly = sy - y0, lx = sx - x0;
      for (let k = 0; k < c; k++) {
        const at = (yy: number, xx: number) => x.data[(yy * w + xx) * c + k]!;
        const want = (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) +
          ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
        const got = y.data[(oy * ow + ox) * c + k]!;
        assert.ok(Math.abs(got - want) < 1e-6, `(${oy}, ${ox}, ${k}): ${got} vs ${want}`);
      }
    }
  }
});

Deno.test("broadcasting Add, Multiply, Subtract, Divide: values against a float64 loop and gradients on every backend", () => {
  const x = Input([5, 3, 6]);
  const pooled = new GlobalAvgPool2D({ keepDims: true }).apply(x); // [1, 1, 6]
  const gate = new Sigmoid().apply(new Conv2D({ filters: 6, kernelSize: 1 }).apply(pooled));
  const row = new Conv2D({ filters: 1, kernelSize: [1, 3] }).apply(x); // [5, 1, 1]
  const a = new Multiply().apply([x, gate]); // [5, 3, 6] × [1, 1, 6]
  const b = new Add().apply([a, row]); // + [5, 1, 1]
  const c = new Subtract().apply([b, pooled]);
  const d = new Divide().apply([c, new ScaleShift({ scale: 1, shift: 1.5 }).apply(gate)]);
  const model = new Model({ inputs: x, outputs: d }, { seed: 2 });
  for (const be of BACKENDS) {
    withBackend(be, () => {
      const err = checkGradients(model, batch([2, 5, 3, 6], 4), { tolerance: 1e-2 });
      assert.ok(err < 1e-2, `${be}: ${err}`);
    });
  }
  // Values: [h, 1, c] × [1, w, 1] against a loop.
  const p = Input([4, 1, 3]);
  const two = new Multiply().apply([p, new GlobalAvgPool2D({ keepDims: true }).apply(p)]);
  const m2 = new Model({ inputs: p, outputs: two });
  const xin = batch([2, 4, 1, 3], 6);
  const got = m2.predict(xin).data;
  for (let n = 0; n < 2; n++) {
    for (let k = 0; k < 3; k++) {
      let mean = 0;
      for (let i = 0; i < 4; i++) mean += xin.data[n * 12 + i * 3 + k]!;
      mean /= 4;
      for (let i = 0; i < 4; i++) {
        const at = n * 12 + i * 3 + k;
        assert.ok(Math.abs(got[at]! - xin.data[at]! * mean) < 1e-6);
      }
    }
  }
  assert.throws(
    () => new Add().apply([Input([4, 3, 2]), Input([4, 2, 2])]),
    /needs shapes that broadcast/,
  );
  assert.throws(() => new Subtract().apply([x, x, x]), /takes two inputs/);
});

Deno.test("erf matches known values to 2e-7; Gelu equals x·Φ(x)", () => {
  const known: [number, number][] = [[0, 0], [0.5, 0.5204998778], [1, 0.8427007929], [
    2,
    0.9953222650,
  ], [
    -1.5,
    -0.9661051465,
  ], [4, 0.9999999846]];
  for (const [x, v] of known) assert.ok(Math.abs(erf(x) - v) < 2e-7, `erf(${x}) = ${erf(x)}`);
  assert.ok(Number.isNaN(erf(NaN)));
  assert.equal(erf(Infinity), 1);
  const y = new Sequential([new Gelu()], [3]).predict(tensor([-1, 0, 2], [1, 3])).data;
  [-0.15865525, 0, 1.95449974].forEach((v, i) =>
    assert.ok(Math.abs(y[i]! - v) < 1e-6, `${y[i]} vs ${v}`)
  );
});

Deno.test("a model with every new layer saves and loads bit-identically", () => {
  const x = Input([6, 5, 4]);
  const up = new Upsample2D({ size: [9, 7], mode: "bilinear" }).apply(x);
  const ln = new LayerNorm({ epsilon: 1e-6 }).apply(new Gelu({ approximate: "tanh" }).apply(up));
  const sh = new ChannelShuffle({ groups: 2 }).apply(ln);
  const sl = new ChannelSlice({ begin: 1, end: 3 }).apply(new SiLU().apply(new Erf().apply(sh)));
  const out = new Divide().apply([
    new Subtract().apply([sl, new ScaleShift({ scale: 2 }).apply(sl)]),
    new ScaleShift({ shift: 3 }).apply(
      new GlobalAvgPool2D({ keepDims: true }).apply(new Sigmoid().apply(sl)),
    ),
  ]);
  const model = new Model({ inputs: x, outputs: new Upsample2D({ scale: [0.5, 1] }).apply(out) });
  for (const p of model.params()) p.value.set(randArray(rng(p.value.length), p.value.length));
  const back = loadModel(saveModel(model));
  const xin = batch([2, 6, 5, 4], 7);
  assert.deepEqual(back.predict(xin).data, model.predict(xin).data);
  assert.deepEqual(back.config(), model.config());
});

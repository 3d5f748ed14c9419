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
  InstanceNorm,
  type Layer,
  LayerNorm,
  loadModel,
  LocalResponseNorm,
  Model,
  Multiply,
  PReLU,
  ReduceChannels,
  Reshape,
  saveModel,
  ScaleShift,
  Sequential,
  Sigmoid,
  SiLU,
  Subtract,
  type Tensor,
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
    ["InstanceNorm", () => new InstanceNorm(), [2, 3, 5, 7]],
    ["LRN 5", () => new LocalResponseNorm({ size: 5, alpha: 0.5, beta: 0.75, bias: 1 }), [
      2,
      3,
      2,
      7,
    ]],
    ["LRN 4", () => new LocalResponseNorm({ size: 4, alpha: 0.3, beta: 0.6, bias: 2 }), [3, 6]],
    ["ReduceChannels mean", () => new ReduceChannels(), [2, 3, 4, 5]],
    ["ReduceChannels sum", () => new ReduceChannels({ op: "sum" }), [2, 3, 4, 5]],
    ["Reshape", () => new Reshape({ shape: [5, 1, 3] }), [2, 15]],
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

Deno.test("ReduceChannels max passes checkGradients where the maximum is clear of the rest", () => {
  // Channel values at least 0.1 apart (the finite differences step 1e-2), in shuffled order.
  const x = batch([2, 3, 4, 5], 11);
  for (let r = 0; r < x.data.length / 5; r++) {
    for (let c = 0; c < 5; c++) {
      x.data[r * 5 + c] = ((c * 3 + r) % 5) * 0.2 - 0.4 + x.data[r * 5 + c]! * 0.01;
    }
  }
  for (const be of BACKENDS) {
    withBackend(be, () => {
      const err = checkGradients(new ReduceChannels({ op: "max" }), x, {
        eps: 1e-2,
        tolerance: 1e-2,
      });
      assert.ok(err < 1e-2, `on ${be}: ${err}`);
    });
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

/** NumPy's broadcast of two batched NHWC-like arrays, by a float64 loop over the output's indices. */
function broadcastOracle(
  a: Tensor,
  c: Tensor,
  out: number[],
  f: (a: number, c: number) => number,
): Float32Array {
  const rank = out.length, size = out.reduce((p, q) => p * q, 1);
  const offset = (t: Tensor, idx: number[]) => {
    const s = t.shape.slice(1), pad = rank - s.length;
    let o = 0;
    for (let k = 0; k < s.length; k++) o = o * s[k]! + (s[k] === 1 ? 0 : idx[k + pad]!);
    return o;
  };
  const sa = a.data.length / a.shape[0]!, sc = c.data.length / c.shape[0]!;
  const y = new Float32Array(a.shape[0]! * size);
  for (let n = 0; n < a.shape[0]!; n++) {
    for (let i = 0; i < size; i++) {
      const idx: number[] = [];
      for (let k = rank - 1, r = i; k >= 0; k--) {
        idx[k] = r % out[k]!;
        r = Math.floor(r / out[k]!);
      }
      y[n * size + i] = f(a.data[n * sa + offset(a, idx)]!, c.data[n * sc + offset(c, idx)]!);
    }
  }
  return y;
}

Deno.test("Subtract, Divide and Multiply read each broadcast form right (equal, whole repeat, index table; either side), bit for bit", () => {
  const out = [4, 5, 3];
  const shapes: [number[], number[]][] = [
    [[4, 5, 3], [4, 5, 3]], // equal
    [[4, 5, 3], [1, 1, 3]], // the second repeats whole
    [[5, 3], [4, 5, 3]], // the first repeats whole
    [[4, 5, 3], [4, 1, 1]], // an index table
    [[4, 1, 3], [1, 5, 1]], // both broadcast
    [[1, 5, 3], [4, 1, 1]], // a whole repeat against a table
  ];
  const ops: [string, () => Subtract | Divide | Multiply, (a: number, c: number) => number][] = [
    ["Subtract", () => new Subtract(), (a, c) => a - c],
    ["Divide", () => new Divide(), (a, c) => a / c],
    ["Multiply", () => new Multiply(), (a, c) => a * c],
  ];
  shapes.forEach(([sa, sc], k) => {
    for (const [name, make, f] of ops) {
      const layer = make();
      layer.apply([Input(sa), Input(sc)]);
      const a = batch([2, ...sa], 20 + k), c = batch([2, ...sc], 40 + k, 0.5, 2);
      const got = layer.forward([a, c]);
      assert.deepEqual(got.shape, [2, ...out]);
      assert.deepEqual(got.data, broadcastOracle(a, c, out, f), `${name} of [${sa}] and [${sc}]`);
    }
  });
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
  const norms = new ReduceChannels({ op: "max" }).apply(
    new LocalResponseNorm({ size: 3 }).apply(new InstanceNorm().apply(out)),
  );
  // [h, w, 1] → [h·w] → [1, 1, h·w] → a per-channel gate for a map of h·w channels.
  const gate = new Reshape({ shape: [1, 1, 6] }).apply(
    new Reshape({ shape: [6] }).apply(new Upsample2D({ size: [3, 2] }).apply(norms)),
  );
  const wide = new Conv2D({ filters: 6, kernelSize: 1 }).apply(out);
  const model = new Model({
    inputs: x,
    outputs: new Multiply().apply([new Upsample2D({ scale: [0.5, 1] }).apply(wide), gate]),
  });
  for (const p of model.params()) p.value.set(randArray(rng(p.value.length), p.value.length));
  const back = loadModel(saveModel(model));
  const xin = batch([2, 6, 5, 4], 7);
  assert.deepEqual(back.predict(xin).data, model.predict(xin).data);
  assert.deepEqual(back.config(), model.config());
});

Deno.test("InstanceNorm, LocalResponseNorm and ReduceChannels equal float64 loops of their definitions", () => {
  const [N, H, W, C] = [2, 3, 5, 7], x = batch([N, H, W, C], 21, -2, 2);
  const inorm = new InstanceNorm({ epsilon: 1e-3 });
  const m1 = new Sequential([inorm], [H, W, C]);
  const [g, b] = m1.params();
  g!.value.set(randArray(rng(1), C, 0.5, 1.5));
  b!.value.set(randArray(rng(2), C, -0.5, 0.5));
  const y1 = m1.predict(x).data;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const at = (p: number) => (n * H * W + p) * C + c;
      let mean = 0, v = 0;
      for (let p = 0; p < H * W; p++) mean += x.data[at(p)]!;
      mean /= H * W;
      for (let p = 0; p < H * W; p++) v += (x.data[at(p)]! - mean) ** 2;
      const s = 1 / Math.sqrt(v / (H * W) + 1e-3);
      for (let p = 0; p < H * W; p++) {
        const want = g!.value[c]! * (x.data[at(p)]! - mean) * s + b!.value[c]!;
        assert.ok(Math.abs(y1[at(p)]! - want) < 1e-5, `InstanceNorm ${n},${c},${p}`);
      }
    }
  }
  for (const size of [1, 2, 3, 4, 5, 8]) {
    const lrn = new LocalResponseNorm({ size, alpha: 0.4, beta: 0.7, bias: 1.5 });
    const y = new Sequential([lrn], [H, W, C]).predict(x).data;
    const lo = Math.floor((size - 1) / 2), hi = Math.ceil((size - 1) / 2);
    for (let r = 0; r < N * H * W; r++) {
      for (let c = 0; c < C; c++) {
        let sum = 0;
        for (let j = Math.max(0, c - lo); j <= Math.min(C - 1, c + hi); j++) {
          sum += x.data[r * C + j]! ** 2;
        }
        const want = x.data[r * C + c]! / (1.5 + 0.4 / size * sum) ** 0.7;
        assert.ok(Math.abs(y[r * C + c]! - want) < 1e-5, `LRN ${size} at ${r},${c}`);
      }
    }
  }
  for (const op of ["mean", "max", "sum"] as const) {
    const y = new Sequential([new ReduceChannels({ op })], [H, W, C]).predict(x);
    assert.deepEqual(y.shape, [N, H, W, 1]);
    for (let r = 0; r < N * H * W; r++) {
      const row = [...x.data.subarray(r * C, r * C + C)];
      const sum = row.reduce((p, q) => p + q, 0);
      const want = op === "max" ? Math.max(...row) : op === "sum" ? sum : sum / C;
      assert.ok(Math.abs(y.data[r]! - want) < 1e-5, `${op} at ${r}`);
    }
  }
  // A NaN among the channels is the maximum's too.
  const nan = tensor([1, NaN, 3], [1, 1, 1, 3]);
  assert.ok(
    Number.isNaN(
      new Sequential([new ReduceChannels({ op: "max" })], [1, 1, 3]).predict(nan).data[0]!,
    ),
  );
});

Deno.test("Reshape keeps the values and refuses a size that does not match, naming the option", () => {
  const x = batch([2, 12], 4);
  const y = new Sequential([new Reshape({ shape: [2, 2, 3] })], [12]).predict(x);
  assert.deepEqual(y.shape, [2, 2, 2, 3]);
  assert.deepEqual(y.data, x.data);
  assert.throws(() => new Sequential([new Reshape({ shape: [5] })], [12]), /options\.shape/);
  assert.throws(() => new Reshape({ shape: [0, 2] }), RangeError);
  assert.throws(() => new Reshape({} as never), /options\.shape/);
  assert.throws(() => new LocalResponseNorm({ size: 3, bias: 0 }), /options\.bias/);
  assert.throws(() => new ReduceChannels({ op: "min" as never }), /options\.op/);
  assert.throws(() => new Sequential([new InstanceNorm()], [12]), /\[h, w, c\]/);
});

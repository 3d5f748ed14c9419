/** One test per bad-input rule: the error type, and a message naming the function and argument. */
import assert from "node:assert/strict";
import {
  convBackward,
  convForward,
  convSingleStep,
  convTransposeForward,
  createMaskFromWindow,
  distributeValue,
  poolBackward,
  poolForward,
  type PoolMode,
  type Tensor,
  tensor,
  zeroPad,
} from "../mod.ts";

const x = tensor(new Float32Array(2 * 5 * 5 * 3), [2, 5, 5, 3]);
const w = tensor(new Float32Array(3 * 3 * 3 * 4), [3, 3, 3, 4]);
const b = new Float32Array(4);
const hp = { stride: 1, pad: 1 };

/** Asserts that `fn` throws `Kind` with a message containing every fragment. */
function throwsWith(fn: () => unknown, Kind: ErrorConstructor, ...fragments: string[]) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Kind, `expected ${Kind.name}, got ${e}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" lacks "${f}"`);
    return true;
  });
}

const fake = (shape: number[], n = shape.reduce((p, v) => p * v, 1)): Tensor => ({
  shape,
  data: new Float32Array(n),
});

Deno.test("rank other than 4 is a RangeError naming the argument", () => {
  throwsWith(
    () => convForward(fake([5, 5, 3]), w, b, hp),
    RangeError,
    "convForward",
    "aPrev.shape",
    "rank 4",
  );
  throwsWith(() => convForward(x, fake([3, 3, 3]), b, hp), RangeError, "convForward", "w.shape");
  throwsWith(
    () => poolForward(fake([1, 2, 2, 1, 1]), { f: 1, stride: 1 }),
    RangeError,
    "poolForward",
    "aPrev.shape",
  );
  throwsWith(() => zeroPad(fake([4, 4]), 1), RangeError, "zeroPad", "x.shape");
});

Deno.test("data length other than the product of the shape is a RangeError", () => {
  throwsWith(() => tensor([1, 2, 3], [2, 2]), RangeError, "tensor", "data has 3 values", "needs 4");
  throwsWith(
    () => convForward(fake([1, 2, 2, 1], 5), w, b, hp),
    RangeError,
    "convForward",
    "aPrev.data.length",
    "4",
    "5",
  );
  throwsWith(
    () => poolForward(fake([1, 2, 2, 1], 3), { f: 1, stride: 1 }),
    RangeError,
    "poolForward",
    "aPrev.data.length",
  );
});

Deno.test("shapes must hold positive integers; tensors need typed data", () => {
  throwsWith(() => tensor([], [2, -1]), RangeError, "tensor", "shape[1]", "-1");
  throwsWith(() => tensor([1], [1.5]), RangeError, "tensor", "shape[0]");
  throwsWith(() => tensor(null as unknown as number[], [1]), TypeError, "tensor", "data");
  throwsWith(
    () => convForward(fake([1, 0, 2, 3]), w, b, hp),
    RangeError,
    "aPrev.shape[1]",
    "positive integer",
    "0",
  );
  throwsWith(
    () =>
      convForward({ shape: [1, 1, 1, 3], data: [1, 2, 3] as unknown as Float32Array }, w, b, hp),
    TypeError,
    "aPrev.data",
    "Float32Array",
  );
  throwsWith(
    () => convForward(null as unknown as Tensor, w, b, hp),
    TypeError,
    "convForward",
    "aPrev",
    "null",
  );
});

Deno.test("stride and f must be positive integers", () => {
  for (const s of [0, -1, 1.5]) {
    throwsWith(
      () => convForward(x, w, b, { stride: s, pad: 0 }),
      RangeError,
      "convForward",
      "hp.stride",
      String(s),
    );
    throwsWith(
      () => poolForward(x, { f: 2, stride: s }),
      RangeError,
      "poolForward",
      "hp.stride",
      String(s),
    );
    throwsWith(
      () => poolForward(x, { f: s, stride: 1 }),
      RangeError,
      "poolForward",
      "hp.f",
      String(s),
    );
  }
  throwsWith(
    () => convForward(x, w, b, { stride: "2", pad: 0 } as unknown as typeof hp),
    TypeError,
    "hp.stride",
  );
  throwsWith(
    () => convForward(x, w, b, null as unknown as typeof hp),
    TypeError,
    "convForward",
    "hp",
  );
  // Every hyper-parameter is optional: no hp means stride 1, no padding.
  assert.deepEqual(
    convForward(x, w, b).z.shape,
    convForward(x, w, b, { stride: 1, pad: 0 }).z.shape,
  );
});

Deno.test("pad must be a non-negative integer", () => {
  for (const p of [-1, 0.5]) {
    throwsWith(
      () => convForward(x, w, b, { stride: 1, pad: p }),
      RangeError,
      "convForward",
      "hp.pad",
      String(p),
    );
    throwsWith(() => zeroPad(x, p), RangeError, "zeroPad", "pad", String(p));
  }
});

Deno.test("NaN and Infinity in hyper-parameters are rejected", () => {
  for (const v of [NaN, Infinity, -Infinity]) {
    throwsWith(
      () => convForward(x, w, b, { stride: v, pad: 0 }),
      RangeError,
      "hp.stride",
      String(v),
    );
    throwsWith(() => convForward(x, w, b, { stride: 1, pad: v }), RangeError, "hp.pad", String(v));
    throwsWith(() => poolForward(x, { f: v, stride: 1 }), RangeError, "hp.f", String(v));
    throwsWith(
      () => convSingleStep(new Float32Array(1), new Float32Array(1), v),
      RangeError,
      "convSingleStep",
      "b",
    );
    throwsWith(() => distributeValue(v, [2, 2]), RangeError, "distributeValue", "dz");
  }
});

Deno.test("a filter larger than the padded input is a RangeError", () => {
  const big = tensor(new Float32Array(7 * 7 * 3 * 4), [7, 7, 3, 4]);
  throwsWith(
    () => convForward(x, big, b, { stride: 1, pad: 0 }),
    RangeError,
    "convForward",
    "f = 7",
    "5×5",
  );
  throwsWith(() => poolForward(x, { f: 6, stride: 1 }), RangeError, "poolForward", "hp.f", "6");
  // Padding makes room: 5 + 2·1 = 7 fits.
  assert.deepEqual(convForward(x, big, b, { stride: 1, pad: 1 }).z.shape, [2, 1, 1, 4]);
});

Deno.test("a channel mismatch between aPrev and w is a RangeError", () => {
  const w1 = tensor(new Float32Array(3 * 3 * 1 * 4), [3, 3, 1, 4]);
  throwsWith(
    () => convForward(x, w1, b, hp),
    RangeError,
    "convForward",
    "w.shape[2]",
    "3",
    "got 1",
  );
  // Non-square filters are allowed: [fH, fW] = [3, 2].
  const rect = tensor(new Float32Array(3 * 2 * 3 * 4), [3, 2, 3, 4]);
  assert.deepEqual(convForward(x, rect, b, { stride: 1, pad: 0 }).z.shape, [2, 3, 4, 4]);
});

Deno.test("b must be a Float32Array of length cOut", () => {
  throwsWith(
    () => convForward(x, w, new Float32Array(3), hp),
    RangeError,
    "convForward",
    "b.length",
    "4",
    "got 3",
  );
  throwsWith(
    () => convForward(x, w, [0, 0, 0, 0] as unknown as Float32Array, hp),
    TypeError,
    "convForward",
    "b",
  );
});

Deno.test("dZ / dA shaped unlike the forward output is a RangeError", () => {
  const { z, cache } = convForward(x, w, b, hp);
  throwsWith(
    () => convBackward(fake([2, 5, 5, 3]), cache),
    RangeError,
    "convBackward",
    "dZ.shape",
    "[2, 5, 5, 4]",
  );
  throwsWith(() => convBackward(fake([2, 5, 5]), cache), RangeError, "convBackward", "dZ.shape");
  assert.deepEqual(convBackward(tensor(z.data, z.shape), cache).dW.shape, [3, 3, 3, 4]);
  const p = poolForward(x, { f: 2, stride: 2 });
  throwsWith(
    () => poolBackward(fake([2, 3, 3, 3]), p.cache),
    RangeError,
    "poolBackward",
    "dA.shape",
    "[2, 2, 2, 3]",
  );
  throwsWith(
    () => convBackward(z, null as unknown as typeof cache),
    TypeError,
    "convBackward",
    "cache",
  );
});

Deno.test("an unknown pooling mode is rejected", () => {
  throwsWith(
    () => poolForward(x, { f: 2, stride: 2 }, "min" as PoolMode),
    RangeError,
    "poolForward",
    "mode",
    '"min"',
  );
  const p = poolForward(x, { f: 2, stride: 2 });
  throwsWith(
    () => poolBackward(p.a, p.cache, "mean" as PoolMode),
    RangeError,
    "poolBackward",
    "mode",
    '"mean"',
  );
  throwsWith(
    () => poolForward(x, { f: 2, stride: 2 }, 3 as unknown as PoolMode),
    TypeError,
    "poolForward",
    "mode",
  );
});

Deno.test("the seed helpers validate their arguments", () => {
  throwsWith(
    () => convSingleStep(new Float32Array(2), new Float32Array(3), 0),
    RangeError,
    "convSingleStep",
    "w.length",
    "2",
  );
  throwsWith(
    () => convSingleStep(new Float32Array(0), new Float32Array(0), 0),
    RangeError,
    "slice.length",
  );
  throwsWith(
    () => createMaskFromWindow(new Float32Array(0)),
    RangeError,
    "createMaskFromWindow",
    "x.length",
  );
  throwsWith(
    () => createMaskFromWindow([1, 2] as unknown as Float32Array),
    TypeError,
    "createMaskFromWindow",
    "x",
  );
  throwsWith(() => distributeValue(1, [2, 0]), RangeError, "distributeValue", "shape[1]");
  throwsWith(
    () => distributeValue(1, [2] as unknown as [number, number]),
    RangeError,
    "distributeValue",
    "shape",
  );
});

Deno.test("outputs too large to allocate are refused before allocating", () => {
  throwsWith(() => distributeValue(1, [2 ** 31, 1]), RangeError, "distributeValue", "the window");
  throwsWith(() => zeroPad(x, 1e5), RangeError, "zeroPad", "the output", "elements");
  throwsWith(
    () => convForward(x, w, b, { stride: 1, pad: 1e5 }),
    RangeError,
    "convForward",
    "the output",
  );
  // A huge pad with a huge stride gives a small output, but the padded input would not fit.
  throwsWith(
    () => convForward(x, w, b, { stride: 1e9, pad: 2 ** 31 }),
    RangeError,
    "convForward",
    "the zero-padded input",
  );
});

Deno.test("general geometry: each wrong hyper-parameter is a typed error naming it", () => {
  const x4 = tensor(new Float32Array(1 * 6 * 6 * 4), [1, 6, 6, 4]);
  const w4 = tensor(new Float32Array(3 * 3 * 2 * 6), [3, 3, 2, 6]);
  const b6 = new Float32Array(6);
  // groups not dividing the channels
  throwsWith(
    () => convForward(x4, w4, b6, { groups: 3 }),
    RangeError,
    "hp.groups",
    "must divide the 4 input channels",
    "got 3",
  );
  throwsWith(
    () =>
      convForward(x4, tensor(new Float32Array(9 * 2 * 5), [3, 3, 2, 5]), new Float32Array(5), {
        groups: 2,
      }),
    RangeError,
    "hp.groups",
    "5 output channels",
  );
  throwsWith(
    () => convForward(x4, w4, b6, { groups: 1 }),
    RangeError,
    "w.shape[2]",
    "must equal aPrev.shape[3] = 4, got 2",
  );
  throwsWith(
    () => convForward(x4, w4, b6, { groups: 0 }),
    RangeError,
    "hp.groups",
    "positive integer",
  );
  // dilation 0, negative, fractional, wrong length, wrong type
  for (const d of [0, -1, 1.5]) {
    throwsWith(
      () => convForward(x4, w4, b6, { groups: 2, dilation: d }),
      RangeError,
      "hp.dilation",
      String(d),
    );
    throwsWith(() => poolForward(x4, { f: 2, dilation: d }), RangeError, "hp.dilation", String(d));
  }
  throwsWith(
    () => convForward(x4, w4, b6, { groups: 2, dilation: [1, 0] }),
    RangeError,
    "hp.dilation[1]",
    "got 0",
  );
  throwsWith(
    () => convForward(x4, w4, b6, { groups: 2, dilation: [1, 1, 1] as never }),
    RangeError,
    "hp.dilation",
    "2 numbers",
  );
  throwsWith(
    () => convForward(x4, w4, b6, { groups: 2, stride: "2" as never }),
    TypeError,
    "hp.stride",
  );
  // padding tuples of the wrong length, negative entries, unknown strings
  throwsWith(
    () => convForward(x4, w4, b6, { groups: 2, pad: [1, 1, 1] as never }),
    RangeError,
    "hp.pad",
    "2 or 4 numbers",
  );
  throwsWith(
    () => convForward(x4, w4, b6, { groups: 2, pad: [1, -1] }),
    RangeError,
    "hp.pad[1]",
    "-1",
  );
  throwsWith(
    () => convForward(x4, w4, b6, { groups: 2, pad: "full" as never }),
    RangeError,
    "hp.pad",
    '"full"',
  );
  throwsWith(() => poolForward(x4, { f: 2, pad: [0, 0, 0, 0, 0] as never }), RangeError, "hp.pad");
  throwsWith(() => poolForward(x4, { f: 2, ceilMode: "yes" as never }), TypeError, "hp.ceilMode");
  // a (dilated) window larger than the padded input
  throwsWith(
    () => convForward(x4, w4, b6, { groups: 2, dilation: 3 }),
    RangeError,
    "convForward",
    "7×7 with dilation",
    "6×6",
  );
  throwsWith(() => poolForward(x4, { f: [7, 2] }), RangeError, "hp.f", "[7, 2]", "height 6");
  throwsWith(() => poolForward(x4, { f: 3, dilation: 3 }), RangeError, "hp.f", "dilated to 7×7");
  // a pooling window wholly in the padding
  throwsWith(
    () => poolForward(x4, { f: 2, pad: [2, 0, 0, 0] }),
    RangeError,
    "poolForward",
    "wholly in the padding",
  );
  // transposed convolution: outputPadding ≥ stride, channels, and a padding that removes everything
  const xt = tensor(new Float32Array(1 * 3 * 3 * 2), [1, 3, 3, 2]);
  const wt = tensor(new Float32Array(2 * 2 * 4 * 2), [2, 2, 4, 2]);
  throwsWith(
    () => convTransposeForward(xt, wt, new Float32Array(4), { stride: 2, outputPadding: 2 }),
    RangeError,
    "hp.outputPadding",
    "less than hp.stride",
  );
  throwsWith(
    () => convTransposeForward(xt, wt, new Float32Array(4), { outputPadding: [0, 1] }),
    RangeError,
    "hp.outputPadding",
  );
  throwsWith(
    () => convTransposeForward(xt, tensor(new Float32Array(16), [2, 2, 4, 1]), new Float32Array(4)),
    RangeError,
    "w.shape[3]",
    "x.shape[3] = 2",
  );
  throwsWith(() => convTransposeForward(xt, wt, new Float32Array(3)), RangeError, "b.length", "4");
  throwsWith(
    () => convTransposeForward(xt, wt, new Float32Array(4), { pad: 3 }),
    RangeError,
    "the output would be",
  );
  throwsWith(
    () => convTransposeForward(xt, wt, new Float32Array(12), { groups: 3 }),
    RangeError,
    "hp.groups",
    "must divide",
  );
});

/** Small cases worked out by hand, one or more per public function. */
import assert from "node:assert/strict";
import {
  convBackward,
  convForward,
  convSingleStep,
  createMaskFromWindow,
  distributeValue,
  poolBackward,
  poolForward,
  sizeOf,
  tensor,
  zeroPad,
} from "../mod.ts";

Deno.test("tensor keeps a Float32Array, copies other array-likes, freezes the shape", () => {
  const data = new Float32Array([1, 2, 3, 4, 5, 6]);
  const t = tensor(data, [2, 3]);
  assert.equal(t.data, data);
  assert.deepEqual(t.shape, [2, 3]);
  assert.ok(Object.isFrozen(t.shape));
  const u = tensor([1, 2], [2]);
  assert.ok(u.data instanceof Float32Array);
  assert.deepEqual([...u.data], [1, 2]);
  assert.equal(sizeOf([2, 3, 4]), 24);
  assert.equal(sizeOf([]), 1);
});

Deno.test("zeroPad adds zeros around height and width only", () => {
  // x = [[1, 2], [3, 4]] as one image with one channel, padded by 1:
  // 0 0 0 0 / 0 1 2 0 / 0 3 4 0 / 0 0 0 0
  const y = zeroPad(tensor([1, 2, 3, 4], [1, 2, 2, 1]), 1);
  assert.deepEqual(y.shape, [1, 4, 4, 1]);
  assert.deepEqual([...y.data], [0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0]);
  // Two channels stay interleaved: pixel (1,1) of the padded 3x3 holds [5, 6].
  const z = zeroPad(tensor([5, 6], [1, 1, 1, 2]), 1);
  assert.deepEqual(z.shape, [1, 3, 3, 2]);
  assert.deepEqual([...z.data.subarray(8, 10)], [5, 6]);
  assert.equal(z.data.reduce((s, v) => s + v, 0), 11);
  // pad = 0 copies.
  const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
  const c = zeroPad(x, 0);
  assert.deepEqual([...c.data], [1, 2, 3, 4]);
  assert.notEqual(c.data, x.data);
});

Deno.test("convSingleStep sums products and adds the bias", () => {
  // 1·4 + 2·5 + 3·6 = 32, plus 1.
  assert.equal(convSingleStep(new Float32Array([1, 2, 3]), new Float32Array([4, 5, 6]), 1), 33);
  assert.equal(convSingleStep(new Float32Array([-2]), new Float32Array([0.5]), 0), -1);
});

Deno.test("convForward, 3x3 input, 2x2 filter, stride 1, pad 0", () => {
  // x = 1 2 3 / 4 5 6 / 7 8 9, w = 1 0 / 0 -1 (top-left minus bottom-right), b = 10.
  // Each output is x[r][c] - x[r+1][c+1] + 10 = -4 + 10 = 6.
  const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
  const w = tensor([1, 0, 0, -1], [2, 2, 1, 1]);
  const { z } = convForward(x, w, new Float32Array([10]), { stride: 1, pad: 0 });
  assert.deepEqual(z.shape, [1, 2, 2, 1]);
  assert.deepEqual([...z.data], [6, 6, 6, 6]);
});

Deno.test("convForward, stride 2 with pad 1 and two filters", () => {
  // x = 1 2 3 / 4 5 6 / 7 8 9 padded to 5x5; 3x3 windows at rows/cols 0 and 2.
  // Filter 0 is all ones (window sums), filter 1 picks the window centre.
  // Window (0,0) covers x rows 0-1, cols 0-1: 1+2+4+5 = 12; centre = x[0][0] = 1.
  // Window (0,1) covers rows 0-1, cols 1-2: 2+3+5+6 = 16; centre = 3.
  // Window (1,0): rows 1-2, cols 0-1: 4+5+7+8 = 24; centre = 7.
  // Window (1,1): rows 1-2, cols 1-2: 5+6+8+9 = 28; centre = 9.
  const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
  const wData = new Float32Array(9 * 2);
  for (let k = 0; k < 9; k++) wData[k * 2] = 1;
  wData[4 * 2 + 1] = 1;
  const { z } = convForward(x, tensor(wData, [3, 3, 1, 2]), new Float32Array([0, 0]), {
    stride: 2,
    pad: 1,
  });
  assert.deepEqual(z.shape, [1, 2, 2, 2]);
  assert.deepEqual([...z.data], [12, 1, 16, 3, 24, 7, 28, 9]);
});

Deno.test("convBackward, stride 2: windows start at h·stride (the seed used h)", () => {
  // x is 1x4x4x1, w is 2x2 of ones, stride 2, pad 0: four disjoint windows.
  // With dZ = [1, 2, 3, 4], each input pixel gets the dZ of the one window that covers it,
  // so dA is the 2x2 blocks 1 1 2 2 / 1 1 2 2 / 3 3 4 4 / 3 3 4 4.
  // The seed's stride-1 windows would instead overlap at the top-left 3x3 and leave the
  // last row and column at 0.
  const x = tensor(Float32Array.from({ length: 16 }, (_, i) => i), [1, 4, 4, 1]);
  const w = tensor([1, 1, 1, 1], [2, 2, 1, 1]);
  const { cache } = convForward(x, w, new Float32Array([0]), { stride: 2, pad: 0 });
  const { dAPrev, dW, db } = convBackward(tensor([1, 2, 3, 4], [1, 2, 2, 1]), cache);
  assert.deepEqual([...dAPrev.data], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  // dW[a][b] = Σ dZ[h][q] · x[2h + a][2q + b]; x[r][c] = 4r + c.
  // dW[0][0] = 1·0 + 2·2 + 3·8 + 4·10 = 68; each step of b adds Σ dZ = 10, each step of a 40.
  assert.deepEqual([...dW.data], [68, 78, 108, 118]);
  assert.deepEqual([...db], [10]);
});

Deno.test("convBackward with pad 0 returns the whole input gradient (the seed's [pad:-pad] was empty)", () => {
  // 1x2x2x1 input, 2x2 filter 1 2 / 3 4, one output; dZ = 1 so dA = w.
  const x = tensor([1, 1, 1, 1], [1, 2, 2, 1]);
  const w = tensor([1, 2, 3, 4], [2, 2, 1, 1]);
  const { cache } = convForward(x, w, new Float32Array([0]), { stride: 1, pad: 0 });
  const { dAPrev } = convBackward(tensor([1], [1, 1, 1, 1]), cache);
  assert.deepEqual([...dAPrev.data], [1, 2, 3, 4]);
});

Deno.test("convBackward with pad 1 strips the padding", () => {
  // 1x1 input, 3x3 filter, pad 1: one output whose window has x at its centre.
  // dA = w[1][1] · dZ = 5 · 2 = 10; dW is x · dZ at the centre and 0 elsewhere.
  const x = tensor([3], [1, 1, 1, 1]);
  const w = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3, 1, 1]);
  const { z, cache } = convForward(x, w, new Float32Array([0]), { stride: 1, pad: 1 });
  assert.deepEqual([...z.data], [15]);
  const { dAPrev, dW } = convBackward(tensor([2], [1, 1, 1, 1]), cache);
  assert.deepEqual([...dAPrev.data], [10]);
  assert.deepEqual([...dW.data], [0, 0, 0, 0, 6, 0, 0, 0, 0]);
});

Deno.test("poolForward max and average, stride 1 windows overlap", () => {
  // x = 1 2 3 / 4 5 6 / 7 8 9, f 2, stride 1: maxima 5 6 8 9, means 3 4 6 7.
  const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
  assert.deepEqual([...poolForward(x, { f: 2, stride: 1 }).a.data], [5, 6, 8, 9]);
  assert.deepEqual([...poolForward(x, { f: 2, stride: 1 }, "average").a.data], [3, 4, 6, 7]);
  // stride > f skips pixels: f 1, stride 2 picks x[0][0], x[0][2], x[2][0], x[2][2].
  assert.deepEqual([...poolForward(x, { f: 1, stride: 2 }).a.data], [1, 3, 7, 9]);
});

Deno.test("poolBackward accumulates where windows overlap (= and += differ)", () => {
  // Max, f 2, stride 1 over 1 2 3 / 4 5 6 / 7 8 9: the maxima are at 5, 6, 8, 9.
  // Each window's upstream gradient is 1, so 5, 6, 8, 9 each receive 1 once.
  // Use x with a single peak instead, so every window picks the centre:
  // 0 0 0 / 0 9 0 / 0 0 0: all four windows route to the centre, which gets 1+2+3+4 = 10.
  // (The seed's "=" would keep only the last window's 4.)
  const x = tensor([0, 0, 0, 0, 9, 0, 0, 0, 0], [1, 3, 3, 1]);
  const { cache } = poolForward(x, { f: 2, stride: 1 });
  const dA = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
  assert.deepEqual([...poolBackward(dA, cache).data], [0, 0, 0, 0, 10, 0, 0, 0, 0]);
  // Average: each window spreads its gradient / 4; the centre is in all four windows:
  // (1+2+3+4)/4 = 2.5; corners get one window each; edges two.
  const avg = poolBackward(dA, cache, "average").data;
  assert.deepEqual([...avg], [0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1]);
});

Deno.test("poolBackward max routes a tie to the first maximum only", () => {
  // One 2x2 window of equal values: the seed's mask would give all four the gradient (4x).
  const x = tensor([7, 7, 7, 7], [1, 2, 2, 1]);
  const { cache } = poolForward(x, { f: 2, stride: 2 });
  assert.deepEqual([...poolBackward(tensor([3], [1, 1, 1, 1]), cache).data], [3, 0, 0, 0]);
  // A tie between the 2nd and 4th positions goes to the 2nd.
  const y = tensor([1, 5, 2, 5], [1, 2, 2, 1]);
  const c2 = poolForward(y, { f: 2, stride: 2 }).cache;
  assert.deepEqual([...poolBackward(tensor([3], [1, 1, 1, 1]), c2).data], [0, 3, 0, 0]);
  // The seed's mask marks both.
  assert.deepEqual([...createMaskFromWindow(new Float32Array([1, 5, 2, 5]))], [0, 1, 0, 1]);
});

Deno.test("poolBackward max handles windows whose values are all negative", () => {
  const x = tensor([-4, -2, -3, -5], [1, 2, 2, 1]);
  const { a, cache } = poolForward(x, { f: 2, stride: 2 });
  assert.deepEqual([...a.data], [-2]);
  assert.deepEqual([...poolBackward(tensor([1], [1, 1, 1, 1]), cache).data], [0, 1, 0, 0]);
});

Deno.test("poolBackward defaults to the forward pass's mode", () => {
  const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
  const { cache } = poolForward(x, { f: 2, stride: 2 }, "average");
  assert.deepEqual([...poolBackward(tensor([4], [1, 1, 1, 1]), cache).data], [1, 1, 1, 1]);
});

Deno.test("createMaskFromWindow and distributeValue as the seed defines them", () => {
  assert.deepEqual([...createMaskFromWindow(new Float32Array([-1, -3]))], [1, 0]);
  assert.deepEqual([...distributeValue(2, [2, 2])], [0.5, 0.5, 0.5, 0.5]);
  assert.deepEqual([...distributeValue(3, [1, 3])], [1, 1, 1]);
});

Deno.test("public functions never mutate their inputs and return fresh arrays", () => {
  const xData = Float32Array.from({ length: 2 * 5 * 5 * 3 }, (_, i) => Math.sin(i));
  const wData = Float32Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i));
  const b = new Float32Array([1, 2, 3, 4]);
  const [x0, w0, b0] = [xData.slice(), wData.slice(), b.slice()];
  const x = tensor(xData, [2, 5, 5, 3]);
  const { z, cache } = convForward(x, tensor(wData, [3, 3, 3, 4]), b, { stride: 1, pad: 1 });
  const dZ = tensor(z.data.slice(), z.shape);
  const dz0 = dZ.data.slice();
  const r = convBackward(dZ, cache);
  const p = poolForward(x, { f: 2, stride: 1 });
  const pa = tensor(p.a.data.slice(), p.a.shape);
  poolBackward(pa, p.cache);
  poolBackward(pa, p.cache, "average");
  zeroPad(x, 2);
  assert.deepEqual(xData, x0);
  assert.deepEqual(wData, w0);
  assert.deepEqual(b, b0);
  assert.deepEqual(dZ.data, dz0);
  for (const out of [z.data, r.dAPrev.data, r.dW.data, r.db, p.a.data]) {
    for (const input of [xData, wData, b, dZ.data]) assert.notEqual(out.buffer, input.buffer);
  }
});

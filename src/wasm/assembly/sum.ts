// Element-wise sums of same-shaped values (a residual Add), with an optional
// fused ReLU. Each value is one float32 addition, as the TypeScript twin
// (src/backend/js.ts `addSame`) computes it, so every backend gives the same
// bits.

/** y = a + b for n floats, then max(0, ·) when `relu` (NaN stays NaN); y may be a. */
export function addArrays(a: usize, b: usize, y: usize, n: i32, relu: i32): void {
  const zero = f32x4.splat(0);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    let v = f32x4.add(v128.load(a + o), v128.load(b + o));
    if (relu) v = f32x4.pmax(v, zero);
    v128.store(y + o, v);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let v = load<f32>(a + o) + load<f32>(b + o);
    if (relu) v = v < 0 ? 0 : v;
    store<f32>(y + o, v);
  }
}

// Element-wise activations that need exp, four lanes at a time: the logistic
// sigmoid, tanh, erf and GELU (exact and tanh). erf is Abramowitz and Stegun's
// 7.1.26 (absolute error 1.5e-7), as the TypeScript twin's. exp is Cephes' expf (range reduction to 2^n · e^r with
// |r| ≤ ln2/2, a degree-5 polynomial; about 1 ulp), the exponent built in
// the float's bits. NaN stays NaN.

import { ACT_ERF, ACT_GELU, ACT_GELU_TANH, ACT_SIGMOID, ACT_SILU } from "./abi";

// @ts-ignore: decorator
@inline function exp4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4(-88.3762626647949, -88.3762626647949, -88.3762626647949, -88.3762626647949)), f32x4(88.3762626647949, 88.3762626647949, 88.3762626647949, 88.3762626647949));
  const fx = f32x4.floor(f32x4.add(f32x4.mul(x, f32x4(1.44269504088896341, 1.44269504088896341, 1.44269504088896341, 1.44269504088896341)), f32x4(0.5, 0.5, 0.5, 0.5)));
  let r = f32x4.sub(x, f32x4.mul(fx, f32x4(0.693359375, 0.693359375, 0.693359375, 0.693359375)));
  r = f32x4.sub(r, f32x4.mul(fx, f32x4(-2.12194440e-4, -2.12194440e-4, -2.12194440e-4, -2.12194440e-4)));
  const z = f32x4.mul(r, r);
  let y = f32x4(1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, r), f32x4(1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4(8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4(4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, r), f32x4(1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, r), f32x4(5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), r), f32x4(1, 1, 1, 1));
  const n = i32x4.trunc_sat_f32x4_s(fx);
  const pow2n = i32x4.shl(i32x4.add(n, i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2n);
}

// @ts-ignore: decorator
@inline function sigmoid4(x: v128): v128 {
  const one = f32x4(1, 1, 1, 1);
  return f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(x))));
}

// @ts-ignore: decorator
@inline function tanh4(x: v128): v128 {
  // 1 − 2/(e^{2x} + 1), and the odd series near 0 where that cancels.
  const one = f32x4(1, 1, 1, 1);
  const big = f32x4.sub(one, f32x4.div(f32x4(2, 2, 2, 2), f32x4.add(exp4(f32x4.add(x, x)), one)));
  const x2 = f32x4.mul(x, x);
  let p = f32x4(-17.0 / 315.0, -17.0 / 315.0, -17.0 / 315.0, -17.0 / 315.0);
  p = f32x4.add(f32x4.mul(p, x2), f32x4(2.0 / 15.0, 2.0 / 15.0, 2.0 / 15.0, 2.0 / 15.0));
  p = f32x4.add(f32x4.mul(p, x2), f32x4(-1.0 / 3.0, -1.0 / 3.0, -1.0 / 3.0, -1.0 / 3.0));
  p = f32x4.add(f32x4.mul(p, x2), one);
  const small = f32x4.mul(x, p);
  return v128.bitselect(small, big, f32x4.lt(f32x4.abs(x), f32x4(0.1, 0.1, 0.1, 0.1)));
}

// @ts-ignore: decorator
@inline function erf4(x: v128): v128 {
  const a = f32x4.abs(x), one = f32x4(1, 1, 1, 1);
  const t = f32x4.div(one, f32x4.add(one, f32x4.mul(a, f32x4(0.3275911, 0.3275911, 0.3275911, 0.3275911))));
  let p = f32x4(1.061405429, 1.061405429, 1.061405429, 1.061405429);
  p = f32x4.add(f32x4.mul(p, t), f32x4(-1.453152027, -1.453152027, -1.453152027, -1.453152027));
  p = f32x4.add(f32x4.mul(p, t), f32x4(1.421413741, 1.421413741, 1.421413741, 1.421413741));
  p = f32x4.add(f32x4.mul(p, t), f32x4(-0.284496736, -0.284496736, -0.284496736, -0.284496736));
  p = f32x4.add(f32x4.mul(p, t), f32x4(0.254829592, 0.254829592, 0.254829592, 0.254829592));
  const y = f32x4.sub(one, f32x4.mul(f32x4.mul(p, t), exp4(f32x4.neg(f32x4.mul(a, a)))));
  // The sign of x back on (and NaN kept: NaN's comparison picks y, itself NaN).
  const r = v128.bitselect(f32x4.neg(y), y, f32x4.lt(x, f32x4.splat(0)));
  return v128.bitselect(x, r, f32x4.ne(x, x));
}

// @ts-ignore: decorator
@inline function gelu4(x: v128): v128 {
  const half = f32x4(0.5, 0.5, 0.5, 0.5), one = f32x4(1, 1, 1, 1);
  const e = erf4(f32x4.mul(x, f32x4(0.7071067811865476, 0.7071067811865476, 0.7071067811865476, 0.7071067811865476)));
  return f32x4.mul(f32x4.mul(half, x), f32x4.add(one, e));
}

// @ts-ignore: decorator
@inline function geluTanh4(x: v128): v128 {
  const half = f32x4(0.5, 0.5, 0.5, 0.5), one = f32x4(1, 1, 1, 1);
  const k = f32x4(0.7978845608028654, 0.7978845608028654, 0.7978845608028654, 0.7978845608028654);
  const c = f32x4(0.044715, 0.044715, 0.044715, 0.044715);
  const u = f32x4.mul(k, f32x4.add(x, f32x4.mul(c, f32x4.mul(x, f32x4.mul(x, x)))));
  return f32x4.mul(f32x4.mul(half, x), f32x4.add(one, tanh4(u)));
}

/**
 * y[i] = f(x[i]) for n floats, by `kind` (abi.ts): ACT_SIGMOID, ACT_TANH,
 * ACT_ERF, ACT_GELU (exact), ACT_GELU_TANH, ACT_SILU (x times the sigmoid,
 * each rounded to float32). The three erf-based kinds are consecutive codes.
 * Both buffers have 32 bytes of slack.
 */
export function activate(x: usize, y: usize, n: i32, kind: i32): void {
  const end = x + (<usize>n << 2);
  if (kind >= ACT_ERF && kind <= ACT_GELU_TANH) {
    for (; x < end; x += 16, y += 16) {
      const v = v128.load(x);
      v128.store(y, kind == ACT_ERF ? erf4(v) : kind == ACT_GELU ? gelu4(v) : geluTanh4(v));
    }
    return;
  }
  // Two vectors an iteration: two independent chains in flight.
  if (kind == ACT_SILU) {
    // −∞ · sigmoid(−∞) = −∞ · 0 is NaN, as in PyTorch (exp4 saturates, so say it outright).
    const ninf = f32x4.splat(-Infinity), nan = f32x4.splat(NaN);
    for (; x < end; x += 32, y += 32) {
      const u = v128.load(x), w = v128.load(x, 16);
      const a = f32x4.mul(u, sigmoid4(u)), b = f32x4.mul(w, sigmoid4(w));
      v128.store(y, v128.bitselect(nan, a, f32x4.eq(u, ninf)));
      v128.store(y, v128.bitselect(nan, b, f32x4.eq(w, ninf)), 16);
    }
  } else if (kind == ACT_SIGMOID) {
    for (; x < end; x += 32, y += 32) {
      const a = sigmoid4(v128.load(x)), b = sigmoid4(v128.load(x, 16));
      v128.store(y, a);
      v128.store(y, b, 16);
    }
  } else {
    for (; x < end; x += 32, y += 32) {
      const a = tanh4(v128.load(x)), b = tanh4(v128.load(x, 16));
      v128.store(y, a);
      v128.store(y, b, 16);
    }
  }
}

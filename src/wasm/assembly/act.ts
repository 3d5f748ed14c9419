// Element-wise activations that need exp, four lanes at a time: the logistic
// sigmoid, tanh, erf and GELU (exact and tanh). erf is Abramowitz and Stegun's
// 7.1.26 (absolute error 1.5e-7), as the TypeScript twin's. exp is Cephes' expf (range reduction to 2^n · e^r with
// |r| ≤ ln2/2, a degree-5 polynomial; about 1 ulp), the exponent built in
// the float's bits. NaN stays NaN.

import {
  ACT_ERF, ACT_EXP, ACT_GELU, ACT_GELU_TANH, ACT_LOG, ACT_MISH, ACT_SIGMOID, ACT_SILU, ACT_SOFTPLUS,
} from "./abi";

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

/**
 * eˣ over float32's whole range: exp4's reduction and polynomial with 2ⁿ
 * applied in two halves, so results near the top (x up to 88.72) and
 * subnormal ones (down to −103.9) come out right; +∞ past the top, 0 past
 * the bottom.
 */
// @ts-ignore: decorator
@inline function expWide4(x: v128): v128 {
  const over = f32x4.gt(x, f32x4.splat(88.72283905206835));
  const under = f32x4.lt(x, f32x4.splat(-103.972077083991796));
  x = f32x4.min(f32x4.max(x, f32x4.splat(-103.972077083991796)), f32x4.splat(88.72283905206835));
  const fx = f32x4.floor(f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(0.5)));
  let r = f32x4.sub(x, f32x4.mul(fx, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(fx, f32x4.splat(-2.12194440e-4)));
  const z = f32x4.mul(r, r);
  let y = f32x4.splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), r), f32x4.splat(1));
  const n = i32x4.trunc_sat_f32x4_s(fx), n1 = i32x4.shr_s(n, 1), n2 = i32x4.sub(n, n1);
  const p1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const p2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
  const e = v128.bitselect(f32x4.splat(0), f32x4.mul(f32x4.mul(y, p1), p2), under);
  return v128.bitselect(f32x4.splat(Infinity), e, over);
}

/**
 * ln x (Cephes' logf: x = m · 2ᵉ with m in [√½, √2), a degree-9
 * polynomial in m − 1; about 1 ulp), subnormals scaled first; ln 0 = −∞,
 * ln of a negative is NaN, ln ∞ = ∞, NaN stays NaN.
 */
// @ts-ignore: decorator
@inline function log4(x: v128): v128 {
  const one = f32x4.splat(1);
  const sub = f32x4.lt(x, f32x4.splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, f32x4.splat(8388608.0)), x, sub);
  let e = i32x4.sub(v128.and(i32x4.shr_u(xs, 23), i32x4.splat(0xff)), i32x4.splat(126));
  e = i32x4.sub(e, v128.and(sub, i32x4.splat(23)));
  let m = v128.or(v128.and(xs, i32x4.splat(0x807fffff)), i32x4.splat(0x3f000000));
  const low = f32x4.lt(m, f32x4.splat(0.707106781186547524));
  e = i32x4.add(e, low); // −1 where m is doubled
  m = f32x4.sub(f32x4.add(m, v128.and(m, low)), one);
  const fe = f32x4.convert_i32x4_s(e), z = f32x4.mul(m, m);
  let y = f32x4.splat(7.0376836292e-2);
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(-1.1514610310e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(1.1676998740e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(-1.2420140846e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(1.4249322787e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(-1.6668057665e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(2.0000714765e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(-2.4999993993e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(3.3333331174e-1));
  y = f32x4.mul(f32x4.mul(y, m), z);
  y = f32x4.add(y, f32x4.mul(fe, f32x4.splat(-2.12194440e-4)));
  y = f32x4.sub(y, f32x4.mul(z, f32x4.splat(0.5)));
  let r = f32x4.add(f32x4.add(m, y), f32x4.mul(fe, f32x4.splat(0.693359375)));
  r = v128.bitselect(f32x4.splat(-Infinity), r, f32x4.eq(x, f32x4.splat(0)));
  r = v128.bitselect(f32x4.splat(NaN), r, f32x4.lt(x, f32x4.splat(0)));
  r = v128.bitselect(x, r, f32x4.eq(x, f32x4.splat(Infinity)));
  return v128.bitselect(x, r, f32x4.ne(x, x));
}

/**
 * softplus(x) = max(x, 0) + ln(1 + e^−|x|), the logarithm of 1 + u taken as
 * ln w − ((w − 1) − u)/w with w = 1 + u (exact to a few ulps however small
 * u is); NaN stays NaN.
 */
// @ts-ignore: decorator
@inline function softplus4(x: v128): v128 {
  const u = expWide4(f32x4.neg(f32x4.abs(x))), w = f32x4.add(f32x4.splat(1), u);
  const l = f32x4.sub(log4(w), f32x4.div(f32x4.sub(f32x4.sub(w, f32x4.splat(1)), u), w));
  const y = f32x4.add(f32x4.pmax(x, f32x4.splat(0)), l);
  return v128.bitselect(x, y, f32x4.ne(x, x));
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
 * each rounded to float32), ACT_EXP, ACT_LOG, ACT_SOFTPLUS, ACT_MISH. The
 * three erf-based kinds are consecutive codes, and so are the last four.
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
  if (kind >= ACT_EXP && kind <= ACT_MISH) {
    // −∞ · tanh(softplus(−∞)) = −∞ · 0 is NaN for mish, as in PyTorch.
    const ninf = f32x4.splat(-Infinity), nan = f32x4.splat(NaN);
    for (; x < end; x += 16, y += 16) {
      const v = v128.load(x);
      let r: v128;
      if (kind == ACT_EXP) r = expWide4(v);
      else if (kind == ACT_LOG) r = log4(v);
      else if (kind == ACT_SOFTPLUS) r = softplus4(v);
      else r = v128.bitselect(nan, f32x4.mul(v, tanh4(softplus4(v))), f32x4.eq(v, ninf));
      v128.store(y, r);
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

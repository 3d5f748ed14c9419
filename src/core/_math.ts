// This module is browser compatible.

/** Scalar math shared by the layers and the plain TypeScript kernels (private). */

/** The error function (Abramowitz and Stegun 7.1.26; absolute error below 1.5e-7); NaN stays NaN. */
export function erf(x: number): number {
  const s = x < 0 ? -1 : 1, a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 -
    (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t +
        0.254829592) * t * Math.exp(-a * a);
  return Number.isNaN(x) ? NaN : s * y;
}

/** softplus(x) = ln(1 + eˣ), without overflow (NaN stays NaN). */
export const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** mish(x) = x · tanh(softplus(x)) (−∞ gives NaN: −∞ · 0, as PyTorch's formula). */
export const mish = (x: number): number => x * Math.tanh(softplus(x));

/** The index of the first NaN or infinite value of `a`, or −1 (a plain loop: 10× a findIndex callback). */
export function firstNonFinite(a: ArrayLike<number>): number {
  if (a instanceof Float32Array) return firstNonFiniteF32(a);
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}

/**
 * {@linkcode firstNonFinite} of a Float32Array by its bits (an all-ones
 * exponent is NaN or ±∞), in a function that sees one array type only: the
 * loaders scan every weight with it (resnet18: 3.9 ns a value through the
 * generic loop, which V8 cannot specialise, against ~0.3 here).
 */
function firstNonFiniteF32(a: Float32Array): number {
  const bits = new Int32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < bits.length; i++) {
    if ((bits[i]! & 0x7f800000) === 0x7f800000) return i;
  }
  return -1;
}

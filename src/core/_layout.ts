// This module is browser compatible.

/**
 * The layout permutations between PyTorch's and ONNX's orders and ours
 * (private), in one place for the ONNX importer and exporter, the PyTorch
 * weight converters and the public NCHW ↔ NHWC helpers.
 *
 * - Convolution filters: theirs `[O, I, kH, kW]` (OIHW; a transposed
 *   convolution's `[C, M/g, kH, kW]` is the same permutation with O = C),
 *   ours `[kH, kW, I, O]` (HWIO).
 * - Feature maps: theirs `[N, C, H, W]`, ours `[N, H, W, C]`.
 * - A dense layer after a flatten: their input features in `(c, h, w)`
 *   order, ours in `(h, w, c)`.
 *
 * @module
 */

/** OIHW `[O, I, kH, kW]` → HWIO `[kH, kW, I, O]`. */
export function oihwToHwio(
  src: ArrayLike<number>,
  dims: readonly [number, number, number, number],
): Float32Array {
  // Through a Float32Array always: V8 specialises the loop for the array types it has seen, and
  // the generic one ran at 3.3 ns a weight.
  return permuteOihw(src instanceof Float32Array ? src : Float32Array.from(src), dims);
}

function permuteOihw(
  src: Float32Array,
  [O, I, kH, kW]: readonly [number, number, number, number],
): Float32Array {
  const out = new Float32Array(O * I * kH * kW), taps = kH * kW, K = I * taps;
  // Blocks of 32 filters: each output row is written in runs of 32, and for one input channel
  // the 32 filters' taps (32 short runs of the source) are read once and used for every tap.
  for (let o0 = 0; o0 < O; o0 += 32) {
    const o1 = Math.min(O, o0 + 32);
    for (let i = 0; i < I; i++) {
      for (let t = 0; t < taps; t++) {
        const row = (t * I + i) * O, col = i * taps + t;
        for (let o = o0; o < o1; o++) out[row + o] = src[o * K + col]!;
      }
    }
  }
  return out;
}

/** HWIO `[kH, kW, I, O]` → OIHW `[O, I, kH, kW]` (the inverse of {@linkcode oihwToHwio}). */
export function hwioToOihw(
  src: ArrayLike<number>,
  [kH, kW, I, O]: readonly [number, number, number, number],
): Float32Array {
  const out = new Float32Array(O * I * kH * kW);
  for (let h = 0; h < kH; h++) {
    for (let w = 0; w < kW; w++) {
      for (let i = 0; i < I; i++) {
        for (let o = 0; o < O; o++) {
          out[((o * I + i) * kH + h) * kW + w] = src[((h * kW + w) * I + i) * O + o]!;
        }
      }
    }
  }
  return out;
}

/** `N` planes of `[C, P]` (channels first, `P` positions) → `[P, C]` (channels last). */
export function chwToHwc(src: ArrayLike<number>, N: number, C: number, P: number): Float32Array {
  const out = new Float32Array(N * C * P);
  for (let n = 0; n < N; n++) {
    const b = n * C * P;
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < P; p++) out[b + p * C + c] = src[b + c * P + p]!;
    }
  }
  return out;
}

/** `N` planes of `[P, C]` (channels last) → `[C, P]` (channels first). */
export function hwcToChw(src: ArrayLike<number>, N: number, C: number, P: number): Float32Array {
  const out = new Float32Array(N * C * P);
  for (let n = 0; n < N; n++) {
    const b = n * C * P;
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < P; p++) out[b + c * P + p] = src[b + p * C + c]!;
    }
  }
  return out;
}

/** `[rows, cols]` → `[cols, rows]` (in blocks of 32 rows, as {@linkcode oihwToHwio}). */
export function transpose2d(src: ArrayLike<number>, rows: number, cols: number): Float32Array {
  return oihwToHwio(src, [rows, cols, 1, 1]);
}

/**
 * A dense kernel `[C·H·W, M]` whose rows are in `(c, h, w)` order (a
 * flatten of an NCHW map) → rows in our `(h, w, c)` order.
 */
export function chwRowsToHwc(
  src: Float32Array,
  [C, H, W]: readonly [number, number, number],
  M: number,
): Float32Array {
  const out = new Float32Array(src.length);
  for (let h = 0; h < H; h++) {
    for (let w = 0; w < W; w++) {
      for (let c = 0; c < C; c++) {
        const ours = (h * W + w) * C + c, theirs = (c * H + h) * W + w;
        out.set(src.subarray(theirs * M, theirs * M + M), ours * M);
      }
    }
  }
  return out;
}

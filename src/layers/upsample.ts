// This module is browser compatible.

import { outputArray } from "../core/_outputs.ts";
import type { Tensor } from "../core/tensor.ts";
import { checkBoolean, checkOneOf, fail } from "../core/_validate.ts";
import { checkPair } from "../core/_geometry.ts";
import { type OptionDecls, optionsConfig, readOptions } from "./_declare.ts";
import { checkBatch, noForward } from "./_util.ts";
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

/** How an output pixel's coordinate maps to the input (ONNX `coordinate_transformation_mode`). */
export type CoordinateMode = "asymmetric" | "half_pixel" | "pytorch_half_pixel" | "align_corners";
/** How nearest-neighbour resizing rounds a coordinate (ONNX `nearest_mode`). */
export type NearestRounding = "floor" | "ceil" | "round_prefer_floor" | "round_prefer_ceil";

const COORDS: readonly CoordinateMode[] = [
  "asymmetric",
  "half_pixel",
  "pytorch_half_pixel",
  "align_corners",
];
const ROUNDINGS: readonly NearestRounding[] = [
  "floor",
  "ceil",
  "round_prefer_floor",
  "round_prefer_ceil",
];

function checkScale(k: string, a: string, v: unknown): [number, number] | undefined {
  if (v === undefined) return undefined;
  const pair = typeof v === "number" ? [v, v] : v;
  if (!Array.isArray(pair) || pair.length !== 2) {
    fail(TypeError, k, a, "a positive number or [h, w] of them", v);
  }
  for (const d of pair) {
    if (typeof d !== "number" || !(d > 0) || !Number.isFinite(d)) {
      fail(RangeError, k, a, "a positive number or [h, w] of them", v);
    }
  }
  return [pair[0] as number, pair[1] as number];
}

const UPSAMPLE_OPTIONS = {
  size: {
    type: "number | [h, w]",
    default: "—",
    doc: "The output's height and width (give `size` or `scale`).",
    read: (k: string, a: string, v: unknown) => (v === undefined ? undefined : checkPair(k, a, v)),
    save: (v: readonly [number, number]) => [v[0], v[1]],
  },
  scale: {
    type: "number | [h, w]",
    default: "—",
    doc:
      "The factor on height and width (output `floor(in · scale)`), as PyTorch's `scale_factor`.",
    read: checkScale,
    save: (v: readonly [number, number]) => [v[0], v[1]],
  },
  mode: {
    type: '"nearest" | "bilinear"',
    default: '"nearest"',
    doc: "Nearest neighbour, or bilinear interpolation.",
    read: (k: string, a: string, v: unknown) =>
      checkOneOf(k, a, v ?? "nearest", ["nearest", "bilinear"] as const),
  },
  alignCorners: {
    type: "boolean",
    default: "false",
    doc:
      'Bilinear only: PyTorch\'s `align_corners` (corner pixels aligned; `coordinates: "align_corners"`).',
    read: (k: string, a: string, v: unknown) => checkBoolean(k, a, v ?? false),
    save: (v: boolean) => (v ? v : undefined),
  },
  coordinates: {
    type: '"asymmetric" | "half_pixel" | "pytorch_half_pixel" | "align_corners"',
    default: "PyTorch's",
    doc:
      "The coordinate mapping (ONNX's modes); default as PyTorch: asymmetric for nearest, pytorch_half_pixel (or align_corners) for bilinear.",
    read: (
      k: string,
      a: string,
      v: unknown,
    ) => (v === undefined ? undefined : checkOneOf(k, a, v, COORDS)),
  },
  rounding: {
    type: '"floor" | "ceil" | "round_prefer_floor" | "round_prefer_ceil"',
    default: '"floor"',
    doc: "Nearest only: how a coordinate rounds to a pixel (PyTorch's nearest floors).",
    read: (
      k: string,
      a: string,
      v: unknown,
    ) => (v === undefined ? undefined : checkOneOf(k, a, v, ROUNDINGS)),
  },
} as const;

/** Options of {@linkcode Upsample2D}. */
export interface Upsample2DOptions {
  /** The output's height and width. */
  size?: number | readonly [number, number];
  /** The factor on height and width. */
  scale?: number | readonly [number, number];
  /** `"nearest"` (default) or `"bilinear"`. */
  mode?: "nearest" | "bilinear";
  /** Bilinear: align the corner pixels (PyTorch's `align_corners`); default false. */
  alignCorners?: boolean;
  /** The coordinate mapping; default PyTorch's for the mode. */
  coordinates?: CoordinateMode;
  /** Nearest: the rounding; default `"floor"`. */
  rounding?: NearestRounding;
  /** The layer's name. */
  name?: string;
}

/** One axis: for each output index, the two input indices and the second's weight. */
interface AxisPlan {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly w1: Float32Array;
}

/**
 * Resizes the height and width of `[h, w, c]` maps, as PyTorch's
 * `F.interpolate` / `nn.Upsample` (`mode` nearest or bilinear, `size` or
 * `scale_factor`, `align_corners`) and ONNX's `Resize` with its other
 * coordinate and rounding modes. Forward and backward (the adjoint: each
 * output's gradient goes back to the input pixels it was read from, by the
 * same weights).
 *
 * @example Usage
 * ```ts
 * import { Sequential, Upsample2D } from "@convnet/wasm";
 * new Sequential([new Upsample2D({ scale: 2, mode: "bilinear" })], [7, 7, 16]).outputShape; // [14, 14, 16]
 * ```
 */
export class Upsample2D extends LayerBase implements Layer {
  /** `"Upsample2D"`. */
  readonly kind = "Upsample2D" as const;
  /** `"Upsample2D"`. */
  static readonly kind = "Upsample2D" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = UPSAMPLE_OPTIONS;
  /** The layer's name. */
  name: string;
  /** The output size, if given. */
  readonly size: readonly [number, number] | undefined;
  /** The scale factors, if given. */
  readonly scale: readonly [number, number] | undefined;
  /** Nearest or bilinear. */
  readonly mode: "nearest" | "bilinear";
  /** Bilinear's corner alignment. */
  readonly alignCorners: boolean;
  /** The coordinate mapping. */
  readonly coordinates: CoordinateMode;
  /** The nearest rounding (`undefined` for bilinear). */
  readonly rounding: NearestRounding | undefined;
  #in: readonly [number, number, number] | null = null;
  #out: readonly [number, number, number] | null = null;
  #ys: AxisPlan | null = null;
  #xs: AxisPlan | null = null;

  /**
   * Creates an Upsample2D.
   *
   * @param options `size` or `scale` (one of them), `mode`, `alignCorners`, `coordinates`, `rounding`, name.
   */
  constructor(options: Upsample2DOptions) {
    super();
    const c = readOptions("Upsample2D", UPSAMPLE_OPTIONS, options);
    if ((c.size === undefined) === (c.scale === undefined)) {
      fail(TypeError, "Upsample2D", "options", "one of size and scale", options);
    }
    if (c.alignCorners && c.mode !== "bilinear") {
      fail(
        RangeError,
        "Upsample2D",
        "options.alignCorners",
        'false unless mode is "bilinear"',
        true,
      );
    }
    if (c.alignCorners && c.coordinates !== undefined && c.coordinates !== "align_corners") {
      fail(
        RangeError,
        "Upsample2D",
        "options.coordinates",
        '"align_corners" with alignCorners',
        c.coordinates,
      );
    }
    if (c.rounding !== undefined && c.mode !== "nearest") {
      fail(
        RangeError,
        "Upsample2D",
        "options.rounding",
        'absent unless mode is "nearest"',
        c.rounding,
      );
    }
    this.name = c.name;
    this.size = c.size;
    this.scale = c.scale;
    this.mode = c.mode;
    this.alignCorners = c.alignCorners;
    this.coordinates = c.coordinates ??
      (c.mode === "nearest"
        ? "asymmetric"
        : c.alignCorners
        ? "align_corners"
        : "pytorch_half_pixel");
    this.rounding = c.mode === "nearest" ? c.rounding ?? "floor" : undefined;
  }

  /** Checks the input (`[h, w, c]`) and returns the resized shape (called by the model). */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    if (inputShape.length !== 3) {
      fail(RangeError, `Upsample2D "${this.name}"`, "the input shape", "[h, w, c]", inputShape);
    }
    const [h, w, c] = inputShape as [number, number, number];
    const oh = this.size ? this.size[0] : Math.floor(h * this.scale![0]);
    const ow = this.size ? this.size[1] : Math.floor(w * this.scale![1]);
    if (oh < 1 || ow < 1) {
      fail(RangeError, `Upsample2D "${this.name}"`, "the output size", "at least 1×1", [oh, ow]);
    }
    if (rand) {
      this.#in = [h, w, c];
      this.#out = [oh, ow, c];
      this.#ys = this.#plan(h, oh, this.scale?.[0]);
      this.#xs = this.#plan(w, ow, this.scale?.[1]);
    }
    return [oh, ow, c];
  }

  /** The source indices and weights along one axis of `n` → `out` pixels. */
  #plan(n: number, out: number, scale: number | undefined): AxisPlan {
    const sc = scale ?? out / n;
    const i0 = new Int32Array(out), i1 = new Int32Array(out), w1 = new Float32Array(out);
    for (let o = 0; o < out; o++) {
      let x: number;
      switch (this.coordinates) {
        case "asymmetric":
          x = o / sc;
          break;
        case "half_pixel":
          x = (o + 0.5) / sc - 0.5;
          break;
        case "pytorch_half_pixel":
          x = out > 1 ? (o + 0.5) / sc - 0.5 : 0;
          break;
        case "align_corners":
          x = out === 1 ? 0 : (o * (n - 1)) / (out - 1);
          break;
      }
      if (this.mode === "nearest") {
        let r: number;
        switch (this.rounding ?? "floor") {
          case "floor":
            r = Math.floor(x);
            break;
          case "ceil":
            r = Math.ceil(x);
            break;
          case "round_prefer_floor":
            r = x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x);
            break;
          case "round_prefer_ceil":
            r = Math.round(x);
            break;
        }
        i0[o] = i1[o] = Math.max(0, Math.min(n - 1, r));
      } else {
        const xc = Math.max(0, Math.min(n - 1, x)), f = Math.floor(xc);
        i0[o] = f;
        i1[o] = Math.min(f + 1, n - 1);
        w1[o] = xc - f;
      }
    }
    return { i0, i1, w1 };
  }

  /** The resized maps. */
  forward(x: Tensor): Tensor {
    const inS = this.#in, outS = this.#out;
    if (!inS || !outS) noForward(this);
    const m = checkBatch(this, "the input", x, inS);
    const [h, w, c] = inS, [oh, ow] = outS, ys = this.#ys!, xs = this.#xs!, src = x.data;
    const y = outputArray(m * oh * ow * c);
    const near = this.mode === "nearest";
    for (let n = 0; n < m; n++) {
      const ib = n * h * w * c, ob = n * oh * ow * c;
      for (let oy = 0; oy < oh; oy++) {
        const y0 = ys.i0[oy]!, y1 = ys.i1[oy]!, wy = ys.w1[oy]!;
        for (let ox = 0; ox < ow; ox++) {
          const o = ob + (oy * ow + ox) * c;
          const x0 = xs.i0[ox]!, x1 = xs.i1[ox]!, wx = xs.w1[ox]!;
          const p00 = ib + (y0 * w + x0) * c;
          if (near) {
            for (let k = 0; k < c; k++) y[o + k] = src[p00 + k]!;
            continue;
          }
          const p01 = ib + (y0 * w + x1) * c, p10 = ib + (y1 * w + x0) * c;
          const p11 = ib + (y1 * w + x1) * c;
          const a = (1 - wy) * (1 - wx), b = (1 - wy) * wx, d = wy * (1 - wx), e = wy * wx;
          for (let k = 0; k < c; k++) {
            y[o + k] = a * src[p00 + k]! + b * src[p01 + k]! + d * src[p10 + k]! +
              e * src[p11 + k]!;
          }
        }
      }
    }
    return { shape: [m, oh, ow, c], data: y };
  }

  /**
   * Back-propagates `dOut`: each output's gradient, by its weights, into the input pixels it read.
   *
   * @param dOut The gradient of the loss with respect to the output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    const inS = this.#in, outS = this.#out;
    if (!inS || !outS) noForward(this);
    const m = checkBatch(this, "dOut", dOut, outS);
    if (!needInputGrad) return null;
    const [h, w, c] = inS, [oh, ow] = outS, ys = this.#ys!, xs = this.#xs!, g = dOut.data;
    const dx = new Float64Array(m * h * w * c);
    const near = this.mode === "nearest";
    for (let n = 0; n < m; n++) {
      const ib = n * h * w * c, ob = n * oh * ow * c;
      for (let oy = 0; oy < oh; oy++) {
        const y0 = ys.i0[oy]!, y1 = ys.i1[oy]!, wy = ys.w1[oy]!;
        for (let ox = 0; ox < ow; ox++) {
          const o = ob + (oy * ow + ox) * c;
          const x0 = xs.i0[ox]!, x1 = xs.i1[ox]!, wx = xs.w1[ox]!;
          const p00 = ib + (y0 * w + x0) * c;
          if (near) {
            for (let k = 0; k < c; k++) dx[p00 + k]! += g[o + k]!;
            continue;
          }
          const p01 = ib + (y0 * w + x1) * c, p10 = ib + (y1 * w + x0) * c;
          const p11 = ib + (y1 * w + x1) * c;
          const a = (1 - wy) * (1 - wx), b = (1 - wy) * wx, d = wy * (1 - wx), e = wy * wx;
          for (let k = 0; k < c; k++) {
            const v = g[o + k]!;
            dx[p00 + k]! += a * v;
            dx[p01 + k]! += b * v;
            dx[p10 + k]! += d * v;
            dx[p11 + k]! += e * v;
          }
        }
      }
    }
    return { shape: [m, h, w, c], data: Float32Array.from(dx) };
  }

  /** The trainable parameters: none. */
  params(): Param[] {
    return [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, UPSAMPLE_OPTIONS);
  }
}

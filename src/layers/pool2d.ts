// This module is browser compatible.

import { activeKernels } from "../backend/select.ts";
import type { PoolGeometry, PoolMode } from "../backend/types.ts";
import type { Tensor } from "../core/tensor.ts";
import { checkBatch, noForward } from "./_util.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

/** Options of {@linkcode MaxPool2D} and {@linkcode AvgPool2D}. */
export interface Pool2DOptions {
  /** Window size (square); default 2. */
  poolSize?: number;
  /** Step between windows; default `poolSize`. */
  stride?: number;
  /** The layer's name; the model assigns one if absent. */
  name?: string;
}

/**
 * The shared implementation of {@linkcode MaxPool2D} and {@linkcode AvgPool2D}.
 *
 * @example Usage
 * ```ts
 * import { MaxPool2D, Pool2D } from "@convnet/wasm";
 * new MaxPool2D() instanceof Pool2D; // true
 * ```
 */
export abstract class Pool2D implements Layer {
  /** `"MaxPool2D"` or `"AvgPool2D"`. */
  abstract readonly kind: "MaxPool2D" | "AvgPool2D";
  /** The pooling the subclass does. */
  protected abstract readonly mode: PoolMode;
  /** The layer's name. */
  name: string;
  /** Window size. */
  readonly poolSize: number;
  /** Step between windows. */
  readonly stride: number;
  #g: PoolGeometry | null = null;
  #x: Float32Array | null = null;
  #m = 0;

  /**
   * Creates a Pool2D.
   *
   * @param kind The subclass's name, for error messages.
   * @param options Window size (default 2), stride (default the window size), name.
   */
  constructor(kind: string, options: Pool2DOptions = {}) {
    const f = options.poolSize ?? 2;
    const s = options.stride ?? f;
    for (const [what, v] of [["poolSize", f], ["stride", s]] as const) {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
        throw new RangeError(`${kind}: ${what} must be a positive integer, got ${String(v)}`);
      }
    }
    this.poolSize = f;
    this.stride = s;
    this.name = options.name ?? "";
  }

  /** Checks the input shape, creates the parameters and returns the output shape (called by {@linkcode Sequential}). */
  build(inputShape: SampleShape): SampleShape {
    if (inputShape.length !== 3) {
      throw new RangeError(
        `${this.kind} "${this.name}": input must be [height, width, channels], got [${
          inputShape.join(", ")
        }]`,
      );
    }
    const [inH, inW, c] = inputShape as readonly [number, number, number];
    const f = this.poolSize;
    if (f > inH || f > inW) {
      throw new RangeError(
        `${this.kind} "${this.name}": poolSize ${f} exceeds the input ${inH}×${inW}`,
      );
    }
    const outH = Math.floor((inH - f) / this.stride) + 1;
    const outW = Math.floor((inW - f) / this.stride) + 1;
    this.#g = { m: 0, inH, inW, c, f, stride: this.stride, outH, outW };
    return [outH, outW, c];
  }

  #geometry(): PoolGeometry {
    if (!this.#g) {
      throw new Error(`${this.kind} "${this.name}": used before build (add it to a Sequential)`);
    }
    return this.#g;
  }

  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    const g0 = this.#geometry();
    const m = checkBatch(this, "the input", x, [g0.inH, g0.inW, g0.c]);
    const g = { ...g0, m };
    this.#x = x.data;
    this.#m = m;
    return {
      shape: [m, g.outH, g.outW, g.c],
      data: activeKernels().poolForward(g, x.data, this.mode),
    };
  }

  /** Back-propagates `dOut`; adds parameter gradients and returns the input gradient (or `null`). */
  backward(dOut: Tensor, needInputGrad: boolean): Tensor | null {
    if (!this.#x) noForward(this);
    const g = { ...this.#geometry(), m: this.#m };
    checkBatch(this, "dOut", dOut, [g.outH, g.outW, g.c]);
    if (dOut.shape[0] !== this.#m) {
      throw new RangeError(
        `${this.kind} "${this.name}": dOut has batch ${
          dOut.shape[0]
        }, the forward pass had ${this.#m}`,
      );
    }
    if (!needInputGrad) return null;
    return {
      shape: [g.m, g.inH, g.inW, g.c],
      data: activeKernels().poolBackward(g, this.#x, dOut.data, this.mode),
    };
  }

  /** The trainable parameters (none before `build`). */
  params(): Param[] {
    return [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return { kind: this.kind, name: this.name, poolSize: this.poolSize, stride: this.stride };
  }
}

/**
 * Max pooling over NHWC batches (no padding). Backward routes each window's
 * gradient to its first maximum.
 *
 * @example Usage
 * ```ts
 * import { MaxPool2D, Sequential } from "@convnet/wasm";
 * new Sequential([new MaxPool2D({ poolSize: 2 })], [28, 28, 8]).outputShape; // [14, 14, 8]
 * ```
 */
export class MaxPool2D extends Pool2D {
  /** `"MaxPool2D"`. */
  readonly kind = "MaxPool2D" as const;
  /** Max pooling. */
  protected readonly mode = "max" as const;
  /**
   * Creates a MaxPool2D.
   *
   * @param options Window size (default 2), stride (default the window size), name.
   */
  constructor(options: Pool2DOptions = {}) {
    super("MaxPool2D", options);
  }
}

/**
 * Average pooling over NHWC batches (no padding).
 *
 * @example Usage
 * ```ts
 * import { AvgPool2D, Sequential } from "@convnet/wasm";
 * new Sequential([new AvgPool2D({ poolSize: 2 })], [28, 28, 8]).outputShape; // [14, 14, 8]
 * ```
 */
export class AvgPool2D extends Pool2D {
  /** `"AvgPool2D"`. */
  readonly kind = "AvgPool2D" as const;
  /** Average pooling. */
  protected readonly mode = "average" as const;
  /**
   * Creates a AvgPool2D.
   *
   * @param options Window size (default 2), stride (default the window size), name.
   */
  constructor(options: Pool2DOptions = {}) {
    super("AvgPool2D", options);
  }
}

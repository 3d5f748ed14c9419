// This module is browser compatible.

import { activeKernels } from "../backend/select.ts";
import type { PoolGeometry, PoolMode } from "../backend/types.ts";
import type { Tensor } from "../core/tensor.ts";
import { checkPositiveInt } from "../core/_validate.ts";
import { planPool } from "../core/_geometry.ts";
import { checkBatch, layerOptions, noForward } from "./_util.ts";
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
    const { o, name } = layerOptions(kind, options);
    this.poolSize = checkPositiveInt(kind, "options.poolSize", o["poolSize"] ?? 2);
    this.stride = checkPositiveInt(kind, "options.stride", o["stride"] ?? this.poolSize);
    this.name = name;
  }

  /** Checks the input shape and returns the output shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape): SampleShape {
    if (inputShape.length !== 3) {
      throw new RangeError(
        `${this.kind} "${this.name}": input must be [height, width, channels], got [${
          inputShape.join(", ")
        }]`,
      );
    }
    const [inH, inW, c] = inputShape as readonly [number, number, number];
    this.#g = planPool(
      `${this.kind} "${this.name}"`,
      "options.poolSize",
      0,
      inH,
      inW,
      c,
      this.poolSize,
      this.stride,
    );
    return [this.#g.outH, this.#g.outW, c];
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

  /**
   * Back-propagates `dOut`, adding any parameter gradients into `Param.grad`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null` when `needInputGrad` is false.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
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

  /** The trainable parameters: none, for this layer. */
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
   * Creates an AvgPool2D.
   *
   * @param options Window size (default 2), stride (default the window size), name.
   */
  constructor(options: Pool2DOptions = {}) {
    super("AvgPool2D", options);
  }
}

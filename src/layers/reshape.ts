// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";
import { checkDims, fail } from "../core/_validate.ts";
import { type OptionDecls, optionsConfig, readOptions } from "./_declare.ts";
import { checkBatch, noForward } from "./_util.ts";
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

const RESHAPE_OPTIONS = {
  shape: {
    type: "number[]",
    default: "required",
    doc: "Each sample's new shape (its values in memory order, which is NHWC, are kept).",
    read: (k: string, a: string, v: unknown) => checkDims(k, a, v),
  },
} as const;

/**
 * Gives each sample a new shape with the same values in the same (NHWC
 * memory) order, as Keras's `Reshape`: `[c]` → `[1, 1, c]` makes a vector a
 * 1×1 map (ONNX `Unsqueeze` of `[N, C]` to `[N, C, 1, 1]`). Free: no value
 * moves.
 *
 * @example Usage
 * ```ts
 * import { Reshape, Sequential } from "@convnet/wasm";
 * new Sequential([new Reshape({ shape: [1, 1, 3] })], [3]).outputShape; // [1, 1, 3]
 * ```
 */
export class Reshape extends LayerBase implements Layer {
  /** `"Reshape"`. */
  readonly kind = "Reshape" as const;
  /** `"Reshape"`. */
  static readonly kind = "Reshape" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = RESHAPE_OPTIONS;
  /** The layer's name. */
  name: string;
  /** Each sample's new shape. */
  readonly shape: readonly number[];
  #in: SampleShape | null = null;

  /**
   * Creates a Reshape.
   *
   * @param options `shape` (required: positive sizes), name.
   */
  constructor(options: { shape: readonly number[]; name?: string }) {
    super();
    const c = readOptions("Reshape", RESHAPE_OPTIONS, options);
    this.name = c.name;
    this.shape = c.shape;
  }

  /** Checks the sizes agree; returns the new shape (called by the model). */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    const n = inputShape.reduce((p, d) => p * d, 1), k = this.shape.reduce((p, d) => p * d, 1);
    if (n !== k) {
      fail(
        RangeError,
        `Reshape "${this.name}"`,
        "options.shape",
        `${n} values a sample, as the input [${inputShape.join(", ")}]`,
        this.shape,
      );
    }
    if (rand) this.#in = inputShape;
    return [...this.shape];
  }

  /** The same values, reshaped. */
  forward(x: Tensor): Tensor {
    const m = checkBatch(this, "the input", x, this.#in ?? []);
    return { shape: [m, ...this.shape], data: x.data };
  }

  /**
   * The gradient reshaped back.
   *
   * @param dOut The gradient of the loss with respect to the output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    const s = this.#in;
    if (!s) noForward(this);
    const m = checkBatch(this, "dOut", dOut, this.shape);
    return needInputGrad ? { shape: [m, ...s], data: dOut.data } : null;
  }

  /** The trainable parameters: none. */
  params(): Param[] {
    return [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, RESHAPE_OPTIONS);
  }
}

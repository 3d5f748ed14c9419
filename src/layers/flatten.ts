// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";
import { checkBatch, layerOptions } from "./_util.ts";
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

/**
 * Flattens each sample to one dimension, in row-major (NHWC) order: a
 * `[h, w, c]` sample becomes `[h·w·c]` with channels varying fastest.
 * (PyTorch flattens `[c, h, w]`; see `fromTorchLinearWeight`.)
 *
 * @example Usage
 * ```ts
 * import { Flatten, Sequential } from "@convnet/wasm";
 * new Sequential([new Flatten()], [7, 7, 32]).outputShape; // [1568]
 * ```
 */
export class Flatten extends LayerBase implements Layer {
  /** `"Flatten"`. */
  readonly kind = "Flatten" as const;
  /** The layer's name. */
  name: string;
  #in: SampleShape | null = null;
  #size = 0;

  /**
   * Creates a Flatten.
   *
   * @param options The layer's name; the model assigns `flatten_N` if absent.
   */
  constructor(options: { name?: string } = {}) {
    super();
    this.name = layerOptions(this.kind, options).name;
  }

  /** Checks the input shape and returns the output shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape): SampleShape {
    this.#in = inputShape;
    this.#size = inputShape.reduce((p, v) => p * v, 1);
    return [this.#size];
  }

  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    const m = checkBatch(this, "the input", x, this.#in ?? []);
    return { shape: [m, this.#size], data: x.data };
  }

  /**
   * Back-propagates `dOut`, adding any parameter gradients into `Param.grad`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null` when `needInputGrad` is false.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    const m = checkBatch(this, "dOut", dOut, [this.#size]);
    return needInputGrad ? { shape: [m, ...this.#in!], data: dOut.data } : null;
  }

  /** The trainable parameters: none, for this layer. */
  params(): Param[] {
    return [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return { kind: this.kind, name: this.name };
  }
}

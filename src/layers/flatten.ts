// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";
import { checkBatch } from "./_util.ts";
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
export class Flatten implements Layer {
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
    this.name = options.name ?? "";
  }

  /** Checks the input shape, creates the parameters and returns the output shape (called by {@linkcode Sequential}). */
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

  /** Back-propagates `dOut`; adds parameter gradients and returns the input gradient (or `null`). */
  backward(dOut: Tensor, needInputGrad: boolean): Tensor | null {
    const m = checkBatch(this, "dOut", dOut, [this.#size]);
    return needInputGrad ? { shape: [m, ...this.#in!], data: dOut.data } : null;
  }

  /** The trainable parameters (none before `build`). */
  params(): Param[] {
    return [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return { kind: this.kind, name: this.name };
  }
}

// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";
import { checkBatch, layerOptions, noForward } from "./_util.ts";
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

/**
 * The rectifier `max(0, x)`, element-wise. Its gradient passes where the
 * output is positive.
 *
 * @example Usage
 * ```ts
 * import { ReLU, Sequential, tensor } from "@convnet/wasm";
 * const model = new Sequential([new ReLU()], [3]);
 * model.predict(tensor([-1, 0, 2], [1, 3])).data; // Float32Array [0, 0, 2]
 * ```
 */
export class ReLU extends LayerBase implements Layer {
  /** `"ReLU"`. */
  readonly kind = "ReLU" as const;
  /** The layer's name. */
  name: string;
  #shape: SampleShape | null = null;
  #y: Float32Array | null = null;

  /**
   * Creates a ReLU.
   *
   * @param options The layer's name; the model assigns `relu_N` if absent.
   */
  constructor(options: { name?: string } = {}) {
    super();
    this.name = layerOptions(this.kind, options).name;
  }

  /** Checks the input shape and returns the output shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape): SampleShape {
    this.#shape = inputShape;
    return inputShape;
  }

  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    checkBatch(this, "the input", x, this.#shape ?? []);
    const src = x.data, y = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      y[i] = v > 0 ? v : 0;
    }
    this.#y = y;
    return { shape: x.shape, data: y };
  }

  /**
   * Back-propagates `dOut`, adding any parameter gradients into `Param.grad`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null` when `needInputGrad` is false.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    const y = this.#y;
    if (!y) noForward(this);
    checkBatch(this, "dOut", dOut, this.#shape ?? []);
    if (dOut.data.length !== y.length) {
      throw new RangeError(
        `ReLU "${this.name}": dOut has ${dOut.data.length} values, the forward output ${y.length}`,
      );
    }
    if (!needInputGrad) return null;
    const g = dOut.data, dx = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) dx[i] = y[i]! > 0 ? g[i]! : 0;
    return { shape: dOut.shape, data: dx };
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

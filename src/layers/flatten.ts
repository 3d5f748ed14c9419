// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";
import { checkOneOf } from "../core/_validate.ts";
import { checkBatch } from "./_util.ts";
import { type OptionDecls, optionsConfig, readOptions } from "./_declare.ts";

const FLATTEN_OPTIONS = {
  order: {
    type: '"hwc" | "chw"',
    default: '"hwc"',
    doc: '`"hwc"` keeps the memory order (free); `"chw"` flattens as PyTorch and ONNX do.',
    read: (k: string, a: string, v: unknown) =>
      checkOneOf(k, a, v ?? "hwc", ["hwc", "chw"] as const),
    save: (v: string) => (v === "hwc" ? undefined : v),
  },
} as const;
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

/**
 * Flattens each sample to one dimension. The default `order: "hwc"` keeps
 * the memory (NHWC) order: a `[h, w, c]` sample becomes `[h·w·c]` with
 * channels varying fastest, at no cost. `order: "chw"` flattens the way
 * PyTorch and ONNX do (`[c, h, w]`, width fastest), a transposition; use it
 * to run a PyTorch classifier head unchanged, or keep `"hwc"` and convert
 * the next layer's weights (see `fromTorchLinearWeight`).
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
  /** `"Flatten"`. */
  static readonly kind = "Flatten" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = FLATTEN_OPTIONS;
  /** The layer's name. */
  name: string;
  /** `"hwc"` (memory order, the default) or `"chw"` (PyTorch's and ONNX's order). */
  readonly order: "hwc" | "chw";
  #in: SampleShape | null = null;
  #size = 0;

  /**
   * Creates a Flatten.
   *
   * @param options `order` (`"hwc"`, the default, or `"chw"`); the layer's name (the model assigns `flatten_N` if absent).
   */
  constructor(options: { order?: "hwc" | "chw"; name?: string } = {}) {
    super();
    const c = readOptions("Flatten", FLATTEN_OPTIONS, options);
    this.name = c.name;
    this.order = c.order;
  }

  /** Whether `order` needs a transposition for this input shape. */
  #permutes(): boolean {
    const s = this.#in;
    return this.order === "chw" && !!s && s.length === 3 && s[2] !== 1 && s[0]! * s[1]! !== 1;
  }

  #transpose(data: Float32Array, m: number, toChw: boolean): Float32Array {
    const [h, w, c] = this.#in as [number, number, number], hw = h * w;
    const out = new Float32Array(data.length);
    for (let n = 0; n < m; n++) {
      const base = n * hw * c;
      for (let p = 0; p < hw; p++) {
        for (let k = 0; k < c; k++) {
          if (toChw) out[base + k * hw + p] = data[base + p * c + k]!;
          else out[base + p * c + k] = data[base + k * hw + p]!;
        }
      }
    }
    return out;
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
    return {
      shape: [m, this.#size],
      data: this.#permutes() ? this.#transpose(x.data, m, true) : x.data,
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
    const m = checkBatch(this, "dOut", dOut, [this.#size]);
    if (!needInputGrad) return null;
    const data = this.#permutes() ? this.#transpose(dOut.data, m, false) : dOut.data;
    return { shape: [m, ...this.#in!], data };
  }

  /** The trainable parameters: none, for this layer. */
  params(): Param[] {
    return [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, FLATTEN_OPTIONS);
  }
}

// This module is browser compatible.

import { outputArray } from "../core/_outputs.ts";
import { checkPadding } from "../core/_geometry.ts";
import type { Tensor } from "../core/tensor.ts";
import { checkFinite, fail } from "../core/_validate.ts";
import { checkBatch, noForward } from "./_util.ts";
import { type OptionDecls, optionsConfig, readOptions } from "./_declare.ts";

const PAD2D_OPTIONS = {
  padding: {
    type: "number | [h, w] | [top, bottom, left, right]",
    default: "required",
    doc: "Rows and columns added on each side.",
    read: (k: string, a: string, v: unknown) => {
      if (v === "same") fail(RangeError, k, a, 'explicit sizes, not "same"', v);
      return checkPadding(k, a, v) as [number, number, number, number];
    },
    save: (v: readonly number[]) => [...v],
  },
  value: {
    type: "number",
    default: "0",
    doc: "The value written into the border.",
    read: (k: string, a: string, v: unknown) => checkFinite(k, a, v ?? 0),
  },
} as const;
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

/** Options of {@linkcode Pad2D}. */
export interface Pad2DOptions {
  /** Rows and columns added: a number for every side, `[h, w]` or `[top, bottom, left, right]`. */
  padding: number | readonly [number, number] | readonly [number, number, number, number];
  /** The value written into the border (default 0). */
  value?: number;
  /** The layer's name; the model assigns one if absent. */
  name?: string;
}

/**
 * Pads each `[h, w, c]` sample's height and width with a constant (ONNX
 * `Pad` in constant mode; the seed's `zero_pad` as a layer). The gradient
 * of the border is dropped.
 *
 * @example Usage
 * ```ts
 * import { Pad2D, Sequential } from "@convnet/wasm";
 * new Sequential([new Pad2D({ padding: [1, 0, 2, 1] })], [4, 4, 3]).outputShape; // [5, 7, 3]
 * ```
 */
export class Pad2D extends LayerBase implements Layer {
  /** `"Pad2D"`. */
  readonly kind = "Pad2D" as const;
  /** `"Pad2D"`. */
  static readonly kind = "Pad2D" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = PAD2D_OPTIONS;
  /** The layer's name. */
  name: string;
  /** `[top, bottom, left, right]`. */
  readonly padding: readonly [number, number, number, number];
  /** The border's value. */
  readonly value: number;
  #in: SampleShape | null = null;
  #out: SampleShape | null = null;
  #forwarded = false;

  /**
   * Creates a Pad2D.
   *
   * @param options `padding` (required), `value` (default 0), name.
   */
  constructor(options: Pad2DOptions) {
    super();
    const c = readOptions("Pad2D", PAD2D_OPTIONS, options);
    this.name = c.name;
    this.padding = c.padding;
    this.value = c.value;
  }

  /** Checks the input shape (`[h, w, c]`) and returns the padded shape (called by the model). */
  build(inputShape: SampleShape): SampleShape {
    if (inputShape.length !== 3) {
      fail(RangeError, `Pad2D "${this.name}"`, "the input shape", "[h, w, c]", inputShape);
    }
    const [h, w, c] = inputShape as [number, number, number], [t, b, l, r] = this.padding;
    this.#in = inputShape;
    this.#out = [h + t + b, w + l + r, c];
    return this.#out;
  }

  /** Computes the output for a batch. */
  forward(x: Tensor): Tensor {
    const m = checkBatch(this, "the input", x, this.#in ?? []);
    const [h, w, c] = this.#in as [number, number, number];
    const [oh, ow] = this.#out as [number, number, number], [t, , l] = this.padding;
    const y = outputArray(m * oh * ow * c);
    y.fill(this.value); // the border (a reused array holds earlier values)
    for (let n = 0; n < m; n++) {
      for (let i = 0; i < h; i++) {
        const src = (n * h + i) * w * c, dst = ((n * oh + i + t) * ow + l) * c;
        y.set(x.data.subarray(src, src + w * c), dst);
      }
    }
    this.#forwarded = true;
    return { shape: [m, oh, ow, c], data: y };
  }

  /**
   * Back-propagates `dOut` (the interior of the padded gradient).
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    if (!this.#forwarded) noForward(this);
    const m = checkBatch(this, "dOut", dOut, this.#out ?? []);
    if (!needInputGrad) return null;
    const [h, w, c] = this.#in as [number, number, number];
    const [oh, ow] = this.#out as [number, number, number], [t, , l] = this.padding;
    const dx = new Float32Array(m * h * w * c);
    for (let n = 0; n < m; n++) {
      for (let i = 0; i < h; i++) {
        const src = ((n * oh + i + t) * ow + l) * c;
        dx.set(dOut.data.subarray(src, src + w * c), (n * h + i) * w * c);
      }
    }
    return { shape: [m, h, w, c], data: dx };
  }

  /** The trainable parameters: none. */
  params(): Param[] {
    return [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, PAD2D_OPTIONS);
  }
}

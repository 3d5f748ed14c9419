// This module is browser compatible.

import { outputArray } from "../core/_outputs.ts";
import type { Tensor } from "../core/tensor.ts";
import { checkBoolean, checkFinite } from "../core/_validate.ts";
import { type OptionDecls, optionsConfig, readOptions } from "./_declare.ts";
import { allocParam, checkBatch, makeParam, noForward, notBuilt } from "./_util.ts";
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

const PRELU_OPTIONS = {
  perChannel: {
    type: "boolean",
    default: "false",
    doc: "One slope per channel (PyTorch's `num_parameters = c`), else one for all.",
    read: (k: string, a: string, v: unknown) => checkBoolean(k, a, v ?? false),
  },
  initial: {
    type: "number",
    default: "0.25",
    doc: "The slopes' initial value (PyTorch's `init`).",
    read: (k: string, a: string, v: unknown) => checkFinite(k, a, v ?? 0.25),
  },
} as const;

/**
 * The parametric rectifier `x > 0 ? x : alpha·x` with a trainable slope
 * `alpha`, one for all or one per channel (PyTorch's `PReLU`, ONNX `PRelu`).
 * Parameter `alpha`, `[1]` or `[c]`. NaN stays NaN.
 *
 * @example Usage
 * ```ts
 * import { PReLU, Sequential, tensor } from "@convnet/wasm";
 * new Sequential([new PReLU()], [2]).predict(tensor([-2, 3], [1, 2])).data; // Float32Array [-0.5, 3]
 * ```
 */
export class PReLU extends LayerBase implements Layer {
  /** `"PReLU"`. */
  readonly kind = "PReLU" as const;
  /** `"PReLU"`. */
  static readonly kind = "PReLU" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = PRELU_OPTIONS;
  /** The layer's name. */
  name: string;
  /** Whether each channel has its own slope. */
  readonly perChannel: boolean;
  /** The slopes' initial value. */
  readonly initial: number;
  #shape: SampleShape | null = null;
  #alpha: Param | null = null;
  #x: Float32Array | null = null;

  /**
   * Creates a PReLU.
   *
   * @param options `perChannel` (default false), `initial` (default 0.25), name.
   */
  constructor(options: { perChannel?: boolean; initial?: number; name?: string } = {}) {
    super();
    const c = readOptions("PReLU", PRELU_OPTIONS, options);
    this.name = c.name;
    this.perChannel = c.perChannel;
    this.initial = c.initial;
  }

  /** Creates `alpha`; returns the shape (called by the model). */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    if (!rand) return inputShape;
    const c = this.perChannel ? inputShape[inputShape.length - 1] ?? 1 : 1;
    this.#shape = inputShape;
    this.#alpha = makeParam(
      `${this.name}.alpha`,
      [c],
      allocParam(`PReLU "${this.name}"`, c).fill(this.initial),
    );
    return inputShape;
  }

  /** `x > 0 ? x : alpha·x`. */
  forward(x: Tensor): Tensor {
    const alpha = this.#alpha;
    if (!alpha) notBuilt(this);
    checkBatch(this, "the input", x, this.#shape!);
    const a = alpha.value, c = a.length, src = x.data, y = outputArray(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      y[i] = v > 0 ? v : a[c === 1 ? 0 : i % c]! * v;
    }
    this.#x = src;
    return { shape: x.shape, data: y };
  }

  /**
   * Back-propagates `dOut`, adding into `alpha.grad`.
   *
   * @param dOut The gradient of the loss with respect to the output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    const x = this.#x, alpha = this.#alpha;
    if (!x || !alpha) noForward(this);
    checkBatch(this, "dOut", dOut, this.#shape!);
    const a = alpha.value, c = a.length, g = dOut.data;
    const da = new Float64Array(c), dx = needInputGrad ? new Float32Array(g.length) : null;
    for (let i = 0; i < g.length; i++) {
      const v = x[i]!, k = c === 1 ? 0 : i % c;
      if (v > 0) {
        if (dx) dx[i] = g[i]!;
      } else {
        da[k]! += g[i]! * v;
        if (dx) dx[i] = g[i]! * a[k]!;
      }
    }
    for (let k = 0; k < c; k++) alpha.grad[k]! += da[k]!;
    return dx && { shape: dOut.shape, data: dx };
  }

  /** The trainable parameters: `alpha` (none before `build`). */
  params(): Param[] {
    return this.#alpha ? [this.#alpha] : [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, PRELU_OPTIONS);
  }
}

// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";
import { ConvCore } from "./_conv_core.ts";
import { planConv } from "../core/_geometry.ts";
import { activationCode, checkBatch, noForward, notBuilt } from "./_util.ts";
import { ACTIVATION, countOption, initOption } from "./_conv_options.ts";
import { type OptionDecls, optionsConfig, readOptions } from "./_declare.ts";

const DENSE_OPTIONS = {
  units: countOption("Number of outputs."),
  activation: ACTIVATION,
  init: initOption("glorot"),
} as const;
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

/** Options of {@linkcode Dense}. */
export interface DenseOptions {
  /** Number of outputs. */
  units: number;
  /** Initial weights: `"glorot"` (uniform, the default) or `"he"` (normal; suits ReLU). */
  init?: "he" | "glorot";
  /**
   * `"relu"` fuses max(0, ·) into the layer (faster than a separate {@linkcode ReLU}), `"relu6"`
   * fuses min(max(0, ·), 6); default `"linear"`.
   */
  activation?: "relu" | "relu6" | "linear";
  /** The layer's name; the model assigns `dense_N` if absent. */
  name?: string;
}

/**
 * A fully connected layer: `y = x · kernel + bias` for a batch `[m, n]`.
 * Parameters: `kernel` `[n, units]` (the layout Keras uses) and `bias` `[units]`.
 * It runs on the convolution kernels as a 1×1 convolution.
 *
 * @example Usage
 * ```ts
 * import { Dense, Sequential } from "@convnet/wasm";
 * const model = new Sequential([new Dense({ units: 10 })], [784]);
 * model.outputShape; // [10]
 * ```
 */
export class Dense extends LayerBase implements Layer {
  /** `"Dense"`. */
  readonly kind = "Dense" as const;
  /** `"Dense"`. */
  static readonly kind = "Dense" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = DENSE_OPTIONS;
  /** The layer's name. */
  name: string;
  /** Number of outputs. */
  readonly units: number;
  /** `"relu"`, `"relu6"` or `"linear"`. */
  readonly activation: "relu" | "relu6" | "linear";
  /** `"glorot"` or `"he"`. */
  readonly init: "he" | "glorot";
  #core: ConvCore | null = null;

  /**
   * Creates a Dense.
   *
   * @param options Units, initialisation, name.
   * @throws {TypeError} If an option is of the wrong type.
   * @throws {RangeError} If `units` is not a positive integer, or `init` or `activation` is unknown.
   */
  constructor(options: DenseOptions) {
    super();
    const c = readOptions("Dense", DENSE_OPTIONS, options);
    this.units = c.units;
    this.init = c.init;
    this.activation = c.activation;
    this.name = c.name;
  }

  /** Checks the input shape, creates the parameters (from `rand`) and returns the output shape (called by the model). */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    if (inputShape.length !== 1) {
      throw new RangeError(
        `Dense "${this.name}": input must be flat [features], got [${
          inputShape.join(", ")
        }]; add a Flatten layer before it`,
      );
    }
    const n = inputShape[0]!;
    const g = planConv(`Dense "${this.name}"`, "1", 0, 1, 1, n, 1, 1, this.units, {
      stride: [1, 1],
      pads: [0, 0, 0, 0],
      dilation: [1, 1],
      groups: 1,
    });
    if (!rand) return [this.units];
    this.#core = new ConvCore({
      layer: this,
      g,
      kernelShape: [n, this.units],
      init: this.init,
      fanIn: n,
      fanOut: this.units,
      relu: activationCode(this.activation),
      rand,
    });
    return [this.units];
  }

  #built(): ConvCore {
    if (!this.#core) notBuilt(this);
    return this.#core;
  }

  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    const core = this.#built();
    const m = checkBatch(this, "the input", x, [core.g.cIn]);
    return { shape: [m, this.units], data: core.forward(x.data, m) };
  }

  /**
   * Back-propagates `dOut`, adding any parameter gradients into `Param.grad`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null` when `needInputGrad` is false.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    const core = this.#core;
    if (!core) noForward(this);
    const m = checkBatch(this, "dOut", dOut, [this.units]);
    const dx = core.backward(dOut, needInputGrad);
    return dx && { shape: [m, core.g.cIn], data: dx };
  }

  /** The trainable parameters (none before `build`). */
  params(): Param[] {
    return this.#core ? [this.#core.kernel, this.#core.bias] : [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return optionsConfig(this, DENSE_OPTIONS);
  }
}

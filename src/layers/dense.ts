// This module is browser compatible.

import { activeKernels } from "../backend.ts";
import type { ConvGeometry } from "../kernels/types.ts";
import type { Tensor } from "../tensor.ts";
import {
  addInto,
  allocParam,
  checkActivation,
  checkBatch,
  glorotUniform,
  heNormal,
  makeParam,
  noForward,
  reluGrad,
} from "./_util.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

/** Options of {@linkcode Dense}. */
export interface DenseOptions {
  /** Number of outputs. */
  units: number;
  /** Initial weights: `"glorot"` (uniform, the default) or `"he"` (normal; suits ReLU). */
  init?: "he" | "glorot";
  /** `"relu"` fuses max(0, ·) into the layer (faster than a separate {@linkcode ReLU}); default `"linear"`. */
  activation?: "relu" | "linear";
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
export class Dense implements Layer {
  /** `"Dense"`. */
  readonly kind = "Dense" as const;
  /** The layer's name. */
  name: string;
  /** Number of outputs. */
  readonly units: number;
  /** `"relu"` or `"linear"`. */
  readonly activation: "relu" | "linear";
  readonly #init: "he" | "glorot";
  #g: ConvGeometry | null = null;
  #kernel: Param | null = null;
  #bias: Param | null = null;
  #x: Float32Array | null = null;
  #y: Float32Array | null = null;
  #m = 0;

  /**
   * Creates a Dense.
   *
   * @param options Units, initialisation, name.
   * @throws {RangeError} If `units` is not a positive integer or `init` is unknown.
   */
  constructor(options: DenseOptions) {
    const u = options?.units;
    if (typeof u !== "number" || !Number.isInteger(u) || u < 1) {
      throw new RangeError(`Dense: units must be a positive integer, got ${String(u)}`);
    }
    this.units = u;
    this.#init = options.init ?? "glorot";
    if (this.#init !== "he" && this.#init !== "glorot") {
      throw new RangeError(`Dense: init must be "he" or "glorot", got ${String(this.#init)}`);
    }
    this.activation = checkActivation("Dense", options.activation ?? "linear");
    this.name = options.name ?? "";
  }

  /** Checks the input shape, creates the parameters and returns the output shape (called by {@linkcode Sequential}). */
  build(inputShape: SampleShape, rand: () => number): SampleShape {
    if (inputShape.length !== 1) {
      throw new RangeError(
        `Dense "${this.name}": input must be flat [features], got [${
          inputShape.join(", ")
        }]; add a Flatten layer before it`,
      );
    }
    const n = inputShape[0];
    this.#g = {
      m: 0,
      inH: 1,
      inW: 1,
      cIn: n,
      f: 1,
      cOut: this.units,
      stride: 1,
      pad: 0,
      outH: 1,
      outW: 1,
    };
    const w = this.#init === "he"
      ? heNormal(n * this.units, n, rand, `Dense "${this.name}"`)
      : glorotUniform(n * this.units, n, this.units, rand, `Dense "${this.name}"`);
    this.#kernel = makeParam(`${this.name}.kernel`, [n, this.units], w);
    this.#bias = makeParam(
      `${this.name}.bias`,
      [this.units],
      allocParam(`Dense "${this.name}"`, this.units),
    );
    return [this.units];
  }

  #geometry(): ConvGeometry {
    if (!this.#g) {
      throw new Error(`Dense "${this.name}": used before build (add it to a Sequential)`);
    }
    return this.#g;
  }

  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    const g0 = this.#geometry();
    const m = checkBatch(this, "the input", x, [g0.cIn]);
    const y = activeKernels().convForward(
      { ...g0, m },
      x.data,
      this.#kernel!.value,
      this.#bias!.value,
    );
    this.#x = x.data;
    this.#m = m;
    return { shape: [m, this.units], data: y };
  }

  /** Back-propagates `dOut`; adds parameter gradients and returns the input gradient (or `null`). */
  backward(dOut: Tensor, needInputGrad: boolean): Tensor | null {
    if (!this.#x) noForward(this);
    const g = { ...this.#geometry(), m: this.#m };
    checkBatch(this, "dOut", dOut, [this.units]);
    if (dOut.shape[0] !== this.#m) {
      throw new RangeError(
        `Dense "${this.name}": dOut has batch ${dOut.shape[0]}, the forward pass had ${this.#m}`,
      );
    }
    const k = activeKernels();
    const dz = this.#y ? reluGrad(dOut.data, this.#y) : dOut.data;
    const { dW, db } = k.convBackwardFilter(g, this.#x, dz);
    addInto(this.#kernel!.grad, dW);
    addInto(this.#bias!.grad, db);
    if (!needInputGrad) return null;
    return { shape: [g.m, g.cIn], data: k.convBackwardData(g, dz, this.#kernel!.value) };
  }

  /** The trainable parameters (none before `build`). */
  params(): Param[] {
    return this.#kernel ? [this.#kernel, this.#bias!] : [];
  }

  /** The description stored in model files. */
  config(): LayerConfig {
    return {
      kind: this.kind,
      name: this.name,
      units: this.units,
      activation: this.activation,
      init: this.#init,
    };
  }
}

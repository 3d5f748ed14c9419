// This module is browser compatible.

/**
 * The contract every layer fulfils, and the shapes and parameters layers
 * share.
 *
 * @module
 */

import type { Tensor } from "../core/tensor.ts";

/** The shape of one sample (no batch dimension), e.g. `[28, 28, 1]` or `[10]`. */
export type SampleShape = readonly number[];

/** A trainable array and the gradient accumulated for it. */
export interface Param {
  /** `layerName.kernel` or `layerName.bias`: the key in model files. */
  readonly name: string;
  /** The array's shape, e.g. `[f, f, cIn, cOut]`. */
  readonly shape: readonly number[];
  /** The values, updated in place by an optimiser. */
  readonly value: Float32Array;
  /** The gradient, summed over `backward` calls until {@linkcode zeroGrad}. */
  readonly grad: Float32Array;
}

/** The kinds of layer a model file may name. */
export type LayerKind =
  | "Conv2D"
  | "DepthwiseConv2D"
  | "Conv2DTranspose"
  | "MaxPool2D"
  | "AvgPool2D"
  | "GlobalAvgPool2D"
  | "GlobalMaxPool2D"
  | "ReLU"
  | "Flatten"
  | "Dense";

/** A hyper-parameter's value in a model file. */
export type ConfigValue = string | number | boolean | readonly number[];

/** A layer's description as stored in a model file: its kind, name and hyper-parameters. */
export interface LayerConfig {
  /** Which layer. */
  readonly kind: LayerKind;
  /** Its name, unique within a model. */
  readonly name: string;
  /** Hyper-parameters (numbers, strings, booleans and arrays of numbers). */
  readonly [key: string]: ConfigValue;
}

/**
 * A layer of a {@linkcode Sequential} model. `forward` keeps what `backward`
 * needs; `backward` returns the gradient with respect to the input and adds
 * the parameter gradients into each `Param.grad`.
 */
export interface Layer {
  /** Which layer this is. */
  readonly kind: LayerKind;
  /** Its name, unique within a model (assigned by the model if not given). */
  name: string;
  /**
   * Checks the input shape, creates the parameters (initialised from `rand`,
   * uniform in [0, 1)) and returns the output shape.
   * @throws {RangeError} If the input shape does not suit the layer.
   */
  build(inputShape: SampleShape, rand: () => number): SampleShape;
  /** Computes the output for a batch `[m, ...inputShape]`. */
  forward(x: Tensor): Tensor;
  /**
   * Back-propagates `dOut` (shaped like the last forward output), adding the
   * parameter gradients into each `Param.grad`. Returns the input gradient
   * (computed unless `needInputGrad` is false, when it returns `null`: a
   * model passes false for its first layer).
   * @throws {Error} If called before `forward`.
   */
  backward(dOut: Tensor, needInputGrad?: boolean): Tensor | null;
  /** The trainable parameters (empty for layers without any). */
  params(): Param[];
  /** The description stored in model files. */
  config(): LayerConfig;
}

/**
 * Sets every parameter gradient to zero.
 *
 * @example Usage
 * ```ts
 * import { Dense, zeroGrad } from "@convnet/wasm";
 * const d = new Dense({ units: 2 });
 * d.build([3], Math.random);
 * zeroGrad(d.params());
 * ```
 *
 * @param params The parameters.
 */
export function zeroGrad(params: readonly Param[]): void {
  for (const p of params) p.grad.fill(0);
}

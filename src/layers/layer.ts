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
  /**
   * The gradient, summed over `backward` calls until {@linkcode zeroGrad}
   * (the built-in layers allocate it when first read, so a model used only
   * for inference holds no gradient arrays).
   */
  readonly grad: Float32Array;
}

/** The kinds of layer a model file may name: the keys of `LAYER_TYPES` (the compiler holds the two equal). */
export type LayerKind =
  | "Add"
  | "Concatenate"
  | "Multiply"
  | "Subtract"
  | "Divide"
  | "Conv2D"
  | "DepthwiseConv2D"
  | "Conv2DTranspose"
  | "MaxPool2D"
  | "AvgPool2D"
  | "GlobalAvgPool2D"
  | "GlobalMaxPool2D"
  | "ReLU"
  | "LeakyReLU"
  | "HardSigmoid"
  | "Clip"
  | "ScaleShift"
  | "Pad2D"
  | "Upsample2D"
  | "ChannelShuffle"
  | "ChannelSlice"
  | "ReLU6"
  | "Sigmoid"
  | "Tanh"
  | "SiLU"
  | "HardSwish"
  | "Softmax"
  | "Dropout"
  | "BatchNorm"
  | "LayerNorm"
  | "InstanceNorm"
  | "LocalResponseNorm"
  | "ReduceChannels"
  | "Reshape"
  | "Gelu"
  | "Erf"
  | "Unary"
  | "PReLU"
  | "Flatten"
  | "Dense";

/** A hyper-parameter's value in a model file. */
export type ConfigValue = string | number | boolean | readonly number[];

/** A layer's description as stored in a model file: its kind, name and hyper-parameters. */
export interface LayerConfig {
  /** Which layer (a custom layer's own name is allowed, but `loadModel` knows only the built-in kinds). */
  readonly kind: LayerKind | string;
  /** Its name, unique within a model. */
  readonly name: string;
  /** Hyper-parameters (numbers, strings, booleans and arrays of numbers). */
  readonly [key: string]: ConfigValue;
}

/**
 * A layer of a model. `forward` keeps what `backward` needs; `backward`
 * returns the gradient with respect to the input and adds the parameter
 * gradients into each `Param.grad`. A custom layer implements this
 * interface (extending {@linkcode LayerBase} gives it `apply` for graphs).
 */
export interface Layer {
  /** Which layer this is (a custom layer may use its own name). */
  readonly kind: LayerKind | string;
  /** Its name, unique within a model (assigned by the model if not given). */
  name: string;
  /**
   * Checks the input shape and returns the output shape. With `rand`
   * (uniform in [0, 1)), it also creates the parameters, initialised from it;
   * without, it only checks (a graph being built calls it so).
   * @throws {RangeError} If the input shape does not suit the layer.
   */
  build(inputShape: SampleShape, rand?: () => number): SampleShape;
  /** Computes the output for a batch `[m, ...inputShape]`. */
  forward(x: Tensor): Tensor;
  /**
   * Back-propagates `dOut` (shaped like the last forward output), adding the
   * parameter gradients into each `Param.grad`. Returns the input gradient
   * (computed unless `needInputGrad` is false, when it returns `null`: a
   * model passes false for its first layer).
   * @throws {RangeError} If called before `forward` (or before `build`), or on a `dOut` of the wrong shape.
   */
  backward(dOut: Tensor, needInputGrad?: boolean): Tensor | null;
  /** The trainable parameters (empty for layers without any). */
  params(): Param[];
  /** Values the layer keeps but does not train (BatchNorm's running statistics); saved in model files. */
  state?(): Param[];
  /** Switches between training and inference behaviour (BatchNorm, Dropout); the model calls it. */
  setTraining?(training: boolean): void;
  /** The description stored in model files. */
  config(): LayerConfig;
}

/**
 * A layer that merges several inputs of one batch into one output (`Add`,
 * `Concatenate`, `Multiply`).
 */
export interface MergeLayer {
  /** Marks the merge layers. */
  readonly merge: true;
  /** Which layer this is. */
  readonly kind: LayerKind | string;
  /** Its name, unique within a model. */
  name: string;
  /** Checks the input shapes and returns the output shape. */
  build(inputShapes: readonly SampleShape[]): SampleShape;
  /** Computes the output for batches `[m, ...inputShapes[i]]`. */
  forward(xs: readonly Tensor[]): Tensor;
  /** The gradient with respect to each input. */
  backward(dOut: Tensor): Tensor[];
  /** None. */
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

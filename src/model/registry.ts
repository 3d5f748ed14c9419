// This module is browser compatible.

import { Conv2D, Conv2DTranspose, DepthwiseConv2D } from "../layers/conv2d.ts";
import { Dense } from "../layers/dense.ts";
import { Flatten } from "../layers/flatten.ts";
import { Pad2D, type Pad2DOptions } from "../layers/pad2d.ts";
import type { Layer, LayerConfig, MergeLayer } from "../layers/layer.ts";
import { Add, Concatenate, Multiply } from "../layers/merge.ts";
import { BatchNorm } from "../layers/batch_norm.ts";
import {
  Clip,
  Dropout,
  HardSigmoid,
  HardSwish,
  LeakyReLU,
  ReLU6,
  Sigmoid,
  Softmax,
  Tanh,
} from "../layers/activations.ts";
import { AvgPool2D, GlobalAvgPool2D, GlobalMaxPool2D, MaxPool2D } from "../layers/pool2d.ts";
import { ReLU } from "../layers/relu.ts";
import { checkObject, checkOneOf, checkString } from "../core/_validate.ts";

/** How to make each kind of layer from its stored options. */
const MAKERS: Record<string, (options: never) => Layer | MergeLayer> = {
  Add: (o) => new Add(o),
  Concatenate: (o) => new Concatenate(o),
  Multiply: (o) => new Multiply(o),
  Conv2D: (o) => new Conv2D(o),
  DepthwiseConv2D: (o) => new DepthwiseConv2D(o),
  Conv2DTranspose: (o) => new Conv2DTranspose(o),
  MaxPool2D: (o) => new MaxPool2D(o),
  AvgPool2D: (o) => new AvgPool2D(o),
  GlobalAvgPool2D: (o) => new GlobalAvgPool2D(o),
  GlobalMaxPool2D: (o) => new GlobalMaxPool2D(o),
  ReLU: (o) => new ReLU(o),
  LeakyReLU: (o) => new LeakyReLU(o),
  ReLU6: (o) => new ReLU6(o),
  HardSigmoid: (o) => new HardSigmoid(o),
  Clip: (o) => new Clip(o),
  Pad2D: (o) => new Pad2D(o as unknown as Pad2DOptions),
  Sigmoid: (o) => new Sigmoid(o),
  Tanh: (o) => new Tanh(o),
  HardSwish: (o) => new HardSwish(o),
  Softmax: (o) => new Softmax(o),
  Dropout: (o) => new Dropout(o),
  BatchNorm: (o) => new BatchNorm(o),
  Flatten: (o) => new Flatten(o),
  Dense: (o) => new Dense(o),
};

/**
 * The layer kinds a model file may name.
 *
 * @example Usage
 * ```ts
 * import { LAYER_KINDS } from "@convnet/wasm";
 * LAYER_KINDS.includes("Conv2D"); // true
 * ```
 */
export const LAYER_KINDS: readonly string[] = Object.freeze(Object.keys(MAKERS));

/**
 * Makes a fresh layer from its stored description (the layer's own
 * constructor checks every hyper-parameter).
 *
 * @example Usage
 * ```ts
 * import { layerFromConfig } from "@convnet/wasm";
 * const relu = layerFromConfig({ kind: "ReLU", name: "relu_1" });
 * relu.kind; // "ReLU"
 * ```
 *
 * @param cfg The description, as `Layer.config()` returns it.
 * @returns The layer, not yet built.
 * @throws {TypeError} If `cfg`, its name or a hyper-parameter is of the wrong type.
 * @throws {RangeError} If the kind is unknown or a hyper-parameter is invalid.
 */
export function layerFromConfig(cfg: LayerConfig): Layer | MergeLayer {
  const fn = "layerFromConfig";
  const c = checkObject(fn, "cfg", cfg);
  checkString(fn, "cfg.name", c["name"]);
  const kind = checkOneOf(fn, "cfg.kind", c["kind"], LAYER_KINDS);
  const { kind: _k, ...options } = c;
  return MAKERS[kind]!(options as never);
}

// This module is browser compatible.

/**
 * The one list of built-in layer kinds. Each entry names the class (whose
 * static `options` declare its options) and what the model passes need to
 * know of it; `LAYER_KINDS`, the model-file registry, `fuse()`, `saveOnnx`
 * and the README's option tables all read this table.
 *
 * @module
 */

import { Conv2D, Conv2DTranspose, DepthwiseConv2D } from "./conv2d.ts";
import { Dense } from "./dense.ts";
import { Flatten } from "./flatten.ts";
import { Pad2D } from "./pad2d.ts";
import { Add, Concatenate, Divide, Multiply, Subtract } from "./merge.ts";
import { BatchNorm } from "./batch_norm.ts";
import {
  Clip,
  Dropout,
  Erf,
  Gelu,
  HardSigmoid,
  HardSwish,
  LeakyReLU,
  ReLU6,
  ScaleShift,
  Sigmoid,
  SiLU,
  Softmax,
  Tanh,
} from "./activations.ts";
import { AvgPool2D, GlobalAvgPool2D, GlobalMaxPool2D, MaxPool2D } from "./pool2d.ts";
import { ReLU } from "./relu.ts";
import { ChannelShuffle, ChannelSlice } from "./channels.ts";
import { Upsample2D } from "./upsample.ts";
import { LayerNorm } from "./layer_norm.ts";
import { InstanceNorm } from "./instance_norm.ts";
import { LocalResponseNorm } from "./lrn.ts";
import { ReduceChannels } from "./reduce.ts";
import { Reshape } from "./reshape.ts";
import { Unary } from "./unary.ts";
import { PReLU } from "./prelu.ts";
import type { OptionDecls } from "./_declare.ts";
import type { Layer, LayerKind, MergeLayer } from "./layer.ts";

/** What the model passes know of a layer kind. */
export interface LayerKindInfo {
  /** Makes the layer from its options (checked by its constructor). */
  readonly make: (options: never) => Layer | MergeLayer;
  /** Its declared options. */
  readonly options: OptionDecls;
  /** One line for the docs. */
  readonly summary: string;
  /** Whether a following `BatchNorm` folds into its weights (`fuse()`). */
  readonly foldsBatchNorm?: boolean;
  /** The activations `fuse()` may fold into it from a following `ReLU` / `ReLU6`. */
  readonly fusesActivation?: readonly ("relu" | "relu6")[];
  /**
   * Whether a zero `Pad2D` before it becomes its own padding (`fuse()`):
   * `"conv"` (zeros add nothing to a sum of products), `"average"` (an
   * average that counts its padding, or has none, and does not round up).
   */
  readonly absorbsZeroPad?: "conv" | "average";
}

/**
 * Every built-in layer kind, by name.
 *
 * @example Usage
 * ```ts
 * import { LAYER_TYPES } from "@convnet/wasm";
 * Object.keys(LAYER_TYPES["Conv2D"].options).includes("padding"); // true
 * ```
 */
export const LAYER_TYPES: Readonly<Record<LayerKind, LayerKindInfo>> = {
  Conv2D: {
    make: (o: never) => new Conv2D(o),
    options: Conv2D.options,
    summary: "2-D convolution with a bias per filter (groups, dilation, fused ReLU/ReLU6).",
    foldsBatchNorm: true,
    fusesActivation: ["relu", "relu6"],
    absorbsZeroPad: "conv",
  },
  DepthwiseConv2D: {
    make: (o: never) => new DepthwiseConv2D(o),
    options: DepthwiseConv2D.options,
    summary: "Depthwise convolution (a Conv2D with one group per input channel).",
    foldsBatchNorm: true,
    fusesActivation: ["relu", "relu6"],
    absorbsZeroPad: "conv",
  },
  Conv2DTranspose: {
    make: (o: never) => new Conv2DTranspose(o),
    options: Conv2DTranspose.options,
    summary: "Transposed convolution (decoders, U-Nets).",
    fusesActivation: ["relu", "relu6"],
  },
  Dense: {
    make: (o: never) => new Dense(o),
    options: Dense.options,
    summary: "Fully connected layer.",
    foldsBatchNorm: true,
    fusesActivation: ["relu", "relu6"],
  },
  MaxPool2D: {
    make: (o: never) => new MaxPool2D(o),
    options: MaxPool2D.options,
    summary: "Max pooling (padding never wins).",
  },
  AvgPool2D: {
    make: (o: never) => new AvgPool2D(o),
    options: AvgPool2D.options,
    summary: "Average pooling.",
    absorbsZeroPad: "average",
  },
  GlobalAvgPool2D: {
    make: (o: never) => new GlobalAvgPool2D(o),
    options: GlobalAvgPool2D.options,
    summary: "Mean of each channel over the map.",
  },
  GlobalMaxPool2D: {
    make: (o: never) => new GlobalMaxPool2D(o),
    options: GlobalMaxPool2D.options,
    summary: "Maximum of each channel over the map.",
  },
  BatchNorm: {
    make: (o: never) => new BatchNorm(o),
    options: BatchNorm.options,
    summary: "Batch normalisation over the channels.",
    fusesActivation: ["relu", "relu6"],
  },
  LayerNorm: {
    make: (o: never) => new LayerNorm(o),
    options: LayerNorm.options,
    summary: "Layer normalisation over the last axis (ConvNeXt).",
  },
  InstanceNorm: {
    make: (o: never) => new InstanceNorm(o),
    options: InstanceNorm.options,
    summary: "Instance normalisation: each sample's channels over their own pixels.",
  },
  LocalResponseNorm: {
    make: (o: never) => new LocalResponseNorm(o),
    options: LocalResponseNorm.options,
    summary: "Local response normalisation across neighbouring channels (ONNX LRN).",
  },
  ReduceChannels: {
    make: (o: never) => new ReduceChannels(o),
    options: ReduceChannels.options,
    summary: "Mean, max or sum over the channels, keeping a channel axis of 1.",
  },
  Reshape: {
    make: (o: never) => new Reshape(o),
    options: Reshape.options,
    summary: "Each sample to a new shape, values in place (NHWC order).",
  },
  Gelu: {
    make: (o: never) => new Gelu(o),
    options: Gelu.options,
    summary: "`x·Φ(x)` (erf, or the tanh approximation).",
  },
  PReLU: {
    make: (o: never) => new PReLU(o),
    options: PReLU.options,
    summary: "`x > 0 ? x : alpha·x` with trainable slopes.",
  },
  Unary: {
    make: (o: never) => new Unary(o),
    options: Unary.options,
    summary: "A math function element-wise (exp, log, sqrt, softplus, mish, elu, selu, …).",
  },
  Erf: {
    make: (o: never) => new Erf(o),
    options: Erf.options,
    summary: "The error function.",
  },
  Flatten: {
    make: (o: never) => new Flatten(o),
    options: Flatten.options,
    summary: "Each sample to one dimension.",
  },
  Pad2D: {
    make: (o: never) => new Pad2D(o),
    options: Pad2D.options,
    summary: "Constant padding of height and width.",
  },
  Upsample2D: {
    make: (o: never) => new Upsample2D(o),
    options: Upsample2D.options,
    summary:
      "Resize height and width: nearest or bilinear, by size or scale (PyTorch's interpolate, ONNX Resize).",
  },
  ChannelShuffle: {
    make: (o: never) => new ChannelShuffle(o),
    options: ChannelShuffle.options,
    summary: "ShuffleNet's channel shuffle.",
  },
  ChannelSlice: {
    make: (o: never) => new ChannelSlice(o),
    options: ChannelSlice.options,
    summary: "A range of channels (ONNX Slice/Split on the channel axis).",
  },
  Dropout: {
    make: (o: never) => new Dropout(o),
    options: Dropout.options,
    summary: "Dropout in training, identity in inference.",
  },
  ReLU: {
    make: (o: never) => new ReLU(o),
    options: ReLU.options,
    summary: "`max(0, x)`; NaN stays NaN.",
  },
  ReLU6: {
    make: (o: never) => new ReLU6(o),
    options: ReLU6.options,
    summary: "`min(max(0, x), 6)`; NaN stays NaN.",
  },
  LeakyReLU: {
    make: (o: never) => new LeakyReLU(o),
    options: LeakyReLU.options,
    summary: "`x > 0 ? x : alpha · x`.",
  },
  Clip: {
    make: (o: never) => new Clip(o),
    options: Clip.options,
    summary: "`min(max(x, min), max)`; NaN stays NaN.",
  },
  ScaleShift: {
    make: (o: never) => new ScaleShift(o),
    options: ScaleShift.options,
    summary: "`x · scale + shift` with constants.",
  },
  HardSigmoid: {
    make: (o: never) => new HardSigmoid(o),
    options: HardSigmoid.options,
    summary: "`clamp(alpha · x + beta, 0, 1)`.",
  },
  HardSwish: {
    make: (o: never) => new HardSwish(o),
    options: HardSwish.options,
    summary: "`x · ReLU6(x + 3) / 6`.",
  },
  Sigmoid: {
    make: (o: never) => new Sigmoid(o),
    options: Sigmoid.options,
    summary: "`1 / (1 + e^−x)`.",
  },
  SiLU: {
    make: (o: never) => new SiLU(o),
    options: SiLU.options,
    summary: "`x · sigmoid(x)` (Swish).",
  },
  Tanh: {
    make: (o: never) => new Tanh(o),
    options: Tanh.options,
    summary: "`tanh(x)`.",
  },
  Softmax: {
    make: (o: never) => new Softmax(o),
    options: Softmax.options,
    summary: "Softmax over the last axis (`fit` trains through it as logits).",
  },
  Add: {
    make: (o: never) => new Add(o),
    options: Add.options,
    summary: "Element-wise sum of its inputs, broadcasting (optional fused ReLU).",
  },
  Multiply: {
    make: (o: never) => new Multiply(o),
    options: Multiply.options,
    summary: "Element-wise product of its inputs, broadcasting (squeeze-and-excitation).",
  },
  Subtract: {
    make: (o: never) => new Subtract(o),
    options: Subtract.options,
    summary: "First input minus the second, broadcasting.",
  },
  Divide: {
    make: (o: never) => new Divide(o),
    options: Divide.options,
    summary: "First input over the second, broadcasting.",
  },
  Concatenate: {
    make: (o: never) => new Concatenate(o),
    options: Concatenate.options,
    summary: "Concatenation along the channels.",
  },
};

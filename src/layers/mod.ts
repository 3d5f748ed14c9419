// This module is browser compatible.

/**
 * Layers: `Conv2D`, `Dense` (both with an optional fused ReLU),
 * `MaxPool2D`, `AvgPool2D`, `ReLU`, `Flatten`, and `softmax` /
 * `softmaxCrossEntropy`. Each layer has `forward(x)` and `backward(dOut)`
 * and lists its trainable parameters in `params()`.
 *
 * @example Usage
 * ```ts
 * import { Conv2D, Dense, Flatten, MaxPool2D } from "@convnet/wasm/layers";
 * import { Sequential } from "@convnet/wasm/model";
 * const model = new Sequential([
 *   new Conv2D({ filters: 8, kernelSize: 3, padding: "same", activation: "relu" }),
 *   new MaxPool2D(),
 *   new Flatten(),
 *   new Dense({ units: 10 }),
 * ], [28, 28, 1]);
 * model.outputShape; // [10]
 * ```
 *
 * @module
 */

export * from "./layer.ts";
export * from "./layer_base.ts";
export { type GraphNode, Input, SymbolicTensor } from "./graph_node.ts";
export * from "./merge.ts";
export * from "./conv2d.ts";
export * from "./dense.ts";
export * from "./pool2d.ts";
export * from "./relu.ts";
export * from "./activations.ts";
export * from "./batch_norm.ts";
export * from "./layer_norm.ts";
export * from "./instance_norm.ts";
export * from "./lrn.ts";
export * from "./reduce.ts";
export * from "./reshape.ts";
export * from "./flatten.ts";
export * from "./pad2d.ts";
export * from "./channels.ts";
export * from "./upsample.ts";
export * from "./unary.ts";
export * from "./prelu.ts";
export * from "./softmax.ts";
export * from "./kinds.ts";
export * from "./elementwise.ts";
export type { OptionDecl, OptionDecls } from "./_declare.ts";

// This module is browser compatible.

/**
 * Models and training: `Sequential`, `fit`, `evaluate`, `trainStep`, the
 * `SGD` and `Adam` optimisers, safetensors model files (`saveModel`,
 * `loadModel`) and PyTorch weight conversion.
 *
 * @example Usage
 * ```ts
 * import { evaluate, fit, Sequential, SGD } from "@convnet/wasm/model";
 * import { Dense } from "@convnet/wasm/layers";
 * import { tensor } from "@convnet/wasm";
 * const model = new Sequential([new Dense({ units: 2 })], [2]);
 * const data = { x: tensor([1, 0, 0, 1], [2, 2]), labels: [0, 1] };
 * fit(model, data, { epochs: 20, batchSize: 2, optimizer: new SGD({ lr: 0.5 }) });
 * evaluate(model, data).accuracy; // 1
 * ```
 *
 * @module
 */

export * from "../core/random.ts";
export * from "./model.ts";
export * from "./sequential.ts";
export * from "./fuse.ts";
export * from "./optimizers.ts";
export * from "./train_step.ts";
export * from "./fit.ts";
export * from "./evaluate.ts";
export * from "./registry.ts";
export * from "./safetensors.ts";
export * from "./torch.ts";
export * from "./schedules.ts";
export * from "./checkpoint.ts";

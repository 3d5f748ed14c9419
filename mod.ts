// This module is browser compatible.

/**
 * Convolutional networks in TypeScript on plain `Float32Array`s, with
 * WebAssembly SIMD kernels and no dependencies: layers you stack and train,
 * model files, and the numpy tutorial's functions it began from.
 *
 * - Layers (`@convnet/wasm/layers`): `Conv2D`, `Dense`, `MaxPool2D`,
 *   `AvgPool2D`, `ReLU`, `Flatten`, `softmax`, `softmaxCrossEntropy`.
 * - Models and training (`@convnet/wasm/model`): `Sequential`, `fit`,
 *   `evaluate`, `predict`, `SGD`, `Adam`, `saveModel` / `loadModel`
 *   (safetensors), PyTorch weight conversion.
 * - The seed's functions (`@convnet/wasm/ops`): `convForward`,
 *   `convBackward`, `poolForward`, `poolBackward`, `zeroPad`, …
 * - Kernels (`@convnet/wasm/backend`): backend choice, `useKernels` for
 *   Cloudflare Workers.
 * - For your tests (`@convnet/wasm/testing`): `assertTensorClose`.
 *
 * Activations are NHWC (`[m, height, width, channels]`) and convolution
 * filters `[f, f, cIn, cOut]`. Every function checks its arguments and
 * throws a `TypeError` (wrong kind of value) or `RangeError` (wrong value)
 * naming the argument.
 *
 * @example Usage
 * ```ts
 * import { Conv2D, Dense, evaluate, fit, Flatten, MaxPool2D, Sequential, tensor } from "@convnet/wasm";
 * const model = new Sequential([
 *   new Conv2D({ filters: 4, kernelSize: 3, padding: "same", activation: "relu" }),
 *   new MaxPool2D({ poolSize: 2 }),
 *   new Flatten(),
 *   new Dense({ units: 2 }),
 * ], [8, 8, 1], { seed: 1 });
 * const x = tensor(new Float32Array(16 * 64).map((_, i) => (i % 64 < 32 ? 1 : 0)), [16, 8, 8, 1]);
 * const labels = Array.from({ length: 16 }, (_, i) => i % 2);
 * const history = fit(model, { x, labels }, { epochs: 2, batchSize: 8 });
 * history.epochs.length; // 2
 * evaluate(model, { x, labels }).confusion.length; // 2
 * ```
 *
 * @module
 */

export * from "./src/core/tensor.ts";
export * from "./src/version.ts";
export * from "./src/layers/mod.ts";
export * from "./src/model/mod.ts";
export * from "./src/ops/mod.ts";
export * from "./src/backend/mod.ts";
export * from "./src/onnx/mod.ts";

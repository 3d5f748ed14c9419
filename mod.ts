// This module is browser compatible.

/**
 * Convolutional-network layers on `Float32Array`, NHWC, with no dependencies.
 *
 * The functions follow a classic numpy tutorial's CNN (`zero_pad`,
 * `conv_forward`, `pool_forward`, `conv_backward`, `pool_backward`, …) but
 * are correct where it is not: backward passes honour the stride, work at
 * `pad = 0`, and accumulate where pooling windows overlap.
 *
 * @example Usage
 * ```ts
 * import { convForward, poolForward, tensor } from "@convnet/wasm";
 * const x = tensor(new Float32Array(28 * 28), [1, 28, 28, 1]);
 * const w = tensor(new Float32Array(5 * 5 * 1 * 8).fill(0.01), [5, 5, 1, 8]);
 * const { z } = convForward(x, w, new Float32Array(8), { stride: 1, pad: 2 });
 * const { a } = poolForward(z, { f: 2, stride: 2 });
 * a.shape; // [1, 14, 14, 8]
 * ```
 *
 * @module
 */

export * from "./src/core/tensor.ts";
export * from "./src/ops/zero_pad.ts";
export * from "./src/ops/conv_single_step.ts";
export * from "./src/ops/conv_forward.ts";
export * from "./src/ops/conv_backward.ts";
export * from "./src/ops/pool_forward.ts";
export * from "./src/ops/pool_backward.ts";
export * from "./src/ops/pool_masks.ts";
export {
  availableBackends,
  type Backend,
  getBackend,
  getMemoryLimit,
  initKernels,
  KernelLoadError,
  kernelMemoryBytes,
  KernelMemoryError,
  setBackend,
  setMemoryLimit,
  useKernels,
} from "./src/backend/select.ts";
export * from "./src/layers/layer.ts";
export * from "./src/layers/conv2d.ts";
export * from "./src/layers/dense.ts";
export * from "./src/layers/pool2d.ts";
export * from "./src/layers/relu.ts";
export * from "./src/layers/flatten.ts";
export * from "./src/layers/softmax.ts";
export * from "./src/core/random.ts";
export * from "./src/model/sequential.ts";
export * from "./src/model/optimizers.ts";
export * from "./src/model/train_step.ts";
export * from "./src/model/registry.ts";
export * from "./src/model/safetensors.ts";
export * from "./src/model/torch.ts";

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

export * from "./src/tensor.ts";
export * from "./src/zero_pad.ts";
export * from "./src/conv_single_step.ts";
export * from "./src/conv_forward.ts";
export * from "./src/conv_backward.ts";
export * from "./src/pool_forward.ts";
export * from "./src/pool_backward.ts";
export * from "./src/pool_masks.ts";
export * from "./src/backend.ts";

// This module is browser compatible.

/**
 * Helpers for your own `deno test` runs: NaN-safe comparison of tensors.
 * This library's own test suite uses them for every numeric comparison.
 *
 * @example Usage
 * ```ts
 * import { assertTensorClose } from "@convnet/wasm/testing";
 * import { softmax, tensor } from "@convnet/wasm";
 * assertTensorClose(softmax(tensor([0, 0], [1, 2])), tensor([0.5, 0.5], [1, 2]), 1e-7);
 * ```
 *
 * @module
 */

export * from "./assert_close.ts";
export * from "./check_gradients.ts";

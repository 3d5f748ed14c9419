// This module is browser compatible.

/**
 * The seed's functions, corrected: `zeroPad`, `convSingleStep`,
 * `convForward`, `convBackward`, `poolForward`, `poolBackward`,
 * `createMaskFromWindow` and `distributeValue`, on NHWC `Float32Array`
 * tensors with `[f, f, cIn, cOut]` filters and a `cache` from forward to
 * backward.
 *
 * @example Usage
 * ```ts
 * import { convForward, poolForward } from "@convnet/wasm/ops";
 * import { tensor } from "@convnet/wasm";
 * const x = tensor(new Float32Array(28 * 28), [1, 28, 28, 1]);
 * const w = tensor(new Float32Array(5 * 5 * 8).fill(0.01), [5, 5, 1, 8]);
 * const { z } = convForward(x, w, new Float32Array(8), { stride: 1, pad: 2 });
 * poolForward(z, { f: 2, stride: 2 }).a.shape; // [1, 14, 14, 8]
 * ```
 *
 * @module
 */

export * from "./zero_pad.ts";
export * from "./conv_single_step.ts";
export * from "./conv_forward.ts";
export * from "./conv_backward.ts";
export * from "./pool_forward.ts";
export * from "./pool_backward.ts";
export * from "./pool_masks.ts";
export * from "./conv_transpose.ts";

// This module is browser compatible.

/**
 * ONNX: {@linkcode loadOnnx} reads a CNN exported from PyTorch (or any ONNX
 * producer) into a {@linkcode Model}; {@linkcode saveOnnx} writes one of our
 * models as ONNX. Our own protobuf reader checks every length before it
 * allocates; errors are {@linkcode OnnxFormatError} and
 * {@linkcode OnnxUnsupportedError}.
 *
 * @example Usage
 * ```ts
 * import { loadOnnx, saveOnnx } from "@convnet/wasm/onnx";
 * import { Dense, Sequential } from "@convnet/wasm";
 * const bytes = saveOnnx(new Sequential([new Dense({ units: 3 })], [4]));
 * loadOnnx(bytes).outputShape; // [3]
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./load_onnx.ts";
export * from "./save_onnx.ts";
export * from "./layout.ts";

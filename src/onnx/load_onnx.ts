// This module is browser compatible.

import type { Model } from "../model/model.ts";
import { checkOptions, checkPositiveInt, fail } from "../core/_validate.ts";
import { decodeModel } from "./_schema.ts";
import { buildModel } from "./_importer.ts";
import { OnnxFormatError, OnnxUnsupportedError } from "./errors.ts";
import { OPS } from "./ops/mod.ts";

/** Options of {@linkcode loadOnnx}. */
export interface LoadOnnxOptions {
  /**
   * The most weights (float elements of all initializers) the file may
   * hold; a larger file fails before its data is copied. Default 2^28.
   */
  maxParameters?: number;
  /**
   * The most values one sample may hold at any layer's output (default
   * 2^24, 64 MiB of float32): a file whose shapes blow up (a pad or a
   * transposed convolution's stride of millions) is refused at load rather
   * than allocating gigabytes at `predict`.
   */
  maxActivation?: number;
}

/** One operator {@linkcode loadOnnx} reads. */
export interface OnnxOperatorInfo {
  /** Its name in ONNX's default domain. */
  readonly op: string;
  /** The opsets whose form is read, when narrower than {@linkcode ONNX_OPSETS}. */
  readonly opsets?: readonly [number, number];
  /** What is supported, in a few words. */
  readonly doc: string;
}

/**
 * Every operator {@linkcode loadOnnx} reads, from the importer's table.
 *
 * @example Usage
 * ```ts
 * import { ONNX_OPERATORS } from "@convnet/wasm/onnx";
 * ONNX_OPERATORS.some((o) => o.op === "Resize"); // true
 * ```
 */
export const ONNX_OPERATORS: readonly OnnxOperatorInfo[] = OPS.map((o) => ({
  op: o.op,
  ...(o.opsets ? { opsets: o.opsets } : {}),
  doc: o.doc,
}));

/** The opsets of the default domain the importer reads. */
export const ONNX_OPSETS: readonly [number, number] = [9, 21];

/**
 * Loads a CNN from an ONNX file (for example one exported from PyTorch with
 * `torch.onnx.export`) as a {@linkcode Model} in inference mode, synchronously.
 *
 * The model works in this library's layout: an ONNX input `[N, C, H, W]` is
 * fed as `[N, H, W, C]`, a 4-D output comes back `[N, H, W, C]`, a 2-D one as
 * it is; a 1-D input `[N, C, L]` is fed as `[N, 1, L, C]`. `model.inputShape`
 * and `model.outputShape` give one sample's NHWC shape. The batch dimension
 * is always dynamic. Weights are transposed once, here; then `fuse()`
 * folds each BatchNormalization into the convolution or Gemm before it and
 * makes a Relu after one its fused activation, and a zero Pad before a
 * convolution or a counting average pooling becomes its padding.
 *
 * Operators (opsets 9–21): convolutions, pooling, reductions, the
 * normalisations, the activations and element-wise math, broadcasting
 * arithmetic, Resize/Upsample, channel slices, shuffles and concatenation,
 * Gemm and MatMul, and the shape arithmetic exporters emit around them when
 * it folds to constants: {@linkcode ONNX_OPERATORS} lists each with what is
 * read (the README's operator list is written from it).
 *
 * @example Usage
 * ```ts
 * import { Conv2D, Flatten, loadOnnx, saveOnnx, Sequential, tensor } from "@convnet/wasm";
 * // In practice: const bytes = await Deno.readFile("model.onnx"), from torch.onnx.export.
 * const bytes = saveOnnx(new Sequential([new Conv2D({ filters: 2, kernelSize: 3 }), new Flatten()], [5, 5, 1]));
 * const model = loadOnnx(bytes);
 * model.inputShape; // [5, 5, 1]
 * model.predict(tensor(new Float32Array(25), [1, 5, 5, 1])).shape; // [1, 18]
 * ```
 *
 * @param bytes The `.onnx` file's contents.
 * @param options `maxParameters`, `maxActivation`.
 * @returns The model, in inference mode (call `setTraining(true)` to fine-tune it).
 * @throws {OnnxFormatError} The file is not a well-formed ONNX model.
 * @throws {OnnxUnsupportedError} It uses operators or attributes this library cannot run (all are listed).
 * @throws {TypeError} `bytes` is not a `Uint8Array`, or an option has the wrong type.
 */
export function loadOnnx(bytes: Uint8Array, options: LoadOnnxOptions = {}): Model {
  if (!(bytes instanceof Uint8Array)) fail(TypeError, "loadOnnx", "bytes", "a Uint8Array", bytes);
  const o = checkOptions("loadOnnx", "options", options, ["maxParameters", "maxActivation"]);
  const maxParameters = o["maxParameters"] === undefined
    ? 2 ** 28
    : checkPositiveInt("loadOnnx", "options.maxParameters", o["maxParameters"]);
  const maxActivation = o["maxActivation"] === undefined
    ? 2 ** 24
    : checkPositiveInt("loadOnnx", "options.maxActivation", o["maxActivation"]);
  const m = decodeModel(bytes, { maxElements: maxParameters });
  if (!m.graph) {
    throw new OnnxFormatError("model.graph", "the file has no graph (not an ONNX model?)");
  }
  if (m.opsets.size === 0) {
    throw new OnnxFormatError(
      "model.opset_import",
      "the file declares no opset (required since IR version 3)",
    );
  }
  const opset = m.opsets.get("") ?? 0;
  const problems = [];
  if (opset < ONNX_OPSETS[0] || opset > ONNX_OPSETS[1]) {
    problems.push({
      node: "",
      opType: "",
      reason: `opset ${opset || "(none declared)"} of the default domain; ${ONNX_OPSETS[0]} to ${
        ONNX_OPSETS[1]
      } are supported (re-export with opset_version=13, say)`,
    });
  }
  if (problems.length) throw new OnnxUnsupportedError(problems);
  return buildModel(m.graph, opset, maxParameters, maxActivation, bytes.buffer);
}

// This module is browser compatible.

/**
 * The errors of the ONNX reader and importer.
 *
 * @module
 */

/**
 * A malformed ONNX file: a truncated field, a length past the end, a tensor
 * whose data does not fill its dimensions, a graph that refers to a value
 * nothing produces. The message says where (`graph.node[3].attribute[1]`).
 *
 * @example Usage
 * ```ts
 * import { loadOnnx, OnnxFormatError } from "@convnet/wasm";
 * try {
 *   loadOnnx(new Uint8Array([0x0a, 0x05, 0x01]));
 * } catch (e) {
 *   console.log(e instanceof OnnxFormatError); // true
 * }
 * ```
 */
export class OnnxFormatError extends Error {
  /** Where in the file the problem is, e.g. `graph.initializer[2]`. */
  readonly path: string;

  /**
   * Creates an OnnxFormatError.
   *
   * @param path Where in the file (a dotted field path).
   * @param message What is wrong there.
   */
  constructor(path: string, message: string) {
    super(`loadOnnx: malformed ONNX file at ${path}: ${message}`);
    this.name = "OnnxFormatError";
    this.path = path;
  }
}

/** One thing in an ONNX file the importer cannot express. */
export interface OnnxUnsupportedItem {
  /** The node's name (or `#index` when it has none); empty for file-level items. */
  node: string;
  /** The operator type, e.g. `"Resize"`; empty for file-level items. */
  opType: string;
  /** What is unsupported, e.g. `operator Resize` or `attribute auto_pad="SAME_LOWER"`. */
  reason: string;
}

/**
 * A well-formed ONNX file that uses operators or attributes this library
 * cannot run. It lists **every** unsupported item in the file at once (not
 * only the first), each with its node's name.
 *
 * @example Usage
 * ```ts
 * import { OnnxUnsupportedError } from "@convnet/wasm";
 * const e = new OnnxUnsupportedError([{ node: "r1", opType: "Resize", reason: "operator Resize" }]);
 * console.log(e.items.length); // 1
 * ```
 */
export class OnnxUnsupportedError extends Error {
  /** Every unsupported item found. */
  readonly items: readonly OnnxUnsupportedItem[];

  /**
   * Creates an OnnxUnsupportedError.
   *
   * @param items Every unsupported item found (at least one).
   */
  constructor(items: readonly OnnxUnsupportedItem[]) {
    const lines = items.map((i) =>
      i.node ? `  - node "${i.node}" (${i.opType}): ${i.reason}` : `  - ${i.reason}`
    );
    super(
      `loadOnnx: the file uses ${items.length} thing(s) this library does not support:\n${
        lines.join("\n")
      }`,
    );
    this.name = "OnnxUnsupportedError";
    this.items = items;
  }
}

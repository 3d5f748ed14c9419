// This module is browser compatible.

/**
 * The shape of one ONNX operator's mapping (private). Each operator is one
 * entry `{ op, doc, import }` in its family's module; `ops/mod.ts` lists
 * them all, and the driver, the stand-in rule, the README's operator list
 * and the refusal list are read from that one table.
 *
 * @module
 */

import type { ImportContext, OnnxNode } from "../_context.ts";

/** One ONNX operator (default domain) the importer reads. */
export interface OnnxOp {
  /** The operator's name, as in the file. */
  readonly op: string;
  /** The opsets whose form this mapping reads, `[first, last]` (default: every opset the importer reads). */
  readonly opsets?: readonly [number, number];
  /** What is supported, in a few words (the README's operator list). */
  readonly doc: string;
  /** The output has the first input's shape (so a refused node can be stood in for and the nodes after it still checked). */
  readonly sameShape?: boolean;
  /** Maps the node: sets its outputs' values or throws `Unsupported` with the reason. */
  import(ctx: ImportContext, node: OnnxNode): void;
}

/** An operator the importer knows and refuses, with the reason given. */
export interface RefusedOp {
  readonly op: string;
  readonly reason: string;
  readonly sameShape?: boolean;
}

// This module is browser compatible.

/**
 * The one table of ONNX operators (private): what the importer reads
 * (`OPS`, each a small mapping in its family's module) and what it knows
 * and refuses (`REFUSED`, with the reason its error gives). The driver
 * dispatches from it, a refused element-wise node is stood in for from its
 * `sameShape`, and `scripts/gen_docs.ts` writes the README's operator list
 * from it.
 *
 * @module
 */

import type { OnnxOp, RefusedOp } from "./_op.ts";
import { CONV_OPS } from "./conv.ts";
import { POOL_OPS } from "./pool.ts";
import { NORM_OPS } from "./norm.ts";
import { ACTIVATION_OPS } from "./activation.ts";
import { UNARY_OPS } from "./unary.ts";
import { ARITH_OPS } from "./arith.ts";
import { DENSE_OPS } from "./dense.ts";
import { SHAPE_OPS } from "./shape.ts";
import { CHANNEL_OPS } from "./channels.ts";
import { RESIZE_OPS } from "./resize.ts";
import { PAD_OPS } from "./pad.ts";
import { FOLD_OPS } from "./fold.ts";

export type { OnnxOp, RefusedOp };

/** Every operator the importer reads, by family. */
export const OP_FAMILIES: readonly { readonly family: string; readonly ops: readonly OnnxOp[] }[] =
  [
    { family: "Convolution and dense", ops: [...CONV_OPS, ...DENSE_OPS] },
    { family: "Pooling and reductions", ops: POOL_OPS },
    { family: "Normalisation", ops: NORM_OPS },
    { family: "Activations", ops: ACTIVATION_OPS },
    { family: "Element-wise math", ops: [...UNARY_OPS, ...ARITH_OPS] },
    {
      family: "Shapes, channels and resizing",
      ops: [...SHAPE_OPS, ...CHANNEL_OPS, ...RESIZE_OPS, ...PAD_OPS],
    },
    { family: "Constants and plumbing", ops: FOLD_OPS },
  ];

/** Every operator the importer reads. */
export const OPS: readonly OnnxOp[] = OP_FAMILIES.flatMap((f) => f.ops);

const elementwise = (op: string): RefusedOp => ({
  op,
  reason: "an element-wise function with no layer here",
  sameShape: true,
});

/** Operators the importer knows it cannot run, and why (each is named in the error). */
export const REFUSED: readonly RefusedOp[] = [
  ...["Ceil", "Floor", "Round", "Sign", "Sin", "Cos", "Tan", "ThresholdedRelu", "Celu"].map(
    elementwise,
  ),
  { op: "LSTM", reason: "recurrent layers are not supported" },
  { op: "GRU", reason: "recurrent layers are not supported" },
  { op: "RNN", reason: "recurrent layers are not supported" },
  { op: "Loop", reason: "control flow is not supported" },
  { op: "If", reason: "control flow is not supported" },
  { op: "Scan", reason: "control flow is not supported" },
  { op: "NonMaxSuppression", reason: "detection post-processing is not supported" },
  { op: "RoiAlign", reason: "detection heads are not supported" },
  { op: "TopK", reason: "data-dependent shapes are not supported" },
  { op: "NonZero", reason: "data-dependent shapes are not supported" },
  { op: "ArgMax", reason: "integer outputs are not supported" },
  { op: "ArgMin", reason: "integer outputs are not supported" },
  { op: "Einsum", reason: "general tensor contractions are not supported" },
  { op: "GridSample", reason: "sampling by a computed grid is not supported" },
  { op: "DeformConv", reason: "deformable convolutions are not supported" },
  { op: "MaxUnpool", reason: "unpooling is not supported" },
  {
    op: "GroupNormalization",
    reason: "group normalisation has no layer here yet",
    sameShape: true,
  },
  { op: "QuantizeLinear", reason: "quantized models are not supported yet" },
  { op: "DequantizeLinear", reason: "quantized models are not supported yet" },
  { op: "QLinearConv", reason: "quantized models are not supported yet" },
  { op: "ConvInteger", reason: "quantized models are not supported yet" },
];

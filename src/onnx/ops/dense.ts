// This module is browser compatible.

/** Gemm and MatMul by constant weights (private). */

import { Conv2D } from "../../layers/conv2d.ts";
import { Dense } from "../../layers/dense.ts";
import { chwRowsToHwc, transpose2d } from "../../core/_layout.ts";
import { size } from "../_const.ts";
import type { ImportContext, OnnxNode } from "../_context.ts";
import { onnxShape, type Sym, Unsupported } from "../_values.ts";
import type { OnnxOp } from "./_op.ts";

/** A dense layer from a `[K, M]` weight (already transposed and scaled). */
function dense(
  ctx: ImportContext,
  n: OnnxNode,
  x: Sym,
  B: Float32Array,
  K: number,
  M: number,
  bias: Float32Array,
): void {
  if (x.nhwc) {
    // A MatMul over the last axis of an [N, H, W, C] view (ConvNeXt's Linear): a 1×1 convolution.
    const C = x.t.shape[2]!;
    if (K !== C) throw new Unsupported(`weights for ${K} features, the input has ${C} channels`);
    const layer = new Conv2D({ filters: M, kernelSize: 1, name: n.layerName() });
    return ctx.applyLike(n, layer, x, [B, bias]);
  }
  if (x.rank !== 2) {
    throw new Unsupported(`a ${x.rank}-D input (a 2-D [N, features] input is supported)`);
  }
  const feat = size(onnxShape(x));
  if (K !== feat) throw new Unsupported(`weights for ${K} features, the input has ${feat}`);
  // After a flatten kept in our order, our feature (h, w, c) is ONNX's (c, h, w): permute the rows.
  const w = x.hwcFrom ? chwRowsToHwc(B, x.hwcFrom, M) : B;
  const layer = new Dense({ units: M, name: n.layerName() });
  n.out(ctx.plain(ctx.apply(layer, x, [w, bias]), 2));
}

export const DENSE_OPS: readonly OnnxOp[] = [
  {
    op: "Gemm",
    doc: "`A · B + C` with constant B and C (transB, alpha, beta; not transA)",
    import(ctx, n) {
      n.attrs(["alpha", "beta", "transA", "transB"]);
      if (n.int("transA", 0)) throw new Unsupported("transA = 1");
      const x = ctx.sym(n.ins[0], "input A");
      const Bc = ctx.constant(n.ins[1], "input B");
      if (Bc.dims.length !== 2) throw new Unsupported(`B of shape [${Bc.dims.join(", ")}]`);
      const transB = n.int("transB", 0) === 1;
      const [K, M] = transB ? [Bc.dims[1]!, Bc.dims[0]!] : [Bc.dims[0]!, Bc.dims[1]!];
      const alpha = n.float("alpha", 1), beta = n.float("beta", 1);
      const src = ctx.floats(Bc, "B");
      const B = transB ? transpose2d(src, M, K) : Float32Array.from(src);
      if (alpha !== 1) { for (let i = 0; i < B.length; i++) B[i] = alpha * B[i]!; }
      const bias = new Float32Array(M);
      if (n.ins[2]) {
        const Cc = ctx.constant(n.ins[2], "input C"), k = size(Cc.dims), cv = ctx.floats(Cc, "C");
        if (!(k === 1 || (k === M && Cc.dims.at(-1) === M))) {
          throw new Unsupported(
            `C of shape [${Cc.dims.join(", ")}] (a bias of ${M} or a scalar is supported)`,
          );
        }
        for (let m = 0; m < M; m++) bias[m] = beta * cv[k === 1 ? 0 : m]!;
      }
      dense(ctx, n, x, B, K, M, bias);
    },
  },
  {
    op: "MatMul",
    doc:
      "by a constant [K, M] (a bias Add after it is folded): Dense, or a 1×1 Conv over an NHWC view",
    import(ctx, n) {
      n.attrs([]);
      const x = ctx.sym(n.ins[0], "input A", true);
      const Bc = ctx.constant(n.ins[1], "input B");
      if (Bc.dims.length !== 2) {
        throw new Unsupported(`B of shape [${Bc.dims.join(", ")}] (2-D is supported)`);
      }
      const [K, M] = Bc.dims as [number, number];
      const B = Float32Array.from(ctx.floats(Bc, "B"));
      const bias = new Float32Array(M);
      // A bias added right after (nn.Linear on some exporters, x @ W + b): fold it.
      const next = n.next();
      if (next && next.node.opType === "Add" && next.node.domain === "") {
        const other = next.node.inputs[1 - next.slot];
        const v = other ? ctx.vals.get(other) : undefined;
        if (
          v?.kind === "const" &&
          ((size(v.c.dims) === M && v.c.dims.at(-1) === M) || size(v.c.dims) === 1)
        ) {
          const cv = ctx.floats(v.c, "the bias");
          for (let m = 0; m < M; m++) bias[m] = cv[cv.length === 1 ? 0 : m]!;
          n.absorb(next.node);
        }
      }
      dense(ctx, n, x, B, K, M, bias);
    },
  },
];

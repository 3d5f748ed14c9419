// This module is browser compatible.

/** Normalisations (private): BatchNormalization, LayerNormalization, InstanceNormalization, LRN. */

import { BatchNorm } from "../../layers/batch_norm.ts";
import { LayerNorm } from "../../layers/layer_norm.ts";
import { InstanceNorm } from "../../layers/instance_norm.ts";
import { LocalResponseNorm } from "../../layers/lrn.ts";
import { axis } from "../_const.ts";
import type { ImportContext, OnnxNode } from "../_context.ts";
import { onnxShape, Unsupported } from "../_values.ts";
import type { OnnxOp } from "./_op.ts";

function epsilon(n: OnnxNode): number {
  const eps = n.float("epsilon", 1e-5);
  if (!(eps > 0)) throw new Unsupported(`epsilon ${eps}`);
  return eps;
}

/** Per-channel scale and bias inputs (`k`, `k + 1`) of `C` values. */
function affine(ctx: ImportContext, n: OnnxNode, k: number, C: number, biasOptional = false) {
  const gamma = Float32Array.from(
    ctx.floats(ctx.constant(n.ins[k], "the scale"), "the scale", [C]),
  );
  const beta = biasOptional && !n.ins[k + 1]
    ? new Float32Array(C)
    : Float32Array.from(ctx.floats(ctx.constant(n.ins[k + 1], "the bias"), "the bias", [C]));
  return [gamma, beta];
}

export const NORM_OPS: readonly OnnxOp[] = [
  {
    op: "BatchNormalization",
    doc: "inference form; folded into the convolution or Gemm before it by `fuse()`",
    sameShape: true,
    import(ctx, n) {
      n.attrs(["epsilon", "momentum", "training_mode", "spatial"]);
      if (n.int("training_mode", 0)) throw new Unsupported("training_mode = 1");
      if (n.proto.outputs.filter(Boolean).length > 1) {
        throw new Unsupported("running-statistics outputs (training mode)");
      }
      const x = ctx.sym(n.ins[0], "the input");
      if (x.hwcFrom) throw new Unsupported("BatchNormalization after a flatten");
      const C = onnxShape(x)[0]!;
      const [gm, bt, mu, vr] = [1, 2, 3, 4].map((k) =>
        ctx.floats(ctx.constant(n.ins[k], `input ${k}`), `input ${k}`, [C])
      );
      const eps = epsilon(n), bad = vr!.findIndex((v) => !(v + eps > 0 && v < Infinity));
      if (bad >= 0) {
        throw new Unsupported(`a variance of ${vr![bad]} at channel ${bad} (variances are ≥ 0)`);
      }
      const layer = new BatchNorm({ epsilon: eps, name: n.layerName() });
      n.out(ctx.plain(ctx.apply(layer, x, [gm!, bt!], [mu!, vr!]), x.rank));
    },
  },
  {
    op: "LayerNormalization",
    doc: "over the last axis: the channels of an [N, H, W, C] view, or the features of [N, C]",
    sameShape: true,
    import(ctx, n) {
      n.attrs(["axis", "epsilon", "stash_type"]);
      const x = ctx.sym(n.ins[0], "the input", true);
      const given = n.int("axis", -1), ax = axis(given, x.rank);
      if (ax !== x.rank - 1 || !(x.nhwc || x.rank === 2)) {
        throw new Unsupported(
          `normalisation from axis ${given} of a ${x.rank}-D ${
            x.nhwc ? "NHWC " : ""
          }tensor (over the channels of an [N, H, W, C] view, or of [N, C], is supported)`,
        );
      }
      const C = x.t.shape[x.t.shape.length - 1]!;
      const layer = new LayerNorm({ epsilon: epsilon(n), name: n.layerName() });
      ctx.applyLike(n, layer, x, affine(ctx, n, 1, C, true));
    },
  },
  {
    op: "InstanceNormalization",
    doc: "of a map",
    sameShape: true,
    import(ctx, n) {
      n.attrs(["epsilon"]);
      const x = ctx.sym(n.ins[0], "the input");
      if (x.rank === 2) throw new Unsupported("a 2-D input (instance normalisation needs a map)");
      const C = onnxShape(x)[0]!;
      const layer = new InstanceNorm({ epsilon: epsilon(n), name: n.layerName() });
      n.out(ctx.plain(ctx.apply(layer, x, affine(ctx, n, 1, C)), x.rank));
    },
  },
  {
    op: "LRN",
    doc: "across channels (any size, alpha, beta, bias)",
    sameShape: true,
    import(ctx, n) {
      n.attrs(["size", "alpha", "beta", "bias"]);
      const x = ctx.sym(n.ins[0], "the input");
      if (x.hwcFrom) throw new Unsupported("LRN after a flatten");
      const size = n.int("size", 0);
      if (!(size >= 1)) throw new Unsupported(`size ${size}`);
      const alpha = n.float("alpha", 1e-4), beta = n.float("beta", 0.75), bias = n.float("bias", 1);
      if (!(alpha >= 0 && beta >= 0 && bias > 0)) {
        throw new Unsupported(`alpha ${alpha}, beta ${beta}, bias ${bias}`);
      }
      const layer = new LocalResponseNorm({ size, alpha, beta, bias, name: n.layerName() });
      n.out(ctx.plain(ctx.apply(layer, x), x.rank));
    },
  },
];

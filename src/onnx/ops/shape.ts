// This module is browser compatible.

/**
 * Shapes of computed tensors (private): Flatten, Reshape (to `[N, features]`,
 * and ShuffleNet's channel shuffle), Transpose (to NHWC and back), Squeeze,
 * Unsqueeze, Expand and Concat; each folds when its input is a constant.
 */

import { Flatten } from "../../layers/flatten.ts";
import { Reshape } from "../../layers/reshape.ts";
import { Concatenate } from "../../layers/merge.ts";
import { ChannelShuffle } from "../../layers/channels.ts";
import { Upsample2D } from "../../layers/upsample.ts";
import { axis, broadcastShape, concat, type Const, expand, size, transpose } from "../_const.ts";
import type { ImportContext, OnnxNode } from "../_context.ts";
import { onnxShape, type Sym, Unsupported, type Val } from "../_values.ts";
import type { OnnxOp } from "./_op.ts";

const batchLike = (d: number) => Number.isNaN(d) || d === 0 || d === -1;

/** A folded result, or the reason it cannot fold. */
function folded(n: OnnxNode, r: Const | string): void {
  if (typeof r === "string") throw new Unsupported(`constant ${n.op}: ${r}`);
  n.out({ kind: "const", c: r });
}

/** A flatten of `x` to [N, features]: free when the order does not matter or a Gemm follows. */
function flattenTo(ctx: ImportContext, n: OnnxNode, x: Sym): void {
  if (x.rank === 2) return n.out(x);
  if (x.nhwc) {
    // Transpose(0, 2, 3, 1) then flatten: exactly our memory order.
    return n.out(ctx.plain(ctx.apply(new Flatten({ name: n.layerName() }), x), 2));
  }
  const [C, ...sp] = onnxShape(x), hw = size(sp);
  const out = n.outputs[0]!;
  const cons = ctx.consumers.get(out) ?? [];
  const gemmOnly = !ctx.graphOutputs.has(out) && cons.length > 0 &&
    cons.every((c) =>
      c.slot === 0 && (c.node.opType === "Gemm" || c.node.opType === "MatMul") &&
      c.node.domain === ""
    );
  const plain = hw === 1 || C === 1;
  const layer = new Flatten({ order: plain || gemmOnly ? "hwc" : "chw", name: n.layerName() });
  const v = ctx.plain(ctx.apply(layer, x), 2);
  if (!plain && gemmOnly) v.hwcFrom = [C!, x.rank === 4 ? sp[0]! : 1, sp.at(-1)!];
  n.out(v);
}

/** Resolves a Reshape target against constant data dims (0 copies, -1 infers). */
function resolveReshape(inDims: number[], target: number[], allowZero: boolean): number[] | string {
  const k = size(inDims);
  const out = target.map((d, i) => (d === 0 && !allowZero ? inDims[i] ?? NaN : d));
  const neg = out.filter((d) => d === -1).length;
  if (neg > 1 || out.some((d) => Number.isNaN(d) || d < -1)) return `target [${target.join(", ")}]`;
  if (neg === 1) {
    const known = size(out.filter((d) => d !== -1));
    if (known === 0 || k % known) return `target [${target.join(", ")}]`;
    out[out.indexOf(-1)] = k / known;
  }
  return size(out) === k ? out : `target [${target.join(", ")}] for ${k} elements`;
}

/**
 * ShuffleNet's channel shuffle, in three nodes: a Reshape to
 * `[N, g, C/g, ...]` (kept as a "grouped" value), a Transpose swapping
 * those two axes, and a Reshape back to `[N, C, ...]`, which becomes one
 * ChannelShuffle. Returns false when this Reshape is none of these.
 */
function channelShuffle(ctx: ImportContext, n: OnnxNode, v: Val, t: number[]): boolean {
  if (v.kind === "grouped") {
    const x = v.x, s = onnxShape(x), c = s[0]!, spatial = s.slice(1);
    const ok = v.transposed && t.length === x.rank && batchLike(t[0]!) &&
      (t[1] === c || t[1] === -1) && spatial.every((d, i) => t[2 + i] === d || t[2 + i] === 0);
    if (!ok) {
      throw new Unsupported("a reshape of a [N, g, C/g, H, W] view other than a channel shuffle");
    }
    const layer = new ChannelShuffle({ groups: v.groups, name: n.layerName() });
    n.out(ctx.plain(ctx.apply(layer, x), x.rank));
    return true;
  }
  if (v.kind !== "sym") return false;
  const x = v, s = onnxShape(x), c = s[0]!, spatial = s.slice(1);
  if (x.nhwc || x.hwcFrom || t.length !== x.rank + 1 || !batchLike(t[0]!)) return false;
  const g = t[1]!, per = t[2]!;
  if (!(g > 0 && per > 0 && g * per === c) || spatial.some((d, i) => t[3 + i] !== d)) {
    return false;
  }
  n.out({ kind: "grouped", x, groups: g, transposed: false });
  return true;
}

/** Axes from input 1 (opset 13 on) or the attribute (before). */
function axesOf(ctx: ImportContext, n: OnnxNode): number[] | null {
  return n.ins[1] ? ctx.numbers(n.ins[1], "axes") : n.ints("axes");
}

/** `[N, C]` → `[N, C, 1, 1]` (or `[N, C, 1]`): a map of one pixel. */
function toMap(ctx: ImportContext, n: OnnxNode, x: Sym, rank: 3 | 4): void {
  const C = x.t.shape[0]!;
  const layer = new Reshape({ shape: [1, 1, C], name: n.layerName() });
  n.out(ctx.plain(ctx.apply(layer, x), rank));
}

export const SHAPE_OPS: readonly OnnxOp[] = [
  {
    op: "Flatten",
    doc: "after the batch axis",
    import(ctx, n) {
      n.attrs(["axis"]);
      const x = ctx.sym(n.ins[0], "the input", true);
      const given = n.int("axis", 1);
      if (axis(given, x.rank, true) !== 1) {
        throw new Unsupported(`axis ${given} (flattening after the batch axis, 1, is supported)`);
      }
      flattenTo(ctx, n, x);
    },
  },
  {
    op: "Reshape",
    doc: "to [N, features], a channel shuffle, to its own shape; folded",
    import(ctx, n) {
      n.attrs(["allowzero"]);
      const t = ctx.numbers(n.ins[1], "the target shape");
      const v = n.ins[0];
      if (v?.kind === "const") {
        const dims = resolveReshape(v.c.dims, t, n.int("allowzero", 0) === 1);
        if (typeof dims === "string") throw new Unsupported(`a constant reshape: ${dims}`);
        return n.out({ kind: "const", c: { dims, data: v.c.data, isInt: v.c.isInt } });
      }
      if (v && channelShuffle(ctx, n, v, t)) return;
      const x = ctx.sym(v, "the input", true);
      const feat = size(onnxShape(x));
      const ok = t.length === 2 && (
        (batchLike(t[0]!) && (t[1] === -1 || t[1] === feat) && !(t[0] === -1 && t[1] === -1)) ||
        (t[0] === -1 && t[1] === feat)
      );
      if (ok) return flattenTo(ctx, n, x);
      const same = !x.nhwc && t.length === x.rank && batchLike(t[0]!) &&
        t.slice(1).every((d, i) => d === onnxShape(x)[i] || d === 0);
      if (same) return n.out(x);
      if (x.rank === 2 && !x.hwcFrom && (t.length === 4 || t.length === 3) && batchLike(t[0]!)) {
        const C = x.t.shape[0]!;
        if ((t[1] === C || t[1] === -1) && t.slice(2).every((d) => d === 1)) {
          return toMap(ctx, n, x, t.length as 3 | 4);
        }
        // [N, F] → [N, H, W, C]: our order already, as a map transposed to NHWC (a Transpose
        // back to [N, C, H, W] follows; our exporter writes a Reshape layer so).
        const rest = t.slice(1), known = rest.filter((d) => d !== -1);
        const k = size(known), free = rest.length - known.length;
        if (t.length === 4 && known.every((d) => d > 0) && free <= 1 && k > 0 && feat % k === 0) {
          const hwc = rest.map((d) => (d === -1 ? feat / k : d));
          if (size(hwc) === feat) {
            const layer = new Reshape({ shape: hwc, name: n.layerName() });
            return n.out({ ...ctx.plain(ctx.apply(layer, x), 4), nhwc: true });
          }
        }
      }
      throw new Unsupported(
        `a reshape of [N, ${onnxShape(x).join(", ")}] to [${
          t.map((d) => (Number.isNaN(d) ? "N" : d)).join(", ")
        }] (to [N, features], [N, C, 1, 1] from [N, C], or a channel shuffle is supported)`,
      );
    },
  },
  {
    op: "Transpose",
    doc: "[0, 2, 3, 1] to an NHWC view and back, a channel shuffle's; folded",
    import(ctx, n) {
      n.attrs(["perm"]);
      const x = n.ins[0], perm = n.ints("perm");
      if (x?.kind === "const") {
        const c = x.c, p = perm ?? c.dims.map((_, i) => c.dims.length - 1 - i);
        const ok = p.length === c.dims.length && [...p].sort().every((q, i) => q === i);
        return folded(n, ok ? transpose(c, p) : "a bad perm");
      }
      if (x?.kind === "grouped") {
        const rest = onnxShape(x.x).slice(1).map((_, i) => 3 + i);
        if (!x.transposed && String(perm) === String([0, 2, 1, ...rest])) {
          return n.out({ ...x, transposed: true });
        }
        throw new Unsupported(`a transpose by [${perm}] of a [N, g, C/g, H, W] view`);
      }
      const v = ctx.sym(x, "the input", true);
      if (v.nhwc && String(perm) === "0,3,1,2") {
        const { nhwc: _n, ...back } = v;
        return n.out(back);
      }
      if (!v.nhwc && v.rank === 4 && String(perm) === "0,2,3,1") {
        return n.out({ ...v, nhwc: true });
      }
      throw new Unsupported(
        `a transpose of a computed tensor by [${
          perm ?? "reverse"
        }] (to [0, 2, 3, 1] and back is supported)`,
      );
    },
  },
  {
    op: "Squeeze",
    doc: "[N, C, 1, 1] to [N, C]; folded",
    import(ctx, n) {
      n.attrs(["axes"]);
      const raw = axesOf(ctx, n), x = n.ins[0];
      if (x?.kind === "const") {
        const dims = [...x.c.dims];
        const axes = raw
          ? raw.map((q) => axis(q, dims.length))
          : dims.flatMap((d, i) => (d === 1 ? [i] : []));
        if (axes.some((q) => q === null || dims[q] !== 1)) {
          throw new Unsupported("squeezing an axis that is not 1");
        }
        for (const q of [...axes].sort((p, s) => s! - p!)) dims.splice(q!, 1);
        return n.out({ kind: "const", c: { dims, data: x.c.data, isInt: x.c.isInt } });
      }
      const v = ctx.sym(x, "the input");
      if (!raw) {
        throw new Unsupported("a Squeeze of a computed tensor without axes (the batch might go)");
      }
      const axes = raw.map((q) => axis(q, v.rank));
      const dims = [NaN, ...onnxShape(v)];
      const ok = v.rank > 2 && !v.nhwc && axes.every((q) => q !== null && q >= 2 && dims[q] === 1);
      if (!ok) {
        throw new Unsupported(
          `a Squeeze of axes [${raw.join(", ")}] of [N, ${
            onnxShape(v).join(", ")
          }] (spatial axes of size 1 are supported)`,
        );
      }
      const left = dims.filter((_, i) => !axes.includes(i));
      if (left.length === 2) return flattenTo(ctx, n, v);
      if (left.length === v.rank) return n.out(v);
      // [N, C, H, 1] or [N, C, 1, W] → [N, C, L], ours [1, L, C].
      const [C, L] = [left[1]!, left[2]!];
      if (v.t.shape[0] === 1) return n.out(ctx.plain(v.t, 3));
      const layer = new Reshape({ shape: [1, L, C], name: n.layerName() });
      n.out(ctx.plain(ctx.apply(layer, v), 3));
    },
  },
  {
    op: "Unsqueeze",
    doc: "[N, C] to [N, C, 1, 1]; folded",
    import(ctx, n) {
      n.attrs(["axes"]);
      const raw = axesOf(ctx, n) ?? [], x = n.ins[0];
      if (x?.kind === "const") {
        const dims = [...x.c.dims], outRank = dims.length + raw.length;
        const axes = raw.map((q) => axis(q, outRank)).sort((p, q) => p! - q!);
        if (axes.some((q) => q === null)) throw new Unsupported("axes out of range");
        for (const q of axes) dims.splice(q!, 0, 1);
        return n.out({ kind: "const", c: { dims, data: x.c.data, isInt: x.c.isInt } });
      }
      const v = ctx.sym(x, "the input");
      const rank = v.rank + raw.length;
      const axes = raw.map((q) => axis(q, rank));
      if (v.hwcFrom || rank > 4 || axes.some((q) => q === null || q < 2)) {
        throw new Unsupported(
          `an Unsqueeze of axes [${
            raw.join(", ")
          }] of a ${v.rank}-D tensor (new spatial axes up to [N, C, H, W] are supported)`,
        );
      }
      // A new axis of 1 moves no value in our channels-last order.
      const dims = onnxShape(v);
      for (const q of [...axes].sort((p, r) => p! - r!)) dims.splice(q! - 1, 0, 1);
      const ours = rank === 4 ? [dims[1]!, dims[2]!, dims[0]!] : [1, dims[1]!, dims[0]!];
      if (String(ours) === String(v.t.shape)) return n.out(ctx.plain(v.t, rank as 3 | 4));
      const layer = new Reshape({ shape: ours, name: n.layerName() });
      n.out(ctx.plain(ctx.apply(layer, v), rank as 3 | 4));
    },
  },
  {
    op: "Expand",
    doc: "of a map to its own shape, [N, C, 1, 1] or [N, 1, H, W] to [N, C, H, W]; folded",
    import(ctx, n) {
      n.attrs([]);
      const target = ctx.numbers(n.ins[1], "the shape"), x = n.ins[0];
      if (x?.kind === "const") return folded(n, expand(x.c, target));
      const v = ctx.sym(x, "the input");
      const tb = target[target.length - v.rank];
      if (tb !== undefined && !Number.isNaN(tb) && tb !== 1 && tb !== -1) {
        throw new Unsupported(`an Expand of the batch to ${tb}`);
      }
      const from = [NaN, ...onnxShape(v)];
      // The batch (NaN here) broadcasts against anything; a 1 in the target keeps ours.
      const t = target.map((d, i) => (i === target.length - v.rank && d === 1 ? NaN : d));
      const b = broadcastShape(
        from.map((d) => (Number.isNaN(d) ? 1 : d)),
        t.map((d) => Number.isNaN(d) ? 1 : d),
      );
      if (!b || b.length !== v.rank) {
        throw new Unsupported(
          `an Expand of [N, ${onnxShape(v).join(", ")}] to [${target.join(", ")}]`,
        );
      }
      const want = b.slice(1);
      if (String(want) === String(onnxShape(v))) return n.out(v);
      if (v.rank !== 4 || v.nhwc || v.hwcFrom) {
        throw new Unsupported(`an Expand of a ${v.rank}-D tensor (of a map is supported)`);
      }
      const [C, H, W] = want as [number, number, number], [c0, h0, w0] = onnxShape(v);
      let cur = v;
      if (h0 !== H || w0 !== W) {
        const up = new Upsample2D({ size: [H, W], name: n.layerName() });
        cur = ctx.plain(ctx.apply(up, cur), 4);
      }
      if (c0 !== C) {
        const cat = new Concatenate({ name: n.layerName() });
        cur = ctx.plain(ctx.applyMerge(cat, new Array(C).fill(cur)), 4);
      }
      n.out(cur);
    },
  },
  {
    op: "Concat",
    doc: "of computed tensors on the channels; folded",
    import(ctx, n) {
      n.attrs(["axis"]);
      const given = n.int("axis", n.ins[0]?.kind === "const" ? 0 : 1);
      if (n.ins.every((v) => v?.kind === "const")) {
        const parts = n.ins.map((v) => (v as { c: Const }).c);
        const rank = parts[0]!.dims.length, ax = axis(given, rank);
        if (
          ax === null ||
          parts.some((p) =>
            p.dims.length !== rank || p.dims.some((d, i) => i !== ax && d !== parts[0]!.dims[i])
          )
        ) {
          throw new Unsupported("a constant concatenation of mismatched shapes");
        }
        return n.out({ kind: "const", c: concat(parts, ax) });
      }
      const xs = n.ins.map((v, i) => ctx.sym(v, `input ${i}`));
      const rank = xs[0]!.rank;
      if (axis(given, rank) !== 1 || xs.some((x) => x.rank !== rank || x.hwcFrom)) {
        throw new Unsupported(
          `concatenation along axis ${given} of ${rank}-D tensors (the channel axis, 1, is supported)`,
        );
      }
      if (xs.length === 1) return n.out(xs[0]!);
      const layer = new Concatenate({ name: n.layerName() });
      n.out(ctx.plain(ctx.applyMerge(layer, xs), rank));
    },
  },
];

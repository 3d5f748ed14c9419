// This module is browser compatible.

/** Resize (opset 10–21) and Upsample (opset 7–9) of maps (private): one Upsample2D. */

import { type CoordinateMode, type NearestRounding, Upsample2D } from "../../layers/upsample.ts";
import { axis, size } from "../_const.ts";
import type { ImportContext, OnnxNode } from "../_context.ts";
import { onnxShape, type Sym, Unsupported, type Val } from "../_values.ts";
import type { OnnxOp } from "./_op.ts";

type Target = { scale: [number, number] } | { size: [number, number] };

/** Scales `[n, c, h, w]` (or `[h, w]` with axes): only height and width may scale. */
function byScales(ctx: ImportContext, v: Val | undefined, k: number): [number, number] {
  const sc = [...ctx.floats(ctx.constant(v, "scales"), "scales")];
  if (sc.length !== k || (k === 4 && (sc[0] !== 1 || sc[1] !== 1))) {
    throw new Unsupported(`scales [${sc.join(", ")}] (only height and width may scale)`);
  }
  if (sc.some((q) => !(q > 0) || !Number.isFinite(q))) {
    throw new Unsupported(`scales [${sc.join(", ")}]`);
  }
  return sc.slice(-2) as [number, number];
}

/**
 * Before opset 11 the coordinates are asymmetric and nearest rounds down
 * when enlarging, up when shrinking (onnxruntime's "simple" mode).
 */
function legacy(n: OnnxNode, x: Sym, scale: [number, number]): void {
  const mode = n.str("mode", "nearest");
  if (mode !== "nearest" && mode !== "linear") throw new Unsupported(`mode "${mode}"`);
  const up = scale.map((s) => s >= 1);
  if (mode === "nearest" && up[0] !== up[1]) {
    throw new Unsupported(
      `nearest scales [${scale.join(", ")}] that enlarge one axis and shrink the other`,
    );
  }
  const layer = new Upsample2D({
    scale,
    mode: mode === "linear" ? "bilinear" : "nearest",
    coordinates: "asymmetric",
    ...(mode === "nearest" ? { rounding: up[0] ? "floor" as const : "ceil" as const } : {}),
    name: n.layerName(),
  });
  n.out(n.ctx.plain(n.ctx.apply(layer, x), 4));
}

function map(ctx: ImportContext, n: OnnxNode): Sym {
  const x = ctx.sym(n.ins[0], "the input");
  if (x.rank !== 4) {
    throw new Unsupported(`a resize of a ${x.rank}-D tensor (4-D maps are supported)`);
  }
  return x;
}

export const RESIZE_OPS: readonly OnnxOp[] = [
  {
    op: "Resize",
    opsets: [10, 21],
    doc:
      "nearest (every nearest_mode) and linear over H and W, asymmetric, half_pixel, pytorch_half_pixel or align_corners, by constant scales or sizes",
    import(ctx, n) {
      if (n.opset < 11) {
        n.attrs(["mode"]);
        const x = map(ctx, n);
        return legacy(n, x, byScales(ctx, n.ins[1], 4));
      }
      n.attrs([
        "mode",
        "coordinate_transformation_mode",
        "nearest_mode",
        "cubic_coeff_a",
        "exclude_outside",
        "extrapolation_value",
        "antialias",
        "axes",
        "keep_aspect_ratio_policy",
      ]);
      const x = map(ctx, n);
      const mode = n.str("mode", "nearest");
      if (mode !== "nearest" && mode !== "linear") throw new Unsupported(`Resize mode "${mode}"`);
      const coords = n.str("coordinate_transformation_mode", "half_pixel");
      if (!["asymmetric", "half_pixel", "pytorch_half_pixel", "align_corners"].includes(coords)) {
        throw new Unsupported(`coordinate_transformation_mode "${coords}"`);
      }
      if (n.int("antialias", 0) !== 0) throw new Unsupported("antialias");
      if (n.int("exclude_outside", 0) !== 0) throw new Unsupported("exclude_outside");
      const ax = n.ints("axes");
      if (ax && String(ax.map((v) => axis(v, 4))) !== "2,3") {
        throw new Unsupported(`axes [${ax.join(", ")}] (the spatial axes [2, 3] are supported)`);
      }
      const k = ax ? 2 : 4;
      const given = (v: Val | undefined) =>
        v !== undefined && !(v.kind === "const" && size(v.c.dims) === 0);
      const [c, h, w] = onnxShape(x) as [number, number, number];
      let target: Target;
      if (given(n.ins[3])) {
        const sz = ctx.numbers(n.ins[3], "sizes");
        if (sz.length !== k) throw new Unsupported(`sizes of length ${sz.length}`);
        const [oh, ow] = sz.slice(-2) as [number, number];
        if (k === 4 && !Number.isNaN(sz[1]!) && sz[1] !== c) {
          throw new Unsupported("a resize of the channels");
        }
        if (n.str("keep_aspect_ratio_policy", "stretch") !== "stretch") {
          throw new Unsupported("keep_aspect_ratio_policy other than stretch");
        }
        target = oh === h && ow === w ? { scale: [1, 1] } : { size: [oh, ow] };
      } else if (given(n.ins[2])) {
        target = { scale: byScales(ctx, n.ins[2], k) };
      } else throw new Unsupported("a resize without scales or sizes");
      const layer = new Upsample2D({
        ...target,
        mode: mode === "linear" ? "bilinear" : "nearest",
        coordinates: coords as CoordinateMode,
        ...(mode === "nearest"
          ? { rounding: n.str("nearest_mode", "round_prefer_floor") as NearestRounding }
          : {}),
        name: n.layerName(),
      });
      n.out(ctx.plain(ctx.apply(layer, x), 4));
    },
  },
  {
    op: "Upsample",
    opsets: [7, 9],
    doc: "nearest and linear, by constant scales (asymmetric, as the operator defines)",
    import(ctx, n) {
      n.attrs(["mode", "scales"]);
      const x = map(ctx, n);
      const attr = n.attr("scales");
      let scale: [number, number];
      if (attr) {
        const sc = attr.floats;
        if (sc.length !== 4 || sc[0] !== 1 || sc[1] !== 1) {
          throw new Unsupported(`scales [${sc.join(", ")}] (only height and width may scale)`);
        }
        scale = [sc[2]!, sc[3]!];
      } else scale = byScales(ctx, n.ins[1], 4);
      legacy(n, x, scale);
    },
  },
];

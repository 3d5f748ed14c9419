// This module is browser compatible.

import type { LayerConfig } from "../layers/layer.ts";
import { checkObject, fail } from "../core/_validate.ts";
import { type GraphConfig, Model } from "./model.ts";
import { modelFromGraphConfig } from "./_graph_config.ts";
import { LAYER_TYPES, type LayerKindInfo } from "../layers/kinds.ts";
import { withAdoptedWeights } from "../layers/_util.ts";
import { firstNonFinite } from "../core/_math.ts";
import { checkPadding, checkPair } from "../core/_geometry.ts";

const LAYER_INFO: Readonly<Record<string, LayerKindInfo | undefined>> = LAYER_TYPES;

/** Whether a following BatchNorm folds into a layer of this kind. */
const foldsBatchNorm = (kind: string): boolean => LAYER_INFO[kind]?.foldsBatchNorm === true;
/** Whether a layer of this kind takes a fused `activation` from a following ReLU or ReLU6. */
const takesActivation = (kind: string, a: "relu" | "relu6"): boolean =>
  LAYER_INFO[kind]?.fusesActivation?.includes(a) === true;

/**
 * A copy of `model` for inference with every foldable `BatchNorm` folded
 * into the convolution or dense layer before it: `w' = w·s`,
 * `b' = (b − runningMean)·s + beta`, `s = gamma / sqrt(runningVar + epsilon)`
 * per output channel. A BatchNorm folds when the layer before it is a
 * `Conv2D`, `DepthwiseConv2D` or `Dense` without a fused activation, used
 * once, whose output only the BatchNorm reads; the others stay. Then a
 * `ReLU` or `ReLU6` right after such a layer (or a `Conv2DTranspose`), and
 * a `ReLU` after an `Add` (a residual block's end), becomes its fused
 * activation, saving a pass over the data. A `Pad2D` of zeros read only by
 * a convolution (not transposed) or an average pooling that counts its
 * padding (or has none, and does not round up) becomes that layer's
 * padding: one copy of the data less. The copy's
 * inference output equals the original's (within float32 rounding, 1e-5); the
 * original is unchanged.
 *
 * @example Usage
 * ```ts
 * import { BatchNorm, Conv2D, fuse, ReLU, Sequential, tensor } from "@convnet/wasm";
 * const model = new Sequential([new Conv2D({ filters: 4, kernelSize: 3 }), new BatchNorm(), new ReLU()], [6, 6, 1]);
 * const fused = fuse(model);
 * fused.layers.map((l) => l.kind); // ["Conv2D"]
 * ```
 *
 * @param model The model (its running statistics are used).
 * @returns A new model without the folded BatchNorm and ReLU layers.
 * @throws {TypeError} If `model` is not a Model.
 * @throws {RangeError} If a weight is NaN or infinite, or a BatchNorm to fold has a negative or
 *   non-finite running variance (or gamma).
 */
export function fuse(model: Model): Model {
  if (!(model instanceof Model)) fail(TypeError, "fuse", "model", "a Model or Sequential", model);
  return fuseModel(model, 2 ** 28);
}

/**
 * {@linkcode fuse} with the copy's parameter limit (private: `loadOnnx`
 * passes its own). With `adopt`, the copy takes the model's weight arrays
 * themselves (the model must not be used after) and takes them as checked
 * finite: only the folded ones are checked again.
 */
export function fuseModel(model: Model, maxParameters: number, adopt = false): Model {
  const cfg = absorbZeroPads(Model.prototype.config.call(model) as GraphConfig);
  const byName = new Map(cfg.layers.map((l) => [l.name, l]));
  const consumers = new Map<number, number>();
  cfg.nodes.forEach((n) => n.inputs.forEach((r) => consumers.set(r, (consumers.get(r) ?? 0) + 1)));
  if (cfg.output >= 0) consumers.set(cfg.output, (consumers.get(cfg.output) ?? 0) + 1);
  const uses = new Map<string, number>();
  cfg.nodes.forEach((n) => uses.set(n.layer, (uses.get(n.layer) ?? 0) + 1));

  // node index of each folded BatchNorm → the node it folds into
  const folded = new Map<number, number>();
  cfg.nodes.forEach((n, k) => {
    const bn = byName.get(n.layer)!;
    if (bn.kind !== "BatchNorm" || n.inputs.length !== 1) return;
    const j = n.inputs[0]!;
    if (j < 0) return;
    const prev = byName.get(cfg.nodes[j]!.layer)!;
    if (
      foldsBatchNorm(prev.kind) && (prev["activation"] ?? "linear") === "linear" &&
      uses.get(prev.name) === 1 && consumers.get(j) === 1
    ) folded.set(k, j);
  });

  const afterBn = removeNodes(cfg, folded);
  const fusedCfg = absorbRelu(afterBn);

  // Weights: read in place (no copy of the whole model), scaled where a BatchNorm folds in.
  const w = new Map([...model.params(), ...model.state()].map((p) => [p.name, p.value]));
  const get = (name: string) => w.get(name)!;
  /** The arrays made here (the folded kernels and biases): the copy takes them as they are. */
  const folds = new Set<string>();
  // With `adopt`, a kernel or bias that no other weight shares is scaled where it is (the model
  // is not used after): a copy of a big model's kernels costs its page faults.
  const shared = new Map<Float32Array, number>();
  for (const v of w.values()) shared.set(v, (shared.get(v) ?? 0) + 1);
  const own = (v: Float32Array) => adopt && shared.get(v) === 1 ? v : v.slice();
  for (const [k, j] of folded) {
    const bn = byName.get(cfg.nodes[k]!.layer)!, prev = cfg.nodes[j]!.layer;
    const eps = bn["epsilon"] as number;
    const gamma = get(`${bn.name}.gamma`), beta = get(`${bn.name}.beta`);
    const rm = get(`${bn.name}.runningMean`), rv = get(`${bn.name}.runningVar`);
    const c = beta.length, scale = new Float64Array(c);
    for (let o = 0; o < c; o++) {
      const s = gamma[o]! / Math.sqrt(rv[o]! + eps);
      if (!Number.isFinite(s)) {
        throw new RangeError(
          `fuse: BatchNorm "${bn.name}" cannot fold: channel ${o} has runningVar ${rv[o]}, gamma ${
            gamma[o]
          } (its scale gamma / sqrt(runningVar + epsilon) is ${s})`,
        );
      }
      scale[o] = s;
    }
    const kd = own(get(`${prev}.kernel`)), bd = own(get(`${prev}.bias`));
    scaleRows(kd, scale);
    for (let o = 0; o < c; o++) bd[o] = (bd[o]! - rm[o]!) * scale[o]! + beta[o]!;
    w.set(`${prev}.kernel`, kd);
    w.set(`${prev}.bias`, bd);
    folds.add(`${prev}.kernel`).add(`${prev}.bias`);
  }
  for (const [name, v] of w) {
    if (adopt && !folds.has(name)) continue;
    const bad = firstNonFinite(v);
    if (bad >= 0) {
      fail(RangeError, "fuse", `model's weight "${name}"[${bad}]`, "a finite number", v[bad]);
    }
  }
  // The copy's layers take copies of the arrays (when `adopt`, the arrays themselves).
  const copy = withAdoptedWeights(
    (name, n) => {
      const v = w.get(name);
      if (!v || v.length !== n) {
        throw new Error(`fuse: internal error: no weights of ${n} values for ${name}`);
      }
      return adopt || folds.has(name) ? v : v.slice();
    },
    () => modelFromGraphConfig(fusedCfg as unknown as Record<string, unknown>, maxParameters),
  );
  copy.metadata = { ...checkObject("fuse", "model.metadata", model.metadata) } as Record<
    string,
    string
  >;
  return copy;
}

/** Multiplies each row of `kd` (rows of `scale.length` output channels) by `scale`, in place. */
function scaleRows(kd: Float32Array, scale: Float64Array): void {
  const c = scale.length;
  for (let r = 0; r < kd.length; r += c) {
    for (let o = 0; o < c; o++) kd[r + o] = kd[r + o]! * scale[o]!;
  }
}

/** The graph without the nodes of `folded` (each redirected to the node it folds into). */
function removeNodes(cfg: GraphConfig, folded: Map<number, number>): GraphConfig {
  const keep = cfg.nodes.map((_, k) => !folded.has(k));
  const resolve = (r: number): number => (r >= 0 && folded.has(r) ? folded.get(r)! : r);
  // A node may fold into the model's input (−1): references to it become the input's.
  const index = (r: number): number => {
    const t = resolve(r);
    return t < 0 ? t : newIndex[t]!;
  };
  const newIndex: number[] = [];
  let next = 0;
  keep.forEach((kp, k) => (newIndex[k] = kp ? next++ : -2));
  const nodes = cfg.nodes.flatMap((n, k) =>
    keep[k] ? [{ layer: n.layer, inputs: n.inputs.map(index) }] : []
  );
  const foldedNames = new Set([...folded.keys()].map((k) => cfg.nodes[k]!.layer));
  const layers: LayerConfig[] = cfg.layers.filter((l) => !foldedNames.has(l.name));
  return { ...cfg, layers, nodes, output: index(cfg.output) };
}

/**
 * The graph with each zero `Pad2D` that only one absorbing layer reads
 * (see `absorbsZeroPad` in kinds.ts) folded into that layer's padding.
 */
function absorbZeroPads(cfg: GraphConfig): GraphConfig {
  const byName = new Map(cfg.layers.map((l) => [l.name, l]));
  const readers = new Map<number, number[]>();
  cfg.nodes.forEach((n, k) =>
    n.inputs.forEach((r) => readers.set(r, [...readers.get(r) ?? [], k]))
  );
  const uses = new Map<string, number>();
  cfg.nodes.forEach((n) => uses.set(n.layer, (uses.get(n.layer) ?? 0) + 1));
  const folded = new Map<number, number>(), padded = new Map<string, LayerConfig>();
  cfg.nodes.forEach((n, k) => {
    const pad = byName.get(n.layer)!;
    if (pad.kind !== "Pad2D" || (pad["value"] ?? 0) !== 0 || n.inputs.length !== 1) return;
    const by = readers.get(k) ?? [];
    if (k === cfg.output || by.length !== 1 || uses.get(pad.name) !== 1) return;
    const next = byName.get(cfg.nodes[by[0]!]!.layer)!;
    const how = LAYER_INFO[next.kind]?.absorbsZeroPad;
    if (!how || uses.get(next.name) !== 1 || padded.has(next.name)) return;
    const own = checkPadding("fuse", "padding", next["padding"] ?? "valid");
    if (own === "same") return;
    const add = checkPadding("fuse", "padding", pad["padding"]) as readonly number[];
    const sum = own.map((p, i) => p + add[i]!);
    if (how === "average") {
      if (next["ceilMode"] === true) return;
      if (next["countIncludePad"] !== true && own.some((p) => p !== 0)) return;
      // A pooling refuses padding that holds a whole window; the explicit zeros did not.
      const [fH, fW] = checkPair("fuse", "poolSize", next["poolSize"] ?? 2);
      const [dH, dW] = checkPair("fuse", "dilation", next["dilation"] ?? 1);
      if (dH !== 1 || dW !== 1 || sum[0]! >= fH || sum[1]! >= fH || sum[2]! >= fW) return;
      if (sum[3]! >= fW) return;
    }
    padded.set(next.name, {
      ...next,
      padding: sum,
      ...(how === "average" ? { countIncludePad: true } : {}),
    });
    folded.set(k, n.inputs[0]!);
  });
  if (!folded.size) return cfg;
  const out = removeNodes(cfg, folded);
  return { ...out, layers: out.layers.map((l) => padded.get(l.name) ?? l) };
}

/** A ReLU or ReLU6 after a convolution or dense layer (used once, read only by it) becomes its fused activation. */
function absorbRelu(cfg: GraphConfig): GraphConfig {
  const byName = new Map(cfg.layers.map((l) => [l.name, l]));
  const consumers = new Map<number, number>();
  cfg.nodes.forEach((n) => n.inputs.forEach((r) => consumers.set(r, (consumers.get(r) ?? 0) + 1)));
  consumers.set(cfg.output, (consumers.get(cfg.output) ?? 0) + 1);
  const uses = new Map<string, number>();
  cfg.nodes.forEach((n) => uses.set(n.layer, (uses.get(n.layer) ?? 0) + 1));
  const folded = new Map<number, number>(), activated = new Map<string, string>();
  cfg.nodes.forEach((n, k) => {
    const relu = byName.get(n.layer)!;
    if (relu.kind !== "ReLU" && relu.kind !== "ReLU6") return;
    if (n.inputs.length !== 1 || uses.get(relu.name) !== 1) return;
    const j = n.inputs[0]!;
    if (j < 0) return;
    const prev = byName.get(cfg.nodes[j]!.layer)!;
    // An Add takes a ReLU (not a ReLU6).
    const takes = takesActivation(prev.kind, relu.kind === "ReLU" ? "relu" : "relu6") ||
      (prev.kind === "Add" && relu.kind === "ReLU");
    if (
      takes && (prev["activation"] ?? "linear") === "linear" &&
      uses.get(prev.name) === 1 && consumers.get(j) === 1
    ) {
      folded.set(k, j);
      activated.set(prev.name, relu.kind === "ReLU" ? "relu" : "relu6");
    }
  });
  const out = removeNodes(cfg, folded);
  return {
    ...out,
    layers: out.layers.map((l) => {
      const a = activated.get(l.name);
      return a ? { ...l, activation: a } : l;
    }),
  };
}

// This module is browser compatible.

/**
 * Rebuilding a graph model from its stored architecture (private: the model
 * loader and `fuse` use it).
 *
 * @module
 */

import { applyLayer, Input, type SymbolicTensor } from "../layers/graph_node.ts";
import type { Layer, LayerConfig, MergeLayer } from "../layers/layer.ts";
import { Model } from "./model.ts";
import { layerFromConfig } from "./registry.ts";

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** A layer from its stored description, naming its index when it is wrong. */
export function layerOf(c: LayerConfig, i: number): Layer | MergeLayer {
  try {
    return layerFromConfig(c);
  } catch (e) {
    throw new Error(`layers[${i}]: ${e instanceof Error ? e.message : e}`);
  }
}

/** Rebuilds a graph model from its stored architecture (see `GraphConfig`). */
export function modelFromGraphConfig(arch: Record<string, unknown>, maxParameters: number): Model {
  if (arch["version"] !== 2) throw new Error(`graph version ${String(arch["version"])} is not 2`);
  const layers = (arch["layers"] as LayerConfig[]).map(layerOf);
  const byName = new Map(layers.map((l) => [l.name, l]));
  const nodes = arch["nodes"];
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new Error("nodes must be a non-empty array");
  }
  const x = Input(arch["inputShape"] as number[]);
  const outs: SymbolicTensor[] = [];
  nodes.forEach((n: unknown, k) => {
    if (!isObject(n) || typeof n["layer"] !== "string" || !Array.isArray(n["inputs"])) {
      throw new Error(`nodes[${k}] must be { layer, inputs }`);
    }
    const layer = byName.get(n["layer"]);
    if (!layer) throw new Error(`nodes[${k}] names an unknown layer "${n["layer"]}"`);
    const ins = (n["inputs"] as unknown[]).map((r) => {
      if (r === -1) return x;
      if (!Number.isInteger(r) || (r as number) < 0 || (r as number) >= k) {
        throw new Error(
          `nodes[${k}].inputs holds ${String(r)}: inputs must be -1 or an earlier node`,
        );
      }
      return outs[r as number]!;
    });
    outs.push(applyLayer(layer, "merge" in layer ? ins : ins[0]!));
  });
  const out = arch["output"];
  if (!Number.isInteger(out) || (out as number) < 0 || (out as number) >= outs.length) {
    throw new Error(`output must be a node index, got ${String(out)}`);
  }
  return new Model({ inputs: x, outputs: outs[out as number]! }, { maxParameters });
}

// This module is browser compatible.

import { Conv2D } from "../layers/conv2d.ts";
import { Dense } from "../layers/dense.ts";
import { Flatten } from "../layers/flatten.ts";
import type { Layer, LayerConfig } from "../layers/layer.ts";
import { AvgPool2D, MaxPool2D } from "../layers/pool2d.ts";
import { ReLU } from "../layers/relu.ts";
import { checkObject, checkOneOf, checkString, describe } from "../core/_validate.ts";

/**
 * The layer kinds a model file may name.
 *
 * @example Usage
 * ```ts
 * import { LAYER_KINDS } from "@convnet/wasm";
 * LAYER_KINDS.includes("Conv2D"); // true
 * ```
 */
export const LAYER_KINDS: readonly string[] = [
  "Conv2D",
  "MaxPool2D",
  "AvgPool2D",
  "ReLU",
  "Flatten",
  "Dense",
];

/**
 * Makes a fresh layer from its stored description.
 *
 * @example Usage
 * ```ts
 * import { layerFromConfig } from "@convnet/wasm";
 * const relu = layerFromConfig({ kind: "ReLU", name: "relu_1" });
 * relu.kind; // "ReLU"
 * ```
 *
 * @param cfg The description, as `Layer.config()` returns it.
 * @returns The layer, not yet built.
 * @throws {TypeError} If `cfg`, its name or a hyper-parameter is of the wrong type.
 * @throws {RangeError} If the kind is unknown or a hyper-parameter is invalid.
 */
export function layerFromConfig(cfg: LayerConfig): Layer {
  const fn = "layerFromConfig";
  const c = checkObject(fn, "cfg", cfg);
  const name = checkString(fn, "cfg.name", c["name"]);
  checkOneOf(fn, "cfg.kind", c["kind"], LAYER_KINDS);
  const n = (k: string) => c[k] as number;
  switch (cfg.kind) {
    case "Conv2D":
      return new Conv2D({
        filters: n("filters"),
        kernelSize: n("kernelSize"),
        stride: n("stride"),
        padding: cfg["padding"] as number | "same" | "valid",
        activation: (cfg["activation"] ?? "linear") as "relu" | "linear",
        init: cfg["init"] as "he" | "glorot",
        name,
      });
    case "Dense":
      return new Dense({
        units: n("units"),
        activation: (cfg["activation"] ?? "linear") as "relu" | "linear",
        init: cfg["init"] as "he" | "glorot",
        name,
      });
    case "MaxPool2D":
      return new MaxPool2D({ poolSize: n("poolSize"), stride: n("stride"), name });
    case "AvgPool2D":
      return new AvgPool2D({ poolSize: n("poolSize"), stride: n("stride"), name });
    case "ReLU":
      return new ReLU({ name });
    case "Flatten":
      return new Flatten({ name });
    default:
      throw new RangeError(`layerFromConfig: cfg.kind ${describe(cfg.kind)} is not known`);
  }
}

// This module is browser compatible.

import type { Layer, LayerConfig, MergeLayer } from "../layers/layer.ts";
import { LAYER_TYPES } from "../layers/kinds.ts";
import { checkObject, checkString, fail } from "../core/_validate.ts";

/**
 * The layer kinds a model file may name (the built-in ones; see
 * {@linkcode registeredLayerKinds} for those added by `registerLayer`).
 *
 * @example Usage
 * ```ts
 * import { LAYER_KINDS } from "@convnet/wasm";
 * LAYER_KINDS.includes("Conv2D"); // true
 * ```
 */
export const LAYER_KINDS: readonly string[] = Object.freeze(Object.keys(LAYER_TYPES));

/** Makers of custom layers, by kind. */
const custom = new Map<string, (config: LayerConfig) => Layer | MergeLayer>();

/**
 * Teaches `loadModel` (and `layerFromConfig`) to restore a custom layer:
 * `make(config)` receives the layer's stored description (what its
 * `config()` returned: `kind`, `name` and its own keys) and returns a fresh,
 * unbuilt layer; `loadModel` then builds it and sets its weights from the
 * file. Registering a kind again replaces its maker; a built-in kind cannot
 * be registered.
 *
 * @example Usage
 * ```ts
 * import { ElementwiseLayer, registerLayer } from "@convnet/wasm";
 * class Twice extends ElementwiseLayer {
 *   readonly kind = "Twice";
 *   static readonly options = {};
 *   protected f(x: Float32Array, y: Float32Array) { for (let i = 0; i < x.length; i++) y[i] = 2 * x[i]!; }
 *   protected df(g: Float32Array, _x: Float32Array, _y: Float32Array, d: Float32Array) { for (let i = 0; i < g.length; i++) d[i] = 2 * g[i]!; }
 * }
 * registerLayer("Twice", (config) => new Twice(config.name));
 * ```
 *
 * @param kind The layer's `kind`, as its `config()` stores it.
 * @param make Makes the layer from its stored description.
 * @throws {TypeError} If `kind` is not a non-empty string or `make` not a function.
 * @throws {RangeError} If `kind` is a built-in kind.
 */
export function registerLayer(
  kind: string,
  make: (config: LayerConfig) => Layer | MergeLayer,
): void {
  checkString("registerLayer", "kind", kind);
  if (typeof make !== "function") fail(TypeError, "registerLayer", "make", "a function", make);
  if (Object.hasOwn(LAYER_TYPES, kind)) {
    fail(RangeError, "registerLayer", "kind", "a kind that is not built in", kind);
  }
  custom.set(kind, make);
}

/**
 * The kinds added by {@linkcode registerLayer}, in the order registered.
 *
 * @example Usage
 * ```ts
 * import { registeredLayerKinds } from "@convnet/wasm";
 * registeredLayerKinds(); // [] until registerLayer is called
 * ```
 *
 * @returns The custom kinds.
 */
export function registeredLayerKinds(): string[] {
  return [...custom.keys()];
}

/**
 * Makes a fresh layer from its stored description (the layer's own
 * constructor checks every hyper-parameter, and refuses a key it does not
 * declare). Custom kinds come from {@linkcode registerLayer}.
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
 * @throws {TypeError} If `cfg`, its name or a hyper-parameter is of the wrong type, or a key is unknown.
 * @throws {RangeError} If the kind is unknown or a hyper-parameter is invalid.
 */
export function layerFromConfig(cfg: LayerConfig): Layer | MergeLayer {
  const fn = "layerFromConfig";
  const c = checkObject(fn, "cfg", cfg);
  checkString(fn, "cfg.name", c["name"]);
  const kind = checkString(fn, "cfg.kind", c["kind"]);
  const make = custom.get(kind);
  if (make) return make(c as unknown as LayerConfig);
  if (!Object.hasOwn(LAYER_TYPES, kind)) {
    const known = [...LAYER_KINDS, ...custom.keys()].map((k) => JSON.stringify(k)).join(", ");
    throw new RangeError(
      `${fn}: cfg.kind must be one of ${known}, got ${JSON.stringify(kind)} ` +
        `(a custom layer: teach the loader with registerLayer("${kind}", (config) => new YourLayer(...)))`,
    );
  }
  const { kind: _k, ...options } = c;
  return LAYER_TYPES[kind as keyof typeof LAYER_TYPES].make(options as never);
}

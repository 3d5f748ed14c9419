// This module is browser compatible.

import type { Layer, LayerConfig, Param, SampleShape } from "../layers/layer.ts";
import type { Tensor } from "../core/tensor.ts";
import { checkUnowned, claimLayers, withParamBudget } from "../layers/_util.ts";
import { checkSeed, mulberry32 } from "../core/random.ts";
import {
  checkDims,
  checkFloat32Array,
  checkNonNegativeInt,
  checkOptions,
  checkPositiveInt,
  fail,
} from "../core/_validate.ts";
import { sizeOf } from "../core/tensor.ts";

/** Options of {@linkcode Sequential}. */
export interface SequentialOptions {
  /** Seed of the initial weights; the same seed gives bit-identical weights. Default 1. */
  seed?: number;
  /**
   * The most parameters the layers may hold in all (default 2^28); a larger
   * architecture fails at construction, before allocating. `loadModel` sets
   * it to what the file's data can fill.
   */
  maxParameters?: number;
}

/** A model's architecture: what model files store in their metadata. */
export interface ModelConfig {
  /** One sample's input shape, e.g. `[28, 28, 1]`. */
  readonly inputShape: SampleShape;
  /** The layers in order. */
  readonly layers: readonly LayerConfig[];
}

/** One row of {@linkcode Sequential.layerSummary}. */
export interface LayerSummary {
  /** The layer's name. */
  readonly name: string;
  /** Its kind. */
  readonly kind: string;
  /** Its output shape for one sample. */
  readonly outputShape: SampleShape;
  /** How many trainable numbers it holds. */
  readonly params: number;
}

/**
 * A stack of layers applied in order. The constructor names unnamed layers,
 * checks that each layer accepts the previous one's output (a wrong stack
 * fails here, naming the layer) and initialises the weights from a seed.
 *
 * @example Usage
 * ```ts
 * import { Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, tensor } from "@convnet/wasm";
 * const model = new Sequential([
 *   new Conv2D({ filters: 8, kernelSize: 5, padding: "same" }),
 *   new ReLU(),
 *   new MaxPool2D(),
 *   new Flatten(),
 *   new Dense({ units: 10 }),
 * ], [28, 28, 1], { seed: 7 });
 * const logits = model.predict(tensor(new Float32Array(2 * 784), [2, 28, 28, 1]));
 * logits.shape; // [2, 10]
 * ```
 */
export class Sequential {
  /** The layers, in order. */
  readonly layers: readonly Layer[];
  /** One sample's input shape. */
  readonly inputShape: SampleShape;
  /** One sample's output shape. */
  readonly outputShape: SampleShape;
  /** Free-form strings kept with the model in its file (e.g. its held-out accuracy). */
  metadata: Record<string, string> = {};
  readonly #shapes: SampleShape[];

  /**
   * Creates a Sequential.
   *
   * @param layers The layers, fresh: a layer object belongs to one model only.
   * @param inputShape One sample's shape, e.g. `[28, 28, 1]`.
   * @param options The weight seed (an integer in [0, 2^32)) and the parameter cap.
   * @throws {TypeError} If an argument is of the wrong kind.
   * @throws {RangeError} If the shapes do not fit together (naming the layer), names repeat,
   * the seed is not an integer in [0, 2^32), or a layer already belongs to another model.
   */
  constructor(layers: readonly Layer[], inputShape: SampleShape, options: SequentialOptions = {}) {
    const fn = "Sequential";
    if (!Array.isArray(layers)) {
      fail(TypeError, fn, "layers", "a non-empty array of layers", layers);
    }
    if (layers.length === 0) fail(RangeError, fn, "layers", "a non-empty array of layers", layers);
    layers.forEach((l, i) => {
      if (l === null || typeof l !== "object" || typeof l.build !== "function") {
        fail(TypeError, fn, `layers[${i}]`, "a layer", l);
      }
    });
    checkDims(fn, "inputShape", inputShape);
    const o = checkOptions(fn, "options", options);
    const seed = checkSeed(fn, "options.seed", o["seed"] ?? 1);
    const maxParameters = o["maxParameters"] === undefined
      ? 2 ** 28
      : checkNonNegativeInt(fn, "options.maxParameters", o["maxParameters"]);
    checkUnowned(fn, layers);
    const counts = new Map<string, number>();
    const names = new Set<string>();
    for (const l of layers) {
      if (!l.name) {
        const base = l.kind.toLowerCase();
        let n = counts.get(base) ?? 0;
        do n++; while (names.has(`${base}_${n}`) || layers.some((o) => o.name === `${base}_${n}`));
        counts.set(base, n);
        l.name = `${base}_${n}`;
      }
      if (names.has(l.name)) throw new RangeError(`Sequential: two layers are named "${l.name}"`);
      names.add(l.name);
    }
    const rand = mulberry32(seed);
    const shapes: SampleShape[] = [];
    let shape: SampleShape = Object.freeze([...inputShape]);
    withParamBudget(maxParameters, () =>
      layers.forEach((l, i) => {
        try {
          shape = Object.freeze([...l.build(shape, rand)]);
        } catch (e) {
          throw new RangeError(
            `Sequential: layer ${i} (${l.kind} "${l.name}") cannot take input [${
              shape.join(", ")
            }]: ${e instanceof Error ? e.message : e}`,
          );
        }
        shapes.push(shape);
      }));
    claimLayers(layers);
    this.layers = Object.freeze([...layers]);
    this.inputShape = Object.freeze([...inputShape]);
    this.outputShape = shape;
    this.#shapes = shapes;
  }

  /**
   * Runs the batch through every layer, keeping what `backward` needs.
   *
   * @param x A batch `[m, ...inputShape]`.
   * @returns The last layer's output `[m, ...outputShape]`.
   * @throws {RangeError} If `x` is not shaped `[m, ...inputShape]`.
   */
  forward(x: Tensor): Tensor {
    this.#checkInput("forward", x);
    let t = x;
    for (const l of this.layers) t = l.forward(t);
    return t;
  }

  /**
   * Like {@linkcode forward}, but returns every layer's output (for inspection).
   *
   * @param x A batch `[m, ...inputShape]`.
   * @returns One tensor per layer, in order.
   */
  forwardAll(x: Tensor): Tensor[] {
    this.#checkInput("forwardAll", x);
    const out: Tensor[] = [];
    let t = x;
    for (const l of this.layers) out.push(t = l.forward(t));
    return out;
  }

  /**
   * Back-propagates the gradient of the loss with respect to the output,
   * adding every parameter's gradient into `Param.grad`. The first layer's
   * input gradient is not computed.
   *
   * @param dOut The gradient, shaped like the last forward output.
   * @throws {Error} If called before `forward`.
   */
  backward(dOut: Tensor): void {
    let g: Tensor | null = dOut;
    for (let i = this.layers.length - 1; i >= 0 && g; i--) g = this.layers[i]!.backward(g, i > 0);
  }

  /**
   * Inference: the output for any number of samples (logits, for a
   * classifier; see `softmax`). Large inputs run in slices of
   * `batchSize` samples, so that 5,000 images need no more kernel memory
   * than 256 do; the result is the same as one `forward` call.
   *
   * @example Usage
   * ```ts
   * import { Dense, Sequential, tensor } from "@convnet/wasm";
   * const model = new Sequential([new Dense({ units: 2 })], [3]);
   * model.predict(tensor(new Float32Array(5000 * 3), [5000, 3]), { batchSize: 1000 }).shape; // [5000, 2]
   * ```
   *
   * @param x Samples `[m, ...inputShape]`.
   * @param options `batchSize`: samples per slice, a positive integer (default 256).
   * @returns `[m, ...outputShape]`.
   * @throws {RangeError} If `x` is not shaped `[m, ...inputShape]`.
   */
  predict(x: Tensor, options: { batchSize?: number } = {}): Tensor {
    this.#checkInput("predict", x);
    const o = checkOptions("Sequential.predict", "options", options);
    const bs = checkPositiveInt("Sequential.predict", "options.batchSize", o["batchSize"] ?? 256);
    const m = x.shape[0]!;
    if (m <= bs) return this.forward(x);
    const inSize = x.data.length / m, outSize = sizeOf(this.outputShape);
    const out = new Float32Array(m * outSize);
    for (let at = 0; at < m; at += bs) {
      const n = Math.min(bs, m - at);
      const data = x.data.subarray(at * inSize, (at + n) * inSize);
      out.set(this.forward({ shape: [n, ...this.inputShape], data }).data, at * outSize);
    }
    return { shape: [m, ...this.outputShape], data: out };
  }

  /**
   * A copy of every parameter, by name (`layerName.kernel`, `layerName.bias`).
   *
   * @example Usage
   * ```ts
   * import { Dense, Sequential } from "@convnet/wasm";
   * const model = new Sequential([new Dense({ units: 2, name: "out" })], [3]);
   * model.getWeights()["out.kernel"]!.shape; // [3, 2]
   * ```
   *
   * @returns A fresh object mapping each parameter's name to a tensor holding a copy of its values.
   */
  getWeights(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const p of this.params()) out[p.name] = { shape: [...p.shape], data: p.value.slice() };
    return out;
  }

  /**
   * Sets parameters by name, for example weights converted from PyTorch
   * (see `fromTorchConv2dWeight`). Every entry is checked first (a known
   * name, the parameter's exact shape, finite values); if any is wrong
   * nothing changes. Parameters not named keep their values.
   *
   * @example Usage
   * ```ts
   * import { Dense, Sequential, tensor } from "@convnet/wasm";
   * const model = new Sequential([new Dense({ units: 1, name: "out" })], [2]);
   * model.setWeights({ "out.kernel": tensor([1, 2], [2, 1]), "out.bias": tensor([0.5], [1]) });
   * model.predict(tensor([1, 1], [1, 2])).data; // Float32Array [3.5]
   * ```
   *
   * @param weights Tensors by parameter name.
   * @throws {TypeError} If `weights` is not an object of tensors.
   * @throws {RangeError} If a name is unknown, a shape differs or a value is not finite.
   */
  setWeights(weights: Readonly<Record<string, Tensor>>): void {
    const fn = "Sequential.setWeights";
    const w = checkOptions(fn, "weights", weights);
    const byName = new Map(this.params().map((p) => [p.name, p]));
    const plan: [Param, Float32Array][] = [];
    for (const [name, t] of Object.entries(w)) {
      const p = byName.get(name);
      if (!p) {
        throw new RangeError(
          `${fn}: weights has "${name}", which is not a parameter of this model; known: ${
            [...byName.keys()].join(", ")
          }`,
        );
      }
      const arg = `weights["${name}"]`;
      const tt = checkOptions(fn, arg, t);
      const shape = checkDims(fn, `${arg}.shape`, tt["shape"]);
      if (shape.length !== p.shape.length || shape.some((d, i) => d !== p.shape[i])) {
        throw new RangeError(
          `${fn}: ${arg}.shape must be [${p.shape.join(", ")}], got [${shape.join(", ")}]`,
        );
      }
      const data = checkFloat32Array(fn, `${arg}.data`, tt["data"], p.value.length);
      const bad = data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) fail(RangeError, fn, `${arg}.data[${bad}]`, "a finite number", data[bad]);
      plan.push([p, data]);
    }
    for (const [p, data] of plan) p.value.set(data);
  }

  /** All trainable parameters, layer by layer. */
  params(): Param[] {
    return this.layers.flatMap((l) => l.params());
  }

  /** The number of trainable numbers. */
  get parameterCount(): number {
    return this.params().reduce((n, p) => n + p.value.length, 0);
  }

  /** The architecture, as model files store it. */
  config(): ModelConfig {
    return { inputShape: [...this.inputShape], layers: this.layers.map((l) => l.config()) };
  }

  /** One row per layer: name, kind, output shape, parameter count. */
  layerSummary(): LayerSummary[] {
    return this.layers.map((l, i) => ({
      name: l.name,
      kind: l.kind,
      outputShape: this.#shapes[i]!,
      params: l.params().reduce((n, p) => n + p.value.length, 0),
    }));
  }

  /**
   * A printable table of the layers, like Keras's `summary()`.
   *
   * @returns The table, one line per layer, with the input and the total.
   */
  summary(): string {
    const rows = [["layer", "kind", "output shape", "params"], [
      "input",
      "",
      `[${this.inputShape.join(", ")}]`,
      "",
    ]];
    for (const s of this.layerSummary()) {
      rows.push([s.name, s.kind, `[${s.outputShape.join(", ")}]`, String(s.params)]);
    }
    const w = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
    const line = (r: string[]) =>
      r.map((c, i) => (i === 3 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join("  ");
    return [...rows.map(line), `total parameters: ${this.parameterCount}`].join("\n");
  }

  #checkInput(fn: string, x: Tensor): void {
    const s = x?.shape;
    const ok = Array.isArray(s) && s.length === this.inputShape.length + 1 &&
      Number.isInteger(s[0]) &&
      s[0] > 0 && this.inputShape.every((d, i) => s[i + 1] === d) &&
      x.data instanceof Float32Array &&
      x.data.length === s.reduce((p, v) => p * v, 1);
    if (!ok) {
      throw new RangeError(
        `Sequential.${fn}: x must have shape [m, ${
          this.inputShape.join(", ")
        }] with matching data, got ${Array.isArray(s) ? `[${s.join(", ")}]` : String(s)}`,
      );
    }
  }
}

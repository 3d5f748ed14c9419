// This module is browser compatible.

import type { Layer, LayerConfig, Param, SampleShape } from "../layers/layer.ts";
import type { Tensor } from "../core/tensor.ts";
import { withParamBudget } from "../layers/_util.ts";
import { mulberry32 } from "../core/random.ts";

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
   * @param layers The layers, fresh (not part of another model).
   * @param inputShape One sample's shape, e.g. `[28, 28, 1]`.
   * @param options The weight seed.
   * @throws {RangeError} If the shapes do not fit together (naming the layer) or names repeat.
   */
  constructor(layers: readonly Layer[], inputShape: SampleShape, options: SequentialOptions = {}) {
    if (!Array.isArray(layers) || layers.length === 0) {
      throw new RangeError("Sequential: layers must be a non-empty array of layers");
    }
    if (
      !Array.isArray(inputShape) || inputShape.length === 0 ||
      !inputShape.every((d) => Number.isInteger(d) && d > 0)
    ) {
      throw new RangeError(
        `Sequential: inputShape must be positive integers, got ${JSON.stringify(inputShape)}`,
      );
    }
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
    const rand = mulberry32(options.seed ?? 1);
    const shapes: SampleShape[] = [];
    let shape: SampleShape = Object.freeze([...inputShape]);
    withParamBudget(options.maxParameters ?? 2 ** 28, () =>
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
   * Inference: the output for a batch (logits, for a classifier; see
   * {@linkcode softmax}).
   *
   * @param x A batch `[m, ...inputShape]`.
   * @returns `[m, ...outputShape]`.
   * @throws {RangeError} If `x` is not shaped `[m, ...inputShape]`.
   */
  predict(x: Tensor): Tensor {
    return this.forward(x);
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

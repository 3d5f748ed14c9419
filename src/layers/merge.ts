// This module is browser compatible.

import type { Tensor } from "../core/tensor.ts";
import { applyLayer, type SymbolicTensor } from "./graph_node.ts";
import { checkOneOf } from "../core/_validate.ts";
import { type OptionDecls, optionsConfig, readOptions } from "./_declare.ts";
import { noForward } from "./_util.ts";

const NO_OPTIONS = {} as const;

const ADD_OPTIONS = {
  activation: {
    type: '"relu" | "linear"',
    default: '"linear"',
    doc: '`"relu"` fuses `max(0, ·)` after the sum (a residual block\'s last step); NaN stays NaN.',
    read: (k: string, a: string, v: unknown) =>
      checkOneOf(k, a, v ?? "linear", ["relu", "linear"] as const),
    save: (v: string) => (v === "linear" ? undefined : v),
  },
} as const;
import type { LayerConfig, MergeLayer, Param, SampleShape } from "./layer.ts";

/** Options of the merge layers. */
export interface MergeOptions {
  /** The layer's name; the model assigns one if absent. */
  name?: string;
}

/**
 * What the merge layers share: the name, the input checks and `apply`. A
 * custom merge layer may extend it and implement {@linkcode MergeLayer}.
 *
 * @example Usage
 * ```ts
 * import { Add, MergeLayerBase } from "@convnet/wasm";
 * new Add() instanceof MergeLayerBase; // true
 * ```
 */
export abstract class MergeLayerBase {
  /** Marks the merge layers. */
  readonly merge = true as const;
  /** The layer's name. */
  name: string;
  /** Each input's sample shape, from the last build. */
  protected shapes: readonly SampleShape[] = [];

  /**
   * Reads the options.
   *
   * @param kind The subclass's name.
   * @param options The name.
   */
  constructor(kind: string, options: MergeOptions) {
    const decls = (new.target as unknown as { options?: OptionDecls }).options ?? {};
    const c = readOptions(kind, decls, options);
    this.name = c.name;
    this.optionValues = c;
  }

  /** The options read through the subclass's declarations (its static `options`). */
  protected readonly optionValues: Readonly<Record<string, unknown>>;

  /** The description stored in model files: the kind, the name and every declared option. */
  config(): LayerConfig {
    const decls = (this.constructor as unknown as { options?: OptionDecls }).options ?? {};
    return optionsConfig(this as unknown as { kind: string; name: string }, decls);
  }

  /**
   * Applies the layer to two or more symbolic tensors (the functional API).
   *
   * @param inputs The inputs.
   * @returns The merged output.
   */
  apply(inputs: readonly SymbolicTensor[]): SymbolicTensor {
    return applyLayer(this as unknown as MergeLayer, inputs);
  }

  /** Checks that every input is a batch `[m, ...shapes[i]]` with one m. */
  protected checkInputs(kind: string, xs: readonly Tensor[]): number {
    if (!Array.isArray(xs) || xs.length !== this.shapes.length) {
      throw new RangeError(
        `${kind} "${this.name}": expected ${this.shapes.length} inputs, got ${xs?.length}`,
      );
    }
    const m = xs[0]!.shape[0]!;
    xs.forEach((x, i) => {
      const want = [m, ...this.shapes[i]!];
      if (
        x.shape.length !== want.length || x.shape.some((d: number, k: number) => d !== want[k]) ||
        x.data.length !== want.reduce((p, v) => p * v, 1)
      ) {
        throw new RangeError(
          `${kind} "${this.name}": input ${i} must have shape [${want.join(", ")}], got [${
            x.shape.join(", ")
          }]`,
        );
      }
    });
    return m;
  }

  /** None: merge layers have no parameters. */
  params(): Param[] {
    return [];
  }
}

/** Checks that all shapes are equal and returns it, or a RangeError naming both shapes. */
function sameShapes(kind: string, shapes: readonly SampleShape[]): SampleShape {
  const first = shapes[0]!;
  shapes.forEach((s, i) => {
    if (s.length !== first.length || s.some((d, k) => d !== first[k])) {
      throw new RangeError(
        `${kind} needs equal shapes, but input 0 is [${first.join(", ")}] and input ${i} is [${
          s.join(", ")
        }]`,
      );
    }
  });
  return first;
}

/**
 * Adds its inputs element-wise (a residual connection). All inputs have one
 * shape; the gradient goes unchanged to each.
 *
 * @example Usage
 * ```ts
 * import { Add, Conv2D, Input, Model } from "@convnet/wasm";
 * const x = Input([8, 8, 4]);
 * const y = new Conv2D({ filters: 4, kernelSize: 3, padding: "same" }).apply(x);
 * const model = new Model({ inputs: x, outputs: new Add().apply([x, y]) });
 * model.outputShape; // [8, 8, 4]
 * ```
 */
export class Add extends MergeLayerBase implements MergeLayer {
  /** `"Add"`. */
  readonly kind = "Add" as const;
  /** `"Add"`. */
  static readonly kind = "Add" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = ADD_OPTIONS;
  /** `"relu"` fuses max(0, ·) after the sum (a residual block's last step); default `"linear"`. */
  readonly activation: "relu" | "linear";
  #y: Float32Array | null = null;

  /**
   * Creates an Add.
   *
   * @param options `activation` (`"relu"` or `"linear"`, the default), the layer's name.
   */
  constructor(options: MergeOptions & { activation?: "relu" | "linear" } = {}) {
    super("Add", options);
    this.activation = this.optionValues["activation"] as "relu" | "linear";
  }

  /** Checks that the shapes are equal; returns that shape. */
  build(inputShapes: readonly SampleShape[]): SampleShape {
    this.shapes = inputShapes;
    return sameShapes("Add", inputShapes);
  }

  /** The element-wise sum. */
  forward(xs: readonly Tensor[]): Tensor {
    this.checkInputs("Add", xs);
    const out = xs[0]!.data.slice();
    for (let k = 1; k < xs.length; k++) {
      const d = xs[k]!.data;
      if (k === xs.length - 1 && this.activation === "relu") {
        for (let i = 0; i < out.length; i++) {
          const v = out[i]! + d[i]!;
          out[i] = v < 0 ? 0 : v;
        }
      } else for (let i = 0; i < out.length; i++) out[i] = out[i]! + d[i]!;
    }
    if (this.activation === "relu" && xs.length === 1) {
      for (let i = 0; i < out.length; i++) out[i] = out[i]! < 0 ? 0 : out[i]!;
    }
    this.#y = this.activation === "relu" ? out : null;
    return { shape: xs[0]!.shape, data: out };
  }

  /** The gradient for each input: `dOut` itself (masked where a fused ReLU clipped). */
  backward(dOut: Tensor): Tensor[] {
    if (this.activation === "linear") return this.shapes.map(() => dOut);
    const y = this.#y;
    if (!y) noForward(this);
    if (dOut.data.length !== y.length) {
      throw new RangeError(
        `Add "${this.name}": dOut has ${dOut.data.length} values, the forward output ${y.length}`,
      );
    }
    const g = dOut.data, d = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) if (y[i]! > 0) d[i] = g[i]!;
    const masked = { shape: dOut.shape, data: d };
    return this.shapes.map(() => masked);
  }
}

/**
 * Multiplies its inputs element-wise (gates, attention maps). All inputs
 * have one shape.
 *
 * @example Usage
 * ```ts
 * import { Input, Model, Multiply, Sigmoid } from "@convnet/wasm";
 * const x = Input([4]);
 * const model = new Model({ inputs: x, outputs: new Multiply().apply([x, new Sigmoid().apply(x)]) });
 * model.outputShape; // [4]
 * ```
 */
export class Multiply extends MergeLayerBase implements MergeLayer {
  /** `"Multiply"`. */
  readonly kind = "Multiply" as const;
  /** `"Multiply"`. */
  static readonly kind = "Multiply" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = NO_OPTIONS;
  #xs: readonly Tensor[] = [];

  /**
   * Creates a Multiply.
   *
   * @param options The layer's name.
   */
  constructor(options: MergeOptions = {}) {
    super("Multiply", options);
  }

  /** Checks that the shapes are equal; returns that shape. */
  build(inputShapes: readonly SampleShape[]): SampleShape {
    this.shapes = inputShapes;
    return sameShapes("Multiply", inputShapes);
  }

  /** The element-wise product, keeping the inputs for `backward`. */
  forward(xs: readonly Tensor[]): Tensor {
    this.checkInputs("Multiply", xs);
    this.#xs = [...xs];
    const out = xs[0]!.data.slice();
    for (let k = 1; k < xs.length; k++) {
      const d = xs[k]!.data;
      for (let i = 0; i < out.length; i++) out[i] = out[i]! * d[i]!;
    }
    return { shape: xs[0]!.shape, data: out };
  }

  /** The gradient for each input: `dOut` times the product of the others. */
  backward(dOut: Tensor): Tensor[] {
    const xs = this.#xs;
    if (xs.length === 0) {
      noForward(this);
    }
    return xs.map((_, k) => {
      const g = dOut.data.slice();
      xs.forEach((x, j) => {
        if (j === k) return;
        for (let i = 0; i < g.length; i++) g[i] = g[i]! * x.data[i]!;
      });
      return { shape: dOut.shape, data: g };
    });
  }
}

/**
 * Concatenates its inputs along the channel (last) axis, as U-Nets and
 * Inception blocks do. The other dimensions must agree.
 *
 * @example Usage
 * ```ts
 * import { Concatenate, Conv2D, Input, Model } from "@convnet/wasm";
 * const x = Input([8, 8, 3]);
 * const a = new Conv2D({ filters: 4, kernelSize: 1 }).apply(x);
 * const b = new Conv2D({ filters: 6, kernelSize: 3, padding: "same" }).apply(x);
 * new Model({ inputs: x, outputs: new Concatenate().apply([a, b]) }).outputShape; // [8, 8, 10]
 * ```
 */
export class Concatenate extends MergeLayerBase implements MergeLayer {
  /** `"Concatenate"`. */
  readonly kind = "Concatenate" as const;
  /** `"Concatenate"`. */
  static readonly kind = "Concatenate" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = NO_OPTIONS;

  /**
   * Creates a Concatenate.
   *
   * @param options The layer's name.
   */
  constructor(options: MergeOptions = {}) {
    super("Concatenate", options);
  }

  /** Checks that all but the last dimension agree; returns the joined shape. */
  build(inputShapes: readonly SampleShape[]): SampleShape {
    const first = inputShapes[0]!;
    inputShapes.forEach((s, i) => {
      if (s.length !== first.length || s.slice(0, -1).some((d, k) => d !== first[k])) {
        throw new RangeError(
          `Concatenate joins the last axis, so the other dimensions must agree, but input 0 is [${
            first.join(", ")
          }] and input ${i} is [${s.join(", ")}]`,
        );
      }
    });
    this.shapes = inputShapes;
    const c = inputShapes.reduce((n, s) => n + s[s.length - 1]!, 0);
    return [...first.slice(0, -1), c];
  }

  /** The inputs joined along the last axis. */
  forward(xs: readonly Tensor[]): Tensor {
    const m = this.checkInputs("Concatenate", xs);
    const widths = this.shapes.map((s) => s[s.length - 1]!);
    const c = widths.reduce((a, b) => a + b, 0);
    const rows = xs[0]!.data.length / widths[0]!;
    const out = new Float32Array(rows * c);
    let at = 0;
    xs.forEach((x, k) => {
      const w = widths[k]!;
      const src = x.data;
      // A plain loop: subarray() per row costs more than copying a few channels.
      for (let r = 0; r < rows; r++) {
        const i0 = r * w, o0 = r * c + at;
        for (let j = 0; j < w; j++) out[o0 + j] = src[i0 + j]!;
      }
      at += w;
    });
    return { shape: [m, ...this.shapes[0]!.slice(0, -1), c], data: out };
  }

  /** The gradient for each input: its slice of `dOut`'s last axis. */
  backward(dOut: Tensor): Tensor[] {
    const widths = this.shapes.map((s) => s[s.length - 1]!);
    const c = widths.reduce((a, b) => a + b, 0);
    const rows = dOut.data.length / c;
    const m = dOut.shape[0]!;
    let at = 0;
    return widths.map((w, k) => {
      const g = new Float32Array(rows * w);
      const src = dOut.data;
      for (let r = 0; r < rows; r++) {
        const i0 = r * c + at, o0 = r * w;
        for (let j = 0; j < w; j++) g[o0 + j] = src[i0 + j]!;
      }
      at += w;
      return { shape: [m, ...this.shapes[k]!], data: g };
    });
  }
}

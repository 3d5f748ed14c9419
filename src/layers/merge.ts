// This module is browser compatible.

import { sizeOf, type Tensor } from "../core/tensor.ts";
import { applyLayer, type SymbolicTensor } from "./graph_node.ts";
import { checkOneOf } from "../core/_validate.ts";
import { type OptionDecls, optionsConfig, readOptions } from "./_declare.ts";
import { noForward } from "./_util.ts";
import { outputArray, outputCopy } from "../core/_outputs.ts";
import { activeKernels } from "../backend/select.ts";
import {
  binaryInto,
  type BroadcastMap,
  broadcastMap,
  broadcastShapes,
  combineInto,
  expand,
  expandInto,
  reduceTo,
} from "./_broadcast.ts";

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

/** Output shape and broadcast maps of an element-wise merge (set by `build`). */
interface Broadcast {
  readonly out: SampleShape;
  readonly size: number;
  readonly maps: readonly BroadcastMap[];
}

function planBroadcast(kind: string, shapes: readonly SampleShape[]): Broadcast {
  const out = broadcastShapes(kind, shapes);
  return {
    out,
    size: sizeOf(out),
    maps: shapes.map((s) => broadcastMap(s, out)),
  };
}

/**
 * Adds its inputs element-wise (a residual connection). Their shapes
 * broadcast as NumPy's do (`[1, 1, c]` with `[h, w, c]`, say); the gradient
 * of a broadcast input is summed over the positions it was read at.
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
  #b: Broadcast | null = null;

  /**
   * Creates an Add.
   *
   * @param options `activation` (`"relu"` or `"linear"`, the default), the layer's name.
   */
  constructor(options: MergeOptions & { activation?: "relu" | "linear" } = {}) {
    super("Add", options);
    this.activation = this.optionValues["activation"] as "relu" | "linear";
  }

  /** Checks that the shapes broadcast; returns the broadcast shape. */
  build(inputShapes: readonly SampleShape[]): SampleShape {
    this.shapes = inputShapes;
    this.#b = planBroadcast("Add", inputShapes);
    return this.#b.out;
  }

  /** The element-wise sum. */
  forward(xs: readonly Tensor[]): Tensor {
    const m = this.checkInputs("Add", xs);
    const b = this.#b!;
    let out: Float32Array;
    if (xs.length > 1 && b.maps.every((map) => !map)) {
      // Same shapes (a residual block): one kernel.
      out = activeKernels().addSame(xs.map((x) => x.data), this.activation === "relu");
    } else {
      const first = expand(xs[0]!.data, b.maps[0]!, m, b.size);
      out = first === xs[0]!.data ? outputCopy(first) : first;
      for (let k = 1; k < xs.length; k++) {
        combineInto(out, xs[k]!.data, b.maps[k]!, m, b.size, "add");
      }
      if (this.activation === "relu") {
        for (let i = 0; i < out.length; i++) out[i] = out[i]! < 0 ? 0 : out[i]!;
      }
    }
    this.#y = this.activation === "relu" ? out : null;
    return { shape: [m, ...b.out], data: out };
  }

  /** The gradient for each input: `dOut` (masked where a fused ReLU clipped), summed where broadcast. */
  backward(dOut: Tensor): Tensor[] {
    const b = this.#b!;
    let g = dOut.data;
    if (this.activation === "relu") {
      const y = this.#y;
      if (!y) noForward(this);
      if (dOut.data.length !== y.length) {
        throw new RangeError(
          `Add "${this.name}": dOut has ${dOut.data.length} values, the forward output ${y.length}`,
        );
      }
      const d = new Float32Array(g.length);
      for (let i = 0; i < g.length; i++) if (y[i]! > 0) d[i] = g[i]!;
      g = d;
    }
    const m = dOut.shape[0]!;
    return this.shapes.map((s, k) => ({
      shape: [m, ...s],
      data: reduceTo(g, b.maps[k]!, m, sizeOf(s)),
    }));
  }
}

/**
 * Multiplies its inputs element-wise (gates, attention maps, squeeze-and-
 * excitation: `[1, 1, c]` scales times `[h, w, c]` maps). Shapes broadcast as
 * NumPy's do.
 *
 * @example Usage
 * ```ts
 * import { GlobalAvgPool2D, Input, Model, Multiply, Sigmoid } from "@convnet/wasm";
 * const x = Input([8, 8, 4]);
 * const gate = new Sigmoid().apply(new GlobalAvgPool2D({ keepDims: true }).apply(x));
 * const model = new Model({ inputs: x, outputs: new Multiply().apply([x, gate]) });
 * model.outputShape; // [8, 8, 4]
 * ```
 */
export class Multiply extends MergeLayerBase implements MergeLayer {
  /** `"Multiply"`. */
  readonly kind = "Multiply" as const;
  /** `"Multiply"`. */
  static readonly kind = "Multiply" as const;
  /** Its options, declared once: they drive construction, `config()`, model files and the docs. */
  static readonly options: OptionDecls = NO_OPTIONS;
  #xs: readonly Float32Array[] = [];
  #b: Broadcast | null = null;

  /**
   * Creates a Multiply.
   *
   * @param options The layer's name.
   */
  constructor(options: MergeOptions = {}) {
    super("Multiply", options);
  }

  /** Checks that the shapes broadcast; returns the broadcast shape. */
  build(inputShapes: readonly SampleShape[]): SampleShape {
    this.shapes = inputShapes;
    this.#b = planBroadcast("Multiply", inputShapes);
    return this.#b.out;
  }

  /** The element-wise product, keeping the (broadcast) inputs for `backward`. */
  forward(xs: readonly Tensor[]): Tensor {
    const m = this.checkInputs("Multiply", xs);
    const b = this.#b!;
    this.#xs = xs.map((x) => x.data);
    const out = outputArray(m * b.size);
    expandInto(out, xs[0]!.data, b.maps[0]!, m, b.size);
    for (let k = 1; k < xs.length; k++) combineInto(out, xs[k]!.data, b.maps[k]!, m, b.size, "mul");
    return { shape: [m, ...b.out], data: out };
  }

  /** The gradient for each input: `dOut` times the product of the others, summed where broadcast. */
  backward(dOut: Tensor): Tensor[] {
    const xs = this.#xs;
    if (xs.length === 0) noForward(this);
    const b = this.#b!, m = dOut.shape[0]!;
    return xs.map((_, k) => {
      const g = dOut.data.slice();
      xs.forEach((x, j) => {
        if (j !== k) combineInto(g, x, b.maps[j]!, m, b.size, "mul");
      });
      const s = this.shapes[k]!;
      return { shape: [m, ...s], data: reduceTo(g, b.maps[k]!, m, sizeOf(s)) };
    });
  }
}

/**
 * What the two-input element-wise merges (`Subtract`, `Divide`) share:
 * broadcasting, and the gradient of each input from `grads`.
 *
 * @example Usage
 * ```ts
 * import { BinaryMerge, Subtract } from "@convnet/wasm";
 * new Subtract() instanceof BinaryMerge; // true
 * ```
 */
export abstract class BinaryMerge extends MergeLayerBase implements MergeLayer {
  /** `"Subtract"` or `"Divide"`. */
  abstract readonly kind: "Subtract" | "Divide";
  #a: Float32Array | null = null;
  #c: Float32Array | null = null;
  #b: Broadcast | null = null;
  /** {@linkcode BinaryMerge.op}, bound once. */
  readonly #op = (a: number, b: number): number => this.op(a, b);

  /**
   * The element-wise function.
   *
   * @param a The first input's value.
   * @param b The second input's value.
   * @returns `f(a, b)`.
   */
  protected abstract op(a: number, b: number): number;
  /**
   * The gradients of `f` times `g`.
   *
   * @param g The output's gradient.
   * @param a The first input's value.
   * @param b The second input's value.
   * @returns `[g · ∂f/∂a, g · ∂f/∂b]`.
   */
  protected abstract grads(g: number, a: number, b: number): [number, number];

  /** Checks that there are two inputs whose shapes broadcast; returns the broadcast shape. */
  build(inputShapes: readonly SampleShape[]): SampleShape {
    if (inputShapes.length !== 2) {
      throw new RangeError(`${this.kind} takes two inputs, got ${inputShapes.length}`);
    }
    this.shapes = inputShapes;
    this.#b = planBroadcast(this.kind, inputShapes);
    return this.#b.out;
  }

  /** The element-wise result, keeping the (broadcast) inputs for `backward`. */
  forward(xs: readonly Tensor[]): Tensor {
    const m = this.checkInputs(this.kind, xs);
    const b = this.#b!;
    const a = xs[0]!.data, c = xs[1]!.data, out = outputArray(m * b.size);
    binaryInto(out, a, b.maps[0]!, c, b.maps[1]!, m, b.size, this.#op);
    this.#a = a;
    this.#c = c;
    return { shape: [m, ...b.out], data: out };
  }

  /** The gradient of each input, summed where it was broadcast. */
  backward(dOut: Tensor): Tensor[] {
    const a = this.#a, c = this.#c;
    if (!a || !c) noForward(this);
    const b = this.#b!, m = dOut.shape[0]!, g = dOut.data;
    const ea = expand(a, b.maps[0]!, m, b.size), ec = expand(c, b.maps[1]!, m, b.size);
    const ga = new Float32Array(g.length), gc = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) {
      const [x, y] = this.grads(g[i]!, ea[i]!, ec[i]!);
      ga[i] = x;
      gc[i] = y;
    }
    return [ga, gc].map((d, k) => {
      const s = this.shapes[k]!;
      return { shape: [m, ...s], data: reduceTo(d, b.maps[k]!, m, sizeOf(s)) };
    });
  }
}

/**
 * Subtracts its second input from its first, element-wise, shapes
 * broadcasting as NumPy's do (ONNX `Sub`).
 *
 * @example Usage
 * ```ts
 * import { GlobalAvgPool2D, Input, Model, Subtract } from "@convnet/wasm";
 * const x = Input([8, 8, 4]);
 * const centred = new Subtract().apply([x, new GlobalAvgPool2D({ keepDims: true }).apply(x)]);
 * new Model({ inputs: x, outputs: centred }).outputShape; // [8, 8, 4]
 * ```
 */
export class Subtract extends BinaryMerge {
  /** `"Subtract"`. */
  readonly kind = "Subtract" as const;
  /** `"Subtract"`. */
  static readonly kind = "Subtract" as const;
  /** Its options (only `name`). */
  static readonly options: OptionDecls = NO_OPTIONS;

  /**
   * Creates a Subtract.
   *
   * @param options The layer's name.
   */
  constructor(options: MergeOptions = {}) {
    super("Subtract", options);
  }
  /** `a − b`. */
  protected op(a: number, b: number): number {
    return a - b;
  }
  /** `[g, −g]`. */
  protected grads(g: number): [number, number] {
    return [g, -g];
  }
}

/**
 * Divides its first input by its second, element-wise, shapes broadcasting
 * as NumPy's do (ONNX `Div`). Division by zero gives ±Infinity or NaN, as in
 * PyTorch.
 *
 * @example Usage
 * ```ts
 * import { Divide, GlobalAvgPool2D, Input, Model } from "@convnet/wasm";
 * const x = Input([8, 8, 4]);
 * const scaled = new Divide().apply([x, new GlobalAvgPool2D({ keepDims: true }).apply(x)]);
 * new Model({ inputs: x, outputs: scaled }).outputShape; // [8, 8, 4]
 * ```
 */
export class Divide extends BinaryMerge {
  /** `"Divide"`. */
  readonly kind = "Divide" as const;
  /** `"Divide"`. */
  static readonly kind = "Divide" as const;
  /** Its options (only `name`). */
  static readonly options: OptionDecls = NO_OPTIONS;

  /**
   * Creates a Divide.
   *
   * @param options The layer's name.
   */
  constructor(options: MergeOptions = {}) {
    super("Divide", options);
  }
  /** `a / b`. */
  protected op(a: number, b: number): number {
    return a / b;
  }
  /** `[g / b, −g·a / b²]`. */
  protected grads(g: number, a: number, b: number): [number, number] {
    return [g / b, (-g * a) / (b * b)];
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
    const out = activeKernels().concatLast(xs.map((x) => x.data), widths, rows);
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

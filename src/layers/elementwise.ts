// This module is browser compatible.

import { outputArray } from "../core/_outputs.ts";
import type { Tensor } from "../core/tensor.ts";
import type { OptionDecls } from "./_declare.ts";
import { optionsConfig } from "./_declare.ts";
import { checkBatch, noForward } from "./_util.ts";
import { LayerBase } from "./layer_base.ts";
import type { Layer, LayerConfig, Param, SampleShape } from "./layer.ts";

/**
 * An element-wise layer declared by its function and derivative: a subclass
 * gives `f` (`y[i] = f(x[i])`) and `df` (`dx[i] = g[i] · f'(x[i])`, given `x`
 * and `y`), its `kind` and its declared options (a static `options` table,
 * which drives `config()` and model files); the shape checks, the cache for
 * `backward` and the rest are here. The built-in activations (ReLU,
 * LeakyReLU, Sigmoid, …) are written this way, and so can a custom one be
 * (register it with `registerLayer` to load it from model files).
 *
 * @example Usage
 * ```ts
 * import { ElementwiseLayer, Sequential, tensor } from "@convnet/wasm";
 * class Square extends ElementwiseLayer {
 *   readonly kind = "Square";
 *   static readonly options = {};
 *   constructor(options: { name?: string } = {}) {
 *     super(options.name ?? "");
 *   }
 *   protected f(x: Float32Array, y: Float32Array): void {
 *     for (let i = 0; i < x.length; i++) y[i] = x[i]! * x[i]!;
 *   }
 *   protected df(g: Float32Array, x: Float32Array, _y: Float32Array, dx: Float32Array): void {
 *     for (let i = 0; i < g.length; i++) dx[i] = 2 * x[i]! * g[i]!;
 *   }
 * }
 * new Sequential([new Square()], [2]).predict(tensor([3, -2], [1, 2])).data; // Float32Array [9, 4]
 * ```
 */
export abstract class ElementwiseLayer extends LayerBase implements Layer {
  /** Which layer this is. */
  abstract readonly kind: string;
  /** The layer's name. */
  name: string;
  #shape: SampleShape | null = null;
  #x: Float32Array | null = null;
  #y: Float32Array | null = null;

  /**
   * Sets the name (the subclass reads its options first).
   *
   * @param name The layer's name (`""`: the model assigns one).
   */
  constructor(name: string) {
    super();
    this.name = name;
  }

  /**
   * Writes `y[i] = f(x[i])` for every `i`.
   *
   * @param x The input values.
   * @param y The output, as long as `x`.
   */
  protected abstract f(x: Float32Array, y: Float32Array): void;

  /**
   * Writes `dx[i] = g[i] · f'(x[i])` for every `i`.
   *
   * @param g The gradient of the output.
   * @param x The forward input.
   * @param y The forward output.
   * @param dx The input gradient, to write.
   */
  protected abstract df(g: Float32Array, x: Float32Array, y: Float32Array, dx: Float32Array): void;

  /**
   * Computes the whole output at once (a kernel call), instead of `f`; the
   * default returns `null` and `f` runs.
   *
   * @param _x The input values.
   * @returns The output, or `null` to run `f`.
   */
  protected whole(_x: Float32Array): Float32Array | null {
    return null;
  }

  /** Returns the input shape (called by the model). This layer has no parameters. */
  build(inputShape: SampleShape, rand?: () => number): SampleShape {
    if (rand) this.#shape = inputShape;
    return inputShape;
  }

  /** Computes the output for a batch, keeping what `backward` needs. */
  forward(x: Tensor): Tensor {
    checkBatch(this, "the input", x, this.#shape ?? []);
    let y = this.whole(x.data);
    if (!y) {
      y = outputArray(x.data.length);
      this.f(x.data, y);
    }
    this.#x = x.data;
    this.#y = y;
    return { shape: x.shape, data: y };
  }

  /**
   * Back-propagates `dOut`.
   *
   * @param dOut The gradient of the loss with respect to the last forward output.
   * @param needInputGrad Whether to compute the input gradient (default true).
   * @returns The input gradient, or `null`.
   * @throws {RangeError} Before `forward`, or if `dOut` is not shaped like the last output.
   */
  backward(dOut: Tensor, needInputGrad = true): Tensor | null {
    const x = this.#x, y = this.#y;
    if (!x || !y) noForward(this);
    checkBatch(this, "dOut", dOut, this.#shape ?? []);
    if (dOut.data.length !== x.length) {
      throw new RangeError(
        `${this.kind} "${this.name}": dOut has ${dOut.data.length} values, the forward output ${x.length}`,
      );
    }
    if (!needInputGrad) return null;
    const dx = new Float32Array(dOut.data.length);
    this.df(dOut.data, x, y, dx);
    return { shape: dOut.shape, data: dx };
  }

  /** The trainable parameters: none. */
  params(): Param[] {
    return [];
  }

  /** The description stored in model files: the kind, the name and every declared option. */
  config(): LayerConfig {
    const decls = (this.constructor as unknown as { options?: OptionDecls }).options ?? {};
    return optionsConfig(this, decls);
  }
}

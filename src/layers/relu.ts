// This module is browser compatible.

import { type OptionDecls, readOptions } from "./_declare.ts";
import { ElementwiseLayer } from "./elementwise.ts";

const NO_OPTIONS = {} as const;

/**
 * The rectifier `max(0, x)`, element-wise. Its gradient passes where the
 * output is positive. NaN stays NaN (as in PyTorch), so a broken input
 * cannot turn into a confident answer.
 *
 * @example Usage
 * ```ts
 * import { ReLU, Sequential, tensor } from "@convnet/wasm";
 * const model = new Sequential([new ReLU()], [3]);
 * model.predict(tensor([-1, 0, 2], [1, 3])).data; // Float32Array [0, 0, 2]
 * ```
 */
export class ReLU extends ElementwiseLayer {
  /** `"ReLU"`. */
  readonly kind = "ReLU" as const;
  /** `"ReLU"`. */
  static readonly kind = "ReLU" as const;
  /** Its options (only `name`). */
  static readonly options: OptionDecls = NO_OPTIONS;

  /**
   * Creates a ReLU.
   *
   * @param options The layer's name; the model assigns `relu_N` if absent.
   */
  constructor(options: { name?: string } = {}) {
    super(readOptions("ReLU", NO_OPTIONS, options).name);
  }

  /** `y = x < 0 ? 0 : x` (NaN passes). */
  protected f(x: Float32Array, y: Float32Array): void {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      y[i] = v < 0 ? 0 : v;
    }
  }

  /** `dx = y > 0 ? g : 0`. */
  protected df(g: Float32Array, _x: Float32Array, y: Float32Array, dx: Float32Array): void {
    for (let i = 0; i < g.length; i++) dx[i] = y[i]! > 0 ? g[i]! : 0;
  }
}

// This module is browser compatible.

/**
 * What Conv2D and Dense share: a Dense layer is a 1×1 convolution over a
 * 1×1 image, so both keep a kernel and a bias, call the same kernels, and
 * back-propagate through an optional fused ReLU the same way.
 *
 * @module
 */

import { activeKernels } from "../backend/select.ts";
import type { ConvGeometry } from "../backend/types.ts";
import type { Tensor } from "../core/tensor.ts";
import {
  addInto,
  allocParam,
  glorotUniform,
  heNormal,
  makeParam,
  noForward,
  reluGrad,
} from "./_util.ts";
import type { Layer, Param } from "./layer.ts";

/** The weights, the forward pass's cache and the kernel calls of one convolution-like layer. */
export class ConvCore {
  /** `[f, f, cIn, cOut]` (Dense: `[cIn, cOut]`). */
  readonly kernel: Param;
  /** `[cOut]`. */
  readonly bias: Param;
  #x: Float32Array | null = null;
  #y: Float32Array | null = null;
  #m = 0;

  /**
   * Creates the parameters, initialised from `rand`.
   *
   * @param layer The owning layer (for names in messages).
   * @param g The geometry for a batch of one.
   * @param kernelShape The kernel's shape as the layer reports it.
   * @param init He (normal) or Glorot (uniform).
   * @param relu Whether a ReLU is fused after the bias.
   * @param rand Uniform random numbers in [0, 1).
   */
  constructor(
    readonly layer: Layer,
    readonly g: ConvGeometry,
    kernelShape: readonly number[],
    init: "he" | "glorot",
    readonly relu: boolean,
    rand: () => number,
  ) {
    const who = `${layer.kind} "${layer.name}"`;
    const fanIn = g.f * g.f * g.cIn, n = fanIn * g.cOut;
    const w = init === "he"
      ? heNormal(n, fanIn, rand, who)
      : glorotUniform(n, fanIn, g.f * g.f * g.cOut, rand, who);
    this.kernel = makeParam(`${layer.name}.kernel`, kernelShape, w);
    this.bias = makeParam(`${layer.name}.bias`, [g.cOut], allocParam(who, g.cOut));
  }

  /** The output for a batch of `m`, keeping what `backward` needs. */
  forward(x: Float32Array, m: number): Float32Array {
    const z = activeKernels().convForward(
      { ...this.g, m },
      x,
      this.kernel.value,
      this.bias.value,
      this.relu,
    );
    this.#x = x;
    this.#y = this.relu ? z : null;
    this.#m = m;
    return z;
  }

  /** Adds the parameter gradients; returns the input gradient if asked. */
  backward(dOut: Tensor, needInputGrad: boolean): Float32Array | null {
    const x = this.#x;
    if (!x) noForward(this.layer);
    if (dOut.shape[0] !== this.#m) {
      throw new RangeError(
        `${this.layer.kind} "${this.layer.name}": dOut has batch ${
          dOut.shape[0]
        }, the forward pass had ${this.#m}`,
      );
    }
    const g = { ...this.g, m: this.#m };
    const k = activeKernels();
    const dz = this.#y ? reluGrad(dOut.data, this.#y) : dOut.data;
    const { dW, db } = k.convBackwardFilter(g, x, dz);
    addInto(this.kernel.grad, dW);
    addInto(this.bias.grad, db);
    return needInputGrad ? k.convBackwardData(g, dz, this.kernel.value) : null;
  }
}

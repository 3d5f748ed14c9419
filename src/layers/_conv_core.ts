// This module is browser compatible.

/**
 * What Conv2D, DepthwiseConv2D, Conv2DTranspose and Dense share: a Dense
 * layer is a 1×1 convolution over a 1×1 image and a depthwise convolution
 * one with `groups = cIn`, so all keep a kernel and a bias, call the same
 * kernels, and back-propagate through an optional fused ReLU the same way. A
 * transposed convolution runs the same geometry the other way round: its
 * forward pass is the convolution's input gradient.
 *
 * @module
 */

import { activeKernels } from "../backend/select.ts";
import type { ConvGeometry } from "../core/types.ts";
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
import { trimmedGeometry, trimmedWeights } from "./_conv_trim.ts";

/** How a {@linkcode ConvCore} is set up. */
export interface ConvCoreOptions {
  /** The owning layer (for names in messages). */
  readonly layer: Layer;
  /**
   * The convolution's geometry for a batch of one (`m` is ignored). For a
   * transposed layer it is the geometry of the convolution whose input
   * gradient the layer computes: its input is the layer's output.
   */
  readonly g: ConvGeometry;
  /** The kernel's shape as the layer reports it. */
  readonly kernelShape: readonly number[];
  /** He (normal) or Glorot (uniform). */
  readonly init: "he" | "glorot";
  /** Inputs and outputs each weight connects, for the initialisation. */
  readonly fanIn: number;
  /** Outputs each input reaches, for Glorot. */
  readonly fanOut: number;
  /** The activation fused after the bias: 0 none, 1 ReLU, 2 ReLU6. */
  readonly relu: 0 | 1 | 2;
  /** Whether the layer is the transposed convolution of `g`. */
  readonly transposed?: boolean;
  /** Uniform random numbers in [0, 1). */
  readonly rand: () => number;
}

/** The weights, the forward pass's cache and the kernel calls of one convolution-like layer. */
export class ConvCore {
  /** The kernel, shaped as the layer reports it. */
  readonly kernel: Param;
  /** `[output channels]`. */
  readonly bias: Param;
  /** The geometry for a batch of one. */
  readonly g: ConvGeometry;
  readonly #o: ConvCoreOptions;
  #x: Float32Array | null = null;
  #y: Float32Array | null = null;
  #m = 0;

  /**
   * Creates the parameters, initialised from `options.rand`.
   *
   * @param options The layer, geometry, kernel shape, initialisation and activation.
   */
  constructor(options: ConvCoreOptions) {
    this.#o = options;
    this.g = options.g;
    const who = `${options.layer.kind} "${options.layer.name}"`;
    const n = options.kernelShape.reduce((p, d) => p * d, 1);
    const w = options.init === "he"
      ? heNormal(n, options.fanIn, options.rand, who)
      : glorotUniform(n, options.fanIn, options.fanOut, options.rand, who);
    const nb = options.transposed ? options.g.cIn : options.g.cOut;
    this.kernel = makeParam(`${options.layer.name}.kernel`, options.kernelShape, w);
    this.bias = makeParam(`${options.layer.name}.bias`, [nb], allocParam(who, nb));
  }

  /**
   * The geometry for a batch of `m` and its trimmed form, made once per
   * batch size and frozen: the kernels keep what they derive from a frozen
   * geometry (its block) instead of deriving it at every call.
   */
  #at(m: number): { g: ConvGeometry; t: ReturnType<typeof trimmedGeometry> } {
    const hit = this.#geo;
    if (hit?.g.m === m) return hit;
    const g = Object.freeze({ ...this.g, m });
    const t = trimmedGeometry(g);
    return this.#geo = { g, t: t && { ...t, g: Object.freeze(t.g) } };
  }
  #geo: { g: ConvGeometry; t: ReturnType<typeof trimmedGeometry> } | null = null;

  /** The output for a batch of `m`, keeping what `backward` needs. */
  forward(x: Float32Array, m: number): Float32Array {
    const { g, t } = this.#at(m), k = activeKernels();
    let z: Float32Array;
    if (this.#o.transposed) {
      z = k.convBackwardData(g, x, this.kernel.value);
      const b = this.bias.value, c = b.length;
      for (let i = 0; i < z.length; i++) {
        const v = z[i]! + b[i % c]!;
        const r = this.#o.relu ? (v < 0 ? 0 : v) : v;
        z[i] = this.#o.relu === 2 ? (r > 6 ? 6 : r) : r;
      }
    } else {
      // Taps that only ever see padding are left out (dilated convolutions on small maps).
      const tw = t && trimmedWeights(g, t, this.kernel.value);
      z = t && tw
        ? k.convForward(t.g, x, tw, this.bias.value, this.#o.relu)
        : k.convForward(g, x, this.kernel.value, this.bias.value, this.#o.relu);
    }
    this.#x = x;
    this.#y = this.#o.relu ? z : null;
    this.#m = m;
    return z;
  }

  /** Adds the parameter gradients; returns the input gradient if asked. */
  backward(dOut: Tensor, needInputGrad: boolean): Float32Array | null {
    const x = this.#x;
    if (!x) noForward(this.#o.layer);
    if (dOut.shape[0] !== this.#m) {
      const l = this.#o.layer;
      throw new RangeError(
        `${l.kind} "${l.name}": dOut has batch ${dOut.shape[0]}, the forward pass had ${this.#m}`,
      );
    }
    const g = { ...this.g, m: this.#m };
    const k = activeKernels();
    const dz = this.#y ? reluGrad(dOut.data, this.#y, this.#o.relu === 2) : dOut.data;
    if (this.#o.transposed) {
      // The layer's output is the convolution's input: roles swap.
      addInto(this.kernel.grad, k.convBackwardFilter(g, dz, x).dW);
      const db = new Float64Array(this.bias.grad.length), c = db.length;
      for (let i = 0; i < dz.length; i++) db[i % c]! += dz[i]!;
      addInto(this.bias.grad, db);
      if (!needInputGrad) return null;
      return k.convForward(g, dz, this.kernel.value, new Float32Array(g.cOut));
    }
    const { dW, db } = k.convBackwardFilter(g, x, dz);
    addInto(this.kernel.grad, dW);
    addInto(this.bias.grad, db);
    return needInputGrad ? k.convBackwardData(g, dz, this.kernel.value) : null;
  }
}

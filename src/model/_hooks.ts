// This module is browser compatible.

/**
 * What fit and evaluate need of a model's internals (private): a model
 * whose output is a Softmax is trained through the Softmax's input (the
 * logits), so the loss never sees a double softmax. `Model` fills this in.
 *
 * @module
 */

import type { Tensor } from "../core/types.ts";

/** Access to a model ending in a Softmax: its logits after a forward pass, and backward from them. */
export interface TrailingSoftmax {
  /** The Softmax's input of the last forward pass. */
  logits(): Tensor;
  /** Back-propagates the gradient of the loss with respect to those logits. */
  backward(dLogits: Tensor): void;
}

/** Filled in by model.ts. */
/** Keyed by an object (a `Model`) so that this module imports nothing of model.ts. */
export const hooks: { trailingSoftmax: (model: object) => TrailingSoftmax | null } = {
  trailingSoftmax: () => null,
};

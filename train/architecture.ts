/**
 * The CNNs this project trains. `mnistCnn()` is the benchmark architecture
 * (the one compared with TensorFlow.js): conv 5×5×16 (same, ReLU) → max pool
 * → conv 5×5×32 (same, ReLU) → max pool → dense 10. The shipped model adds
 * BatchNorm after each convolution and the hidden layer, a hidden dense layer
 * of `hidden` ReLU units, and dropout around it; {@linkcode SHIPPED} holds
 * its options, chosen on the validation split (see `train.ts`).
 *
 * @module
 */

import {
  BatchNorm,
  Conv2D,
  Dense,
  Dropout,
  Flatten,
  type Layer,
  MaxPool2D,
  ReLU,
  Sequential,
} from "../mod.ts";

/** Options of {@linkcode mnistCnn}. */
export interface MnistCnnOptions {
  /** Units of a hidden ReLU dense layer before the output; 0 (the default) for none. */
  hidden?: number;
  /** BatchNorm after each convolution and the hidden layer (before the ReLU); default false. */
  batchNorm?: boolean;
  /** Dropout rate before and after the hidden layer; 0 (the default) for none. */
  dropout?: number;
}

/** The options of the shipped model (chosen on the validation split). */
export const SHIPPED: Required<MnistCnnOptions> = { hidden: 128, batchNorm: true, dropout: 0.25 };

/** Builds the MNIST CNN with weights from `seed`. */
export function mnistCnn(seed = 1, options: MnistCnnOptions = {}): Sequential {
  const bn = options.batchNorm ?? false, rate = options.dropout ?? 0;
  const layers: Layer[] = [];
  const conv = (filters: number) => {
    if (bn) {
      layers.push(
        new Conv2D({ filters, kernelSize: 5, padding: "same" }),
        new BatchNorm(),
        new ReLU(),
      );
    } else {
      layers.push(new Conv2D({ filters, kernelSize: 5, padding: "same", activation: "relu" }));
    }
    layers.push(new MaxPool2D({ poolSize: 2 }));
  };
  conv(16);
  conv(32);
  layers.push(new Flatten());
  if (options.hidden) {
    if (rate > 0) layers.push(new Dropout({ rate, seed: seed + 1 }));
    if (bn) {
      layers.push(new Dense({ units: options.hidden, init: "he" }), new BatchNorm(), new ReLU());
    } else {
      layers.push(new Dense({ units: options.hidden, activation: "relu", init: "he" }));
    }
    if (rate > 0) layers.push(new Dropout({ rate, seed: seed + 2 }));
  }
  layers.push(new Dense({ units: 10 }));
  return new Sequential(layers, [28, 28, 1], { seed });
}

/**
 * The CNNs this project trains. `mnistCnn()` is the benchmark architecture
 * (the one compared with TensorFlow.js): conv 5×5×16 (same, ReLU) → max pool
 * → conv 5×5×32 (same, ReLU) → max pool → dense 10. The shipped model adds a
 * hidden dense layer of `hidden` ReLU units before the output.
 *
 * @module
 */

import { Conv2D, Dense, Flatten, type Layer, MaxPool2D, Sequential } from "../mod.ts";

/** Options of {@linkcode mnistCnn}. */
export interface MnistCnnOptions {
  /** Units of a hidden ReLU dense layer before the output; 0 (the default) for none. */
  hidden?: number;
}

/** Builds the MNIST CNN with weights from `seed`. */
export function mnistCnn(seed = 1, options: MnistCnnOptions = {}): Sequential {
  const layers: Layer[] = [
    new Conv2D({ filters: 16, kernelSize: 5, padding: "same", activation: "relu" }),
    new MaxPool2D({ poolSize: 2 }),
    new Conv2D({ filters: 32, kernelSize: 5, padding: "same", activation: "relu" }),
    new MaxPool2D({ poolSize: 2 }),
    new Flatten(),
  ];
  if (options.hidden) {
    layers.push(new Dense({ units: options.hidden, activation: "relu", init: "he" }));
  }
  layers.push(new Dense({ units: 10 }));
  return new Sequential(layers, [28, 28, 1], { seed });
}

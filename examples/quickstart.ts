/**
 * A short tour: convolve, pool, and backpropagate through both.
 *
 * Run with `deno task example`.
 *
 * @module
 */
import {
  convBackward,
  convForward,
  getBackend,
  poolBackward,
  poolForward,
  tensor,
} from "../mod.ts";

// One 6×6 grayscale image holding a vertical edge (left half 0, right half 1).
const pixels = Float32Array.from({ length: 36 }, (_, i) => (i % 6 >= 3 ? 1 : 0));
const x = tensor(pixels, [1, 6, 6, 1]);

// One 3×3 filter that responds to left-to-right increases (a Sobel-like kernel).
const w = tensor([-1, 0, 1, -2, 0, 2, -1, 0, 1], [3, 3, 1, 1]);
const { z, cache: convCache } = convForward(x, w, new Float32Array([0]), { stride: 1, pad: 1 });
const { a, cache: poolCache } = poolForward(z, { f: 2, stride: 2 });

console.log(`backend: ${getBackend()}`);
console.log(`conv output ${z.shape.join("×")}, pooled ${a.shape.join("×")}`);
for (let r = 0; r < a.shape[1]; r++) {
  console.log([...a.data.subarray(r * a.shape[2], (r + 1) * a.shape[2])].join("\t"));
}

// Backward: pretend the loss is the sum of the pooled output.
const dA = tensor(new Float32Array(a.data.length).fill(1), a.shape);
const dZ = poolBackward(dA, poolCache);
const { dW, db } = convBackward(dZ, convCache);
console.log(`dL/dW = [${[...dW.data].join(", ")}], dL/db = ${db[0]}`);

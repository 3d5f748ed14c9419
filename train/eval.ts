/**
 * `deno task eval`: the held-out accuracy and confusion matrix of
 * `models/mnist.safetensors` (or the file given as the first argument).
 *
 * @module
 */

import { loadModel } from "../mod.ts";
import { evaluate, formatMatrix } from "./evaluate.ts";
import { loadMnist } from "./mnist.ts";

const path = Deno.args[0] ?? new URL("../models/mnist.safetensors", import.meta.url).pathname;
const model = loadModel(await Deno.readFile(path));
const { heldOut } = await loadMnist();
const { accuracy, matrix } = evaluate(model, heldOut);
console.log(
  `${path}: held-out accuracy ${(100 * accuracy).toFixed(2)}% (${
    Math.round(accuracy * heldOut.n)
  }/${heldOut.n})\n`,
);
console.log(formatMatrix(matrix));

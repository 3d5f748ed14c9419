/**
 * `deno task eval`: the held-out accuracy and confusion matrix of
 * `models/mnist.safetensors` (or the file given as the first argument).
 *
 * @module
 */

import { evaluate, loadModel } from "../mod.ts";
import { formatMatrix } from "./evaluate.ts";
import { asDataset, loadMnist } from "./mnist.ts";

const path = Deno.args[0] ?? new URL("../models/mnist.safetensors", import.meta.url).pathname;
const model = loadModel(await Deno.readFile(path));
const { heldOut } = await loadMnist();
const { accuracy, correct, count, confusion, loss } = evaluate(model, asDataset(heldOut));
console.log(
  `${path}: held-out accuracy ${(100 * accuracy).toFixed(2)}% (${correct}/${count}), loss ${
    loss.toFixed(4)
  }\n`,
);
console.log(formatMatrix(confusion));

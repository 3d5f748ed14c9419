/**
 * The module runs unchanged in Node: bundled with `deno bundle` into one
 * JavaScript file, it is imported by Node (which lacks relaxed SIMD, so it
 * picks the plain SIMD build) and must compute what Deno computes on the same
 * build, bit for bit. Needs `node` on the PATH; skipped with a message without it.
 */
import assert from "node:assert/strict";
import { convForward, loadModel, setBackend, tensor } from "../mod.ts";

const node = await new Deno.Command("node", { args: ["--version"], stdout: "null", stderr: "null" })
  .output()
  .then((o) => o.success, () => false);
if (!node) console.warn("node_test: node not found, skipping");

const SCRIPT = `
import { availableBackends, getBackend, convForward, loadModel, tensor } from "./mod.js";
import { readFileSync } from "node:fs";
const x = tensor(Float32Array.from({ length: 2 * 9 * 7 * 3 }, (_, i) => Math.sin(i)), [2, 9, 7, 3]);
const w = tensor(Float32Array.from({ length: 3 * 3 * 3 * 5 }, (_, i) => Math.cos(i)), [3, 3, 3, 5]);
const z = convForward(x, w, new Float32Array([1, 2, 3, 4, 5]), { stride: 2, pad: 1 }).z;
const model = loadModel(new Uint8Array(readFileSync(process.argv[2])));
const logits = model.predict(tensor(Float32Array.from({ length: 784 }, (_, i) => (i % 13) / 13), [1, 28, 28, 1]));
console.log(JSON.stringify({ backends: availableBackends(), active: getBackend(), z: [...z.data], logits: [...logits.data] }));
`;

Deno.test({
  name: "node: the bundled module runs in Node and matches Deno bit for bit",
  ignore: !node,
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bundle = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", new URL("../mod.ts", import.meta.url).pathname, "-o", `${dir}/mod.js`],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(bundle.success, new TextDecoder().decode(bundle.stderr));
    await Deno.writeTextFile(`${dir}/smoke.mjs`, SCRIPT);
    const modelPath = new URL("../models/mnist.safetensors", import.meta.url).pathname;
    const out = await new Deno.Command("node", {
      args: [`${dir}/smoke.mjs`, modelPath],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.ok(r.backends.includes("wasm-simd"));
    setBackend(r.active);
    try {
      const x = tensor(Float32Array.from({ length: 2 * 9 * 7 * 3 }, (_, i) => Math.sin(i)), [
        2,
        9,
        7,
        3,
      ]);
      const w = tensor(Float32Array.from({ length: 3 * 3 * 3 * 5 }, (_, i) => Math.cos(i)), [
        3,
        3,
        3,
        5,
      ]);
      const z = convForward(x, w, new Float32Array([1, 2, 3, 4, 5]), { stride: 2, pad: 1 }).z;
      assert.deepEqual(r.z, [...z.data]);
      const model = loadModel(await Deno.readFile(modelPath));
      const logits = model.predict(
        tensor(Float32Array.from({ length: 784 }, (_, i) => (i % 13) / 13), [1, 28, 28, 1]),
      );
      assert.deepEqual(r.logits, [...logits.data]);
    } finally {
      setBackend("wasm-relaxed-simd");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Where a model's time goes: runs one image through a zoo export (or any
 * `.onnx` file) and times every node's `forward`, then prints the time by
 * layer kind and the slowest nodes. One thread unless `--threads N`.
 *
 * ```sh
 * deno run -A bench/profile.ts alexnet [--threads 2] [--top 15]
 * ```
 *
 * @module
 */

import { loadOnnx, nchwToNhwc, setThreads, tensor } from "../mod.ts";
import type { Tensor } from "../mod.ts";
import { exportZoo, ZOO_CACHE } from "../scripts/_zoo.ts";
import { withKeptWeights } from "../src/core/_versions.ts";

const args = [...Deno.args];
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
};
const threads = opt("--threads", 1), top = opt("--top", 12), rounds = opt("--rounds", 5);
const name = args[0] ?? "mobilenet_v2";
setThreads(threads);
let bytes: Uint8Array, shape: number[], input: number[];
if (name.endsWith(".onnx")) {
  bytes = await Deno.readFile(name);
  shape = [1, 3, 224, 224];
  input = Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i));
} else {
  await exportZoo([name]);
  bytes = await Deno.readFile(`${ZOO_CACHE}/${name}.onnx`);
  ({ input, shape } = JSON.parse(await Deno.readTextFile(`${ZOO_CACHE}/${name}.json`)));
}
const [, c, h, w] = shape as [number, number, number, number];
const model = loadOnnx(bytes);
const x = nchwToNhwc(tensor(Float32Array.from(input.slice(0, c * h * w)), [1, c, h, w]));
model.predict(x);

const times = new Map<string, number>();
let whole = Infinity;
for (let r = 0; r < rounds; r++) {
  const t0 = performance.now();
  model.predict(x);
  whole = Math.min(whole, performance.now() - t0);
}
// As predict runs them: weights kept in kernel memory between calls.
withKeptWeights(() => profileNodes());
function profileNodes() {
  for (let r = 0; r < rounds; r++) {
    const values = new Map<number, Tensor>([[model.nodes[0]!.inputs[0]!.id, x]]);
    for (const n of model.nodes) {
      const ins = n.inputs.map((t) => values.get(t.id)!);
      const t0 = performance.now();
      // deno-lint-ignore no-explicit-any
      const l = n.layer as any;
      const y = n.inputs.length > 1 || "inputCount" in l ? l.forward(ins) : l.forward(ins[0]);
      const dt = performance.now() - t0;
      values.set(n.output.id, y);
      const key = `${n.layer.kind}\t${n.layer.name}`;
      times.set(key, Math.min(times.get(key) ?? Infinity, dt));
    }
  }
}
const byKind = new Map<string, [number, number]>();
for (const [k, t] of times) {
  const kind = k.split("\t")[0]!;
  const [s, n] = byKind.get(kind) ?? [0, 0];
  byKind.set(kind, [s + t, n + 1]);
}
const sum = [...times.values()].reduce((a, b) => a + b, 0);
console.log(
  `${name}: predict ${whole.toFixed(2)} ms (best of ${rounds}), sum of nodes ${
    sum.toFixed(2)
  } ms, ${threads} thread(s)`,
);
for (const [k, [s, n]] of [...byKind].sort((a, b) => b[1][0] - a[1][0])) {
  console.log(`  ${k.padEnd(18)} ${s.toFixed(2).padStart(8)} ms  ${n} nodes`);
}
console.log("slowest nodes:");
for (const [k, t] of [...times].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`  ${t.toFixed(2).padStart(8)} ms  ${k.replace("\t", " ")}`);
}

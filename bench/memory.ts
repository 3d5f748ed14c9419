/**
 * Kernel memory of one torchvision model's prediction (`deno run -A
 * bench/memory.ts mobilenet_v2`, after `scripts/zoo_fixtures.py` wrote
 * `.cache/zoo/`): what `kernelMemoryStats()` reports after three
 * predictions of one image on one thread, against #22's bound of twice the
 * largest pair of a node's input and output plus the packed weights.
 * The figures are the process's, so it measures one model a run.
 *
 * @module
 */

import { kernelMemoryStats, loadOnnx, nchwToNhwc, setThreads, tensor } from "../mod.ts";

const MiB = (b: number) => (b / 2 ** 20).toFixed(1);

/** One model's figures, as a line of text. */
export function memoryLine(name: string): string {
  const root = new URL("../.cache/zoo/", import.meta.url);
  const bytes = Deno.readFileSync(new URL(`${name}.onnx`, root));
  const { input, shape } = JSON.parse(Deno.readTextFileSync(new URL(`${name}.json`, root)));
  const [, c, h, w] = shape as number[];
  const model = loadOnnx(bytes);
  const x = nchwToNhwc(tensor(Float32Array.from(input.slice(0, c! * h! * w!)), [1, c!, h!, w!]));
  for (let i = 0; i < 3; i++) model.predict(x);
  const st = kernelMemoryStats();
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1) * 4;
  let pair = 0;
  for (const n of model.nodes) {
    pair = Math.max(pair, n.inputs.reduce((a, t) => a + size(t.shape), size(n.output.shape)));
  }
  return `${name}: kernel memory ${MiB(st.bytes)} MiB (weights kept ${MiB(st.weightBytes)}, arena ${
    MiB(st.arenaBytes)
  }, largest call ${MiB(st.callBytes)}); bound 2 × ${MiB(pair)} + ${MiB(st.weightBytes)} = ${
    MiB(2 * pair + st.weightBytes)
  } MiB`;
}

if (import.meta.main) {
  setThreads(1);
  if (Deno.args.length > 1) throw new Error("one model a run: the figures are the process's");
  console.log(memoryLine(Deno.args[0] ?? "mobilenet_v2"));
}

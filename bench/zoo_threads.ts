/**
 * Threads on real models: five torchvision exports, one 224×224 image, ours
 * against onnxruntime-web with the same thread count, side by side in one
 * Deno process. Run it once per count (each runtime fixes its threads when
 * it starts):
 *
 * ```sh
 * deno run -A bench/zoo_threads.ts 1
 * deno run -A bench/zoo_threads.ts 2
 * ```
 *
 * @module
 */

import * as ort from "onnxruntime-web";
import { initKernels, loadOnnx, nchwToNhwc, setThreads, tensor } from "../mod.ts";
import { exportZoo, ZOO_CACHE } from "../scripts/_zoo.ts";

const NAMES = ["resnet18", "mobilenet_v2", "googlenet", "densenet121", "alexnet"];

/** The median of 15 timed calls after 3 warm-up calls, in ms. */
async function median(f: () => unknown): Promise<number> {
  for (let i = 0; i < 3; i++) await f();
  const t: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    await f();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[7]!;
}

if (import.meta.main) {
  const threads = Number(Deno.args[0] ?? 2);
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads: ${Deno.args[0]}`);
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  setThreads(threads);
  await initKernels();
  await exportZoo(NAMES);
  for (const name of NAMES) {
    const bytes = await Deno.readFile(`${ZOO_CACHE}/${name}.onnx`);
    const fx = JSON.parse(await Deno.readTextFile(`${ZOO_CACHE}/${name}.json`)) as {
      input: number[];
    };
    const nchw = Float32Array.from(fx.input.slice(0, 3 * 224 * 224));
    const x = nchwToNhwc(tensor(nchw, [1, 3, 224, 224]));
    const model = loadOnnx(bytes);
    const ours = await median(() => model.predict(x));
    const s = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
    const feeds = { [s.inputNames[0]!]: new ort.Tensor("float32", nchw, [1, 3, 224, 224]) };
    const theirs = await median(() => s.run(feeds));
    console.log(
      `${threads} thread(s) ${name}: ours ${ours.toFixed(1)} ms, onnxruntime-web ${
        theirs.toFixed(1)
      } ms, ${(theirs / ours).toFixed(2)}×`,
    );
  }
  Deno.exit(0);
}

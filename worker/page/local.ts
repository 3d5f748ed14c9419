/**
 * The demo page's in-browser inference: the library itself, bundled by
 * `deno task build:page` into `local.js`, which the Worker serves at
 * `/local.js`. The page is served cross-origin isolated (COOP/COEP headers),
 * so the kernels run on every core of the visitor's machine; it reads the
 * drawing the way the Worker reads a canvas PNG (composited on white, shrunk
 * to about four times the model's side, then the MNIST preprocessing), so
 * both give the same digit.
 *
 * @example Usage (in the page)
 * ```ts ignore
 * const { startLocal } = await import("/local.js");
 * const local = await startLocal("/v1/model/file");
 * const { digit, threads } = local.classify(ctx.getImageData(0, 0, 280, 280));
 * ```
 *
 * @module
 */

import {
  fuse,
  getBackend,
  initKernels,
  kernelThreadStats,
  loadModel,
  softmax,
  tensor,
} from "../../mod.ts";
import { Shrinker, shrinkFactor, shrinkRows } from "../../src/image/_shrink.ts";
import { toMnistInput } from "../preprocess.ts";

/** What the page gets back for one drawing. */
export interface LocalResult {
  /** The most probable class. */
  digit: number;
  /** The ten probabilities. */
  probabilities: number[];
  /** Milliseconds for preprocessing and inference. */
  ms: number;
  /** Threads the kernels may use here, and the workers that are up. */
  threads: number;
  /** Worker threads up now (0 when the page is not cross-origin isolated). */
  workers: number;
}

/** The in-browser model. */
export interface Local {
  /** The kernel backend in use. */
  backend: string;
  /** Whether the page is cross-origin isolated (needed for threads). */
  isolated: boolean;
  /** Classifies the canvas's pixels. */
  classify(image: { data: Uint8ClampedArray; width: number; height: number }): LocalResult;
}

/**
 * Loads the kernels (with their threads) and the served model.
 *
 * @param modelUrl Where the Worker serves the model file.
 * @returns The in-browser classifier.
 */
export async function startLocal(modelUrl: string): Promise<Local> {
  await initKernels();
  const res = await fetch(modelUrl);
  if (!res.ok) throw new Error(`model file: HTTP ${res.status}`);
  const model = fuse(loadModel(new Uint8Array(await res.arrayBuffer())));
  const side = model.inputShape[0] ?? 28;
  return {
    backend: getBackend(),
    isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    classify({ data, width, height }) {
      const t0 = performance.now();
      // Composited on white, luminance as the Worker's PNG decoder computes it (0 black, 1 white).
      const grey = new Float32Array(width * height);
      for (let i = 0, j = 0; i < grey.length; i++, j += 4) {
        const lum = (0.299 * data[j]! + 0.587 * data[j + 1]! + 0.114 * data[j + 2]!) / 255;
        grey[i] = 1 - (data[j + 3]! / 255) * (1 - lum);
      }
      const k = shrinkFactor(width, height, 4 * side);
      const img = shrinkRows(grey, width, height, new Shrinker(width, height, k, 1));
      const x = tensor(toMnistInput(img, side), [1, side, side, 1]);
      const probabilities = [...softmax(model.predict(x)).data];
      const digit = probabilities.indexOf(Math.max(...probabilities));
      const stats = kernelThreadStats();
      return {
        digit,
        probabilities,
        ms: performance.now() - t0,
        threads: stats.threads,
        workers: stats.workers,
      };
    },
  };
}

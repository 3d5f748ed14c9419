/**
 * TensorFlow.js 4.22 peers for the benchmarks: the `wasm` backend (XNNPACK,
 * SIMD build, one thread, wasm files from the local npm install) and the
 * plain-JavaScript `cpu` backend.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

export { tf };

/** Loads the wasm backend from node_modules with one thread. Returns false if it cannot. */
export async function initTfjs(): Promise<boolean> {
  const dir = new URL("../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url);
  setWasmPaths(dir.href);
  setThreadsCount(1);
  return await tf.setBackend("wasm");
}

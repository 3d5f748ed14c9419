/**
 * The Cloudflare Worker entry. workerd forbids compiling WebAssembly at run
 * time, so the kernels arrive precompiled through the bundler's `.wasm`
 * import (a `WebAssembly.Module`); the model arrives as bundled bytes
 * through the `served-model` alias of wrangler.toml (an ONNX or safetensors
 * file, by its Data rules) and the page and its script (the library
 * bundled, `deno task build:page`) as text. The `MODEL_*` vars of
 * wrangler.toml configure it (see config.ts). Deno's type checker does not
 * know these imports, so this file is left out of `deno task check`;
 * everything it calls lives in app.ts.
 *
 * @module
 */

import kernels from "../src/wasm/kernels-relaxed-simd.wasm";
import model from "served-model";
import page from "./page/index.html";
import pageScript from "./page/local.js";
import { createApp } from "./app.ts";

// An empty bundled model (models/serve-none.ts) leaves the model to R2 (MODEL_BUCKET, MODEL_KEY).
const bundled = new Uint8Array(model);
export default createApp({
  kernels,
  ...(bundled.length ? { modelBytes: bundled } : {}),
  page,
  pageScript,
});

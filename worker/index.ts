/**
 * The Cloudflare Worker entry. workerd forbids compiling WebAssembly at run
 * time, so the kernels arrive precompiled through the bundler's `.wasm`
 * import (a `WebAssembly.Module`); the model arrives as bundled bytes
 * (wrangler.toml's Data rule) and the page as text. Deno's type checker does
 * not know these imports, so this file is left out of `deno task check`;
 * everything it calls lives in app.ts.
 *
 * @module
 */

import kernels from "../src/wasm/kernels-relaxed-simd.wasm";
import model from "../models/mnist.safetensors";
import page from "./page/index.html";
import { createApp } from "./app.ts";

export default createApp({ kernels, modelBytes: new Uint8Array(model), page });

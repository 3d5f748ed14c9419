/**
 * `deno task serve`: the same app as the Worker, under `Deno.serve`, with
 * the kernels compiled by Deno and the model read from disk.
 *
 * Environment: `PORT` (default 8000), `HOST` (default 127.0.0.1), `CORS_ORIGINS`
 * (default `*`: the origins allowed to call the API from a browser).
 *
 * @module
 */

import { createApp } from "./app.ts";

const root = new URL("../", import.meta.url);
const modelBytes = await Deno.readFile(new URL("models/mnist.safetensors", root));
const page = await Deno.readTextFile(new URL("worker/page/index.html", root));
const app = createApp({ modelBytes, page, corsOrigins: Deno.env.get("CORS_ORIGINS") ?? "*" });

Deno.serve({
  hostname: Deno.env.get("HOST") ?? "127.0.0.1",
  port: Number(Deno.env.get("PORT") ?? 8000),
}, app.fetch);

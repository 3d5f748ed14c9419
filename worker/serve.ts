/**
 * `deno task serve`: the same app as the Worker, under `Deno.serve`, with
 * the kernels compiled by Deno and the model read from disk. It reads
 * wrangler.toml like wrangler does: the `served-model` alias names the model
 * file and `[vars]` configure it (`MODEL_*`, `CORS_ORIGINS`).
 *
 * Environment: `PORT` (default 8000), `HOST` (default 127.0.0.1), `CONFIG`
 * (default `wrangler.toml`); any `MODEL_*` or `CORS_ORIGINS` variable
 * overrides the file's.
 *
 * @module
 */

import { parse } from "smol-toml";
import { createApp } from "./app.ts";
import { resolveServedModel } from "./_alias.ts";
import { MODEL_VAR_NAMES, type ModelVars } from "./config.ts";

const root = new URL("../", import.meta.url);
const configUrl = new URL(Deno.env.get("CONFIG") ?? "wrangler.toml", root);
const config = parse(await Deno.readTextFile(configUrl)) as {
  alias?: Record<string, string>;
  vars?: Record<string, string>;
};
const alias = config.alias?.["served-model"];
if (!alias) throw new Error(`${configUrl.pathname}: [alias] has no "served-model" entry`);
// The alias names a module, `export { default } from "./file";`, or the file itself.
const modelUrl = await resolveServedModel(alias, configUrl);
const vars: Record<string, string> = { ...config.vars };
for (const k of [...MODEL_VAR_NAMES, "CORS_ORIGINS"]) {
  const v = Deno.env.get(k);
  if (v !== undefined) vars[k] = v;
}
const modelBytes = await Deno.readFile(modelUrl);
const page = await Deno.readTextFile(new URL("worker/page/index.html", root));
const pageScript = await Deno.readTextFile(new URL("worker/page/local.js", root));
const app = createApp({
  modelBytes,
  page,
  pageScript,
  vars: vars as ModelVars,
  corsOrigins: vars["CORS_ORIGINS"] ?? "*",
});

Deno.serve({
  hostname: Deno.env.get("HOST") ?? "127.0.0.1",
  port: Number(Deno.env.get("PORT") ?? 8000),
}, app.fetch);

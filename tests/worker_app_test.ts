/** The API in-process through Hono's app.request (fast; the same checks run against workerd). */
import assert from "node:assert/strict";
import { createApp } from "../worker/app.ts";
import { API_CASES, type Fetch, heldOutAsPng } from "./_api_cases.ts";

const app = createApp({
  modelBytes: await Deno.readFile(new URL("../models/mnist.safetensors", import.meta.url)),
  page: "<!doctype html><title>t</title>",
});
const f: Fetch = async (path, init) => await app.request(path, init);

for (const c of API_CASES) Deno.test(`app.request: ${c.name}`, () => c.run(f));

Deno.test("app.request: 200 held-out digits drawn on a canvas as PNG: ≥ 98% right", async () => {
  const right = await heldOutAsPng(f, 200);
  assert.ok(right >= 196, `${right}/200`);
});

Deno.test("app.request: GET / serves the page", async () => {
  const r = await f("/");
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type") ?? "", /text\/html/);
});

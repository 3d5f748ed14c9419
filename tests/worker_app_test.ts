/** The API in-process through Hono's app.request (fast; the same checks run against workerd). */
import assert from "node:assert/strict";
import { createApp } from "../worker/app.ts";
import { API_CASES, type Fetch, heldOutAsPng } from "./_api_cases.ts";

const modelBytes = await Deno.readFile(new URL("../models/mnist.safetensors", import.meta.url));
const app = createApp({
  modelBytes,
  page: "<!doctype html><title>t</title>",
  pageScript: "export const x = 1;",
});
const f: Fetch = async (path, init) => await app.request(path, init);

for (const c of API_CASES) Deno.test(`app.request: ${c.name}`, () => c.run(f));

Deno.test("app.request: 200 held-out digits drawn on a canvas as PNG: ≥ 98% right", async () => {
  const right = await heldOutAsPng(f, 200);
  assert.ok(right >= 196, `${right}/200`);
});

Deno.test("app.request: GET / serves the page, cross-origin isolated (for threads)", async () => {
  const r = await f("/");
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type") ?? "", /text\/html/);
  assert.equal(r.headers.get("cross-origin-opener-policy"), "same-origin");
  assert.equal(r.headers.get("cross-origin-embedder-policy"), "require-corp");
  await r.body?.cancel();
});

Deno.test("app.request: GET /local.js and /v1/model/file serve the page's script and the model", async () => {
  const js = await f("/local.js");
  assert.equal(js.status, 200);
  assert.match(js.headers.get("content-type") ?? "", /text\/javascript/);
  assert.equal(js.headers.get("cross-origin-embedder-policy"), "require-corp");
  assert.equal(await js.text(), "export const x = 1;");
  const file = await f("/v1/model/file");
  assert.equal(file.status, 200);
  assert.equal(file.headers.get("content-type"), "application/octet-stream");
  assert.match(file.headers.get("content-disposition") ?? "", /model\.safetensors/);
  assert.deepEqual(new Uint8Array(await file.arrayBuffer()), modelBytes);
  // Without a script the route is absent.
  const bare = createApp({ modelBytes });
  assert.equal((await bare.request("/local.js")).status, 404);
});

Deno.test("app.request: CORS origins from options or the CORS_ORIGINS binding: listed origins only", async () => {
  const listed = createApp({
    modelBytes: await Deno.readFile(new URL("../models/mnist.safetensors", import.meta.url)),
    corsOrigins: "https://a.test, https://b.test",
  });
  const get = (origin: string, env?: Record<string, string>) =>
    listed.request("/healthz", { headers: { origin } }, env);
  assert.equal(
    (await get("https://b.test")).headers.get("access-control-allow-origin"),
    "https://b.test",
  );
  assert.equal((await get("https://evil.test")).headers.get("access-control-allow-origin"), null);
  assert.match((await get("https://b.test")).headers.get("vary") ?? "", /origin/i);
  // A Worker's var overrides the option.
  const env = { CORS_ORIGINS: "https://c.test" };
  assert.equal(
    (await get("https://c.test", env)).headers.get("access-control-allow-origin"),
    "https://c.test",
  );
  assert.equal((await get("https://a.test", env)).headers.get("access-control-allow-origin"), null);
});

Deno.test("app.request: the input shape and class count come from the model", async () => {
  const { Conv2D, Dense, Flatten, Sequential, saveModel } = await import("../mod.ts");
  const five = new Sequential(
    [new Conv2D({ filters: 2, kernelSize: 3 }), new Flatten(), new Dense({ units: 5 })],
    [28, 28, 1],
  );
  const app5 = createApp({ modelBytes: saveModel(five) });
  const r = await app5.request("/v1/predict", {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: new Uint8Array(784),
  });
  const body = await r.json();
  assert.equal(body.probabilities.length, 5);
  const wrong = createApp({
    modelBytes: saveModel(new Sequential([new Dense({ units: 3 })], [4])),
  });
  const w = await wrong.request("/v1/model");
  assert.equal(w.status, 500); // a model the MNIST preprocessing cannot feed is refused at load
});

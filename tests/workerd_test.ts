/**
 * The Worker in real workerd: wrangler builds worker/index.ts from source
 * (the .wasm import arrives as a precompiled WebAssembly.Module, the model
 * as bundled bytes) and serves it on 127.0.0.1 on a free port; every API
 * check runs against it over HTTP, then the server is stopped.
 */
import assert from "node:assert/strict";
import { API_CASES, type Fetch, heldOutAsPng } from "./_api_cases.ts";
import { startWorkerd } from "./_workerd.ts";

Deno.test({
  name: "workerd: every route, input type and bad-input rule over HTTP",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const worker = await startWorkerd();
    try {
      const f: Fetch = (path, init) => fetch(new URL(path, worker.url), init);
      for (const c of API_CASES) await t.step(c.name, () => c.run(f));
      await t.step("200 held-out digits drawn on a canvas, sent as PNG: ≥ 98% right", async () => {
        const right = await heldOutAsPng(f, 200);
        assert.ok(right >= 196, `${right}/200`);
      });
      await t.step(
        "the kernels run as WebAssembly in workerd (handed in precompiled)",
        async () => {
          const m = await (await f("/v1/model")).json();
          assert.equal(m.backend, "wasm-relaxed-simd");
        },
      );
      await t.step("photos of digits as JPEG (baseline, progressive) are read", async () => {
        for (const d of [3, 7]) {
          for (const kind of ["baseline", "progressive"]) {
            const body = await Deno.readFile(
              new URL(`./fixtures/images/photo-${d}-${kind}.jpg`, import.meta.url),
            );
            const res = await f("/v1/predict", {
              method: "POST",
              headers: { "content-type": "image/jpeg" },
              body,
            });
            assert.equal((await res.json()).digit, d, `${d} ${kind}`);
          }
        }
      });
    } finally {
      await worker.stop();
    }
  },
});

Deno.test({
  name: "workerd: another model from configuration (an ONNX ResNet, resize, labels, mean/std)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const worker = await startWorkerd("tests/fixtures/wrangler-onnx.toml");
    try {
      const m = await (await fetch(new URL("/v1/model", worker.url))).json();
      assert.equal(m.format, "onnx");
      assert.equal(m.name, "tiny-resnet");
      assert.deepEqual(m.input.shape, [16, 16, 3]);
      assert.deepEqual(m.labels, ["cat", "dog", "bird", "fish", "frog"]);
      const photo = await Deno.readFile(
        new URL("./fixtures/images/photo-3-baseline.jpg", import.meta.url),
      );
      const res = await fetch(new URL("/v1/predict", worker.url), {
        method: "POST",
        headers: { "content-type": "image/jpeg" },
        body: photo,
      });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.ok(m.labels.includes(body.label));
      assert.equal(body.probabilities.length, 5);
      assert.ok(Math.abs(body.probabilities.reduce((s: number, v: number) => s + v, 0) - 1) < 1e-4);
    } finally {
      await worker.stop();
    }
  },
});

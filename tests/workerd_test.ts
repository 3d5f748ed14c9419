/**
 * The Worker in real workerd: wrangler builds worker/index.ts from source
 * (the .wasm import arrives as a precompiled WebAssembly.Module, the model
 * as bundled bytes) and serves it on 127.0.0.1 on a free port; every API
 * check runs against it over HTTP, then the server is stopped.
 */
import assert from "node:assert/strict";
import { API_CASES, type Fetch, heldOutAsPng } from "./_api_cases.ts";
import { putLocalR2, startWorkerd } from "./_workerd.ts";

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

Deno.test({
  name:
    "workerd: the model from wrangler's local R2 (MODEL_BUCKET, MODEL_KEY); a missing object is a 500",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const config = "tests/fixtures/wrangler-r2.toml";
    const onnx = await Deno.readFile(new URL("./fixtures/onnx/resnet.onnx", import.meta.url));
    const empty = await Deno.makeTempDir({ prefix: "convnet-r2-empty-" });
    const filled = await Deno.makeTempDir({ prefix: "convnet-r2-" });
    try {
      // No object under MODEL_KEY yet: a 500 that names it.
      let worker = await startWorkerd(config, empty);
      try {
        const r = await fetch(new URL("/v1/model", worker.url));
        const body = await r.json();
        assert.equal(r.status, 500, JSON.stringify(body));
        assert.match(
          body.error.message,
          /MODEL_KEY "tiny-resnet\.onnx" is not in the MODEL_BUCKET/,
        );
      } finally {
        await worker.stop();
      }
      await putLocalR2(config, filled, "MODEL_BUCKET", { "tiny-resnet.onnx": onnx });
      worker = await startWorkerd(config, filled);
      try {
        const m = await (await fetch(new URL("/v1/model", worker.url))).json();
        assert.equal(m.source, "r2:tiny-resnet.onnx");
        assert.deepEqual(m.input.shape, [16, 16, 3]);
        const photo = await Deno.readFile(
          new URL("./fixtures/images/photo-3-baseline.jpg", import.meta.url),
        );
        const res = await fetch(new URL("/v1/predict?top=2", worker.url), {
          method: "POST",
          headers: { "content-type": "image/jpeg" },
          body: photo,
        });
        const body = await res.json();
        assert.equal(res.status, 200, JSON.stringify(body));
        assert.equal(body.top.length, 2);
        assert.ok(m.labels.includes(body.label));
        const file = await fetch(new URL("/v1/model/file", worker.url));
        assert.deepEqual(new Uint8Array(await file.arrayBuffer()), onnx);
      } finally {
        await worker.stop();
      }
    } finally {
      await Deno.remove(empty, { recursive: true });
      await Deno.remove(filled, { recursive: true });
    }
  },
});

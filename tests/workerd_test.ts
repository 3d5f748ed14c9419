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
    } finally {
      await worker.stop();
    }
  },
});

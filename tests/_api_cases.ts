/**
 * The API's behaviour as a list of checks that run against any fetch
 * function: `app.request` (fast, in-process) and real workerd over HTTP.
 *
 * @module
 */

import assert from "node:assert/strict";
import { loadMnist } from "../train/mnist.ts";
import { bombPng, DRAWN, drawOnCanvas, encodePng, greyPng, strokes } from "./_png.ts";

/** Sends a request to the app under test. */
export type Fetch = (path: string, init?: RequestInit) => Promise<Response>;

async function json(res: Response): Promise<Record<string, unknown>> {
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  return await res.json();
}

/** Asserts an error response: status, `{ error: { code, message } }`. */
export async function expectError(
  res: Response,
  status: number,
  code: string,
  message?: RegExp,
): Promise<void> {
  const body = await json(res);
  assert.equal(res.status, status, JSON.stringify(body));
  const err = body["error"] as { code: string; message: string };
  assert.equal(err.code, code);
  assert.ok(err.message.length > 10);
  if (message) assert.match(err.message, message);
}

const post = (type: string, body: BodyInit | Uint8Array): RequestInit => ({
  method: "POST",
  headers: { "content-type": type },
  body: body as BodyInit,
});

/** One named check. */
export interface ApiCase {
  name: string;
  run(f: Fetch): Promise<void>;
}

let heldOutCache: Awaited<ReturnType<typeof loadMnist>>["heldOut"] | null = null;
async function heldOut() {
  return heldOutCache ??= (await loadMnist()).heldOut;
}

/** The checks. */
export const API_CASES: ApiCase[] = [
  {
    name: "GET /healthz and GET /v1/model",
    async run(f) {
      assert.deepEqual(await json(await f("/healthz")), { ok: true });
      const m = await json(await f("/v1/model"));
      assert.equal(
        m["parameters"],
        (m["architecture"] as { params: number }[]).reduce((s, l) => s + l.params, 0),
      );
      assert.ok((m["heldOutAccuracy"] as number) >= 0.985);
      assert.match(m["backend"] as string, /^wasm-(relaxed-)?simd$/);
      assert.deepEqual((m["input"] as { shape: number[] }).shape, [28, 28, 1]);
      const filters = m["firstLayerFilters"] as { shape: number[]; data: number[] };
      assert.equal(filters.data.length, filters.shape.reduce((p, v) => p * v, 1));
      assert.ok((m["kernelMemoryBytes"] as number) >= 0);
      const km = m["kernelMemory"] as Record<string, number>;
      for (const k of ["bytes", "weightBytes", "arenaBytes", "callBytes"]) {
        assert.ok(Number.isInteger(km[k]) && km[k]! >= 0, `kernelMemory.${k}: ${km[k]}`);
      }
      assert.ok(km["weightBytes"]! + km["arenaBytes"]! + km["callBytes"]! <= km["bytes"]!);
    },
  },
  {
    name: "digits drawn as thick strokes on a large white canvas (PNG) are recognised",
    async run(f) {
      for (const [digit, paths] of Object.entries(DRAWN)) {
        const png = await greyPng(400, 400, strokes(paths));
        const body = await json(await f("/v1/predict", post("image/png", png)));
        assert.equal(body["digit"], Number(digit), `drawn ${digit}: ${JSON.stringify(body)}`);
        const p = body["probabilities"] as number[];
        assert.equal(p.length, 10);
        assert.ok(Math.abs(p.reduce((s, v) => s + v, 0) - 1) < 1e-4);
        assert.equal(typeof body["ms"], "number");
      }
    },
  },
  {
    name: "an RGBA PNG with a transparent background is composited over white",
    async run(f) {
      const g = strokes(DRAWN[7]!, 300);
      const samples: number[] = [];
      for (const v of g) samples.push(0, 0, 0, v < 0.5 ? 255 : 0); // black ink, transparent elsewhere
      const png = await encodePng({ width: 300, height: 300, colorType: 6, depth: 8, samples });
      assert.equal((await json(await f("/v1/predict", post("image/png", png))))["digit"], 7);
    },
  },
  {
    name: "raw bytes and JSON pixels (flat and 28 rows) give the digit",
    async run(f) {
      const set = await heldOut();
      const i = 5;
      const img = set.x.subarray(i * 784, i * 784 + 784);
      const bytes = Uint8Array.from(img, (v) => Math.round(v * 255));
      const a = await json(await f("/v1/predict", post("application/octet-stream", bytes)));
      assert.equal(a["digit"], set.labels[i]);
      const b = await json(
        await f("/v1/predict", post("application/json", JSON.stringify({ pixels: [...img] }))),
      );
      assert.equal(b["digit"], set.labels[i]);
      const rows = Array.from({ length: 28 }, (_, r) => [...img.subarray(r * 28, r * 28 + 28)]);
      const c = await json(
        await f(
          "/v1/predict",
          post("application/json; charset=utf-8", JSON.stringify({ pixels: rows })),
        ),
      );
      assert.deepEqual(c["probabilities"], b["probabilities"]);
    },
  },
  {
    name: "?explain=1 returns the model's input and the first convolution's maps",
    async run(f) {
      const png = await greyPng(200, 200, strokes(DRAWN[1]!, 200));
      const body = await json(await f("/v1/predict?explain=1", post("image/png", png)));
      assert.equal((body["input"] as number[]).length, 784);
      const act = body["activations"] as { layer: string; shape: number[]; data: number[] };
      assert.equal(act.layer, "conv2d_1");
      assert.deepEqual(act.shape, [28, 28, 16]);
      assert.equal(act.data.length, 28 * 28 * 16);
    },
  },
  {
    name: "POST /v1/predict/batch answers each image in order",
    async run(f) {
      const set = await heldOut();
      const idx = [0, 300, 700, 1100, 1500, 1900];
      const images: unknown[] = idx.map((i) => ({
        pixels: [...set.x.subarray(i * 784, i * 784 + 784)],
      }));
      const png = await greyPng(280, 280, drawOnCanvas(set.x.subarray(0, 784)));
      let bin = "";
      for (const b of png) bin += String.fromCharCode(b);
      images.push({ png: btoa(bin) });
      const body = await json(
        await f("/v1/predict/batch", post("application/json", JSON.stringify({ images }))),
      );
      const results = body["results"] as { digit: number }[];
      assert.deepEqual(results.map((r) => r.digit), [
        ...idx.map((i) => set.labels[i]),
        set.labels[0],
      ]);
    },
  },
  {
    name: "bodies over 16 MiB (MAX_BODY_BYTES' default) are 413, whether declared or streamed",
    async run(f) {
      const big = new Uint8Array((16 << 20) + 1);
      await expectError(
        await f("/v1/predict", post("application/octet-stream", big)),
        413,
        "payload_too_large",
      );
      // Streamed (no Content-Length), 1 KiB past the limit: the server has read all of it when
      // it answers, so the answer is not raced by a connection closed under a body still sending.
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 16; i++) c.enqueue(new Uint8Array(1 << 20));
          c.enqueue(new Uint8Array(1024));
          c.close();
        },
      });
      await expectError(
        await f(
          "/v1/predict",
          { ...post("application/octet-stream", stream), duplex: "half" } as RequestInit,
        ),
        413,
        "payload_too_large",
      );
    },
  },
  {
    name: "PNGs over 8192 px, and decompression bombs, are 413",
    async run(f) {
      const wide = await encodePng({
        width: 8193,
        height: 1,
        colorType: 0,
        depth: 1,
        samples: new Array(8193).fill(1),
      });
      await expectError(
        await f("/v1/predict", post("image/png", wide)),
        413,
        "image_too_large",
        /8192/,
      );
      // Declares 16×16 but its data inflates to 8 MiB.
      const bomb = await bombPng(16, 8 << 20);
      await expectError(
        await f("/v1/predict", post("image/png", bomb)),
        413,
        "image_too_large",
        /inflates/,
      );
    },
  },
  {
    name: "unsupported content types are 415",
    async run(f) {
      await expectError(
        await f("/v1/predict", post("image/gif", new Uint8Array(10))),
        415,
        "unsupported_media_type",
      );
      await expectError(
        await f("/v1/predict", { method: "POST", body: "x" }),
        415,
        "unsupported_media_type",
      );
      await expectError(
        await f("/v1/predict/batch", post("image/png", new Uint8Array(10))),
        415,
        "unsupported_media_type",
      );
    },
  },
  {
    name: "wrong lengths, bad values, malformed JSON or PNG are 400",
    async run(f) {
      const j = (v: unknown) => post("application/json", JSON.stringify(v));
      await expectError(
        await f("/v1/predict", post("application/octet-stream", new Uint8Array(783))),
        400,
        "bad_request",
        /784/,
      );
      await expectError(
        await f("/v1/predict", j({ pixels: new Array(783).fill(0) })),
        400,
        "bad_request",
        /784/,
      );
      await expectError(
        await f("/v1/predict", j({ pixels: new Array(784).fill(2) })),
        400,
        "bad_request",
        /in 0\.\.1, got 2/,
      );
      await expectError(
        await f("/v1/predict", j({ pixels: [...new Array(783).fill(0), "NaN"] })),
        400,
        "bad_request",
        /pixels\[783\]/,
      );
      await expectError(
        await f("/v1/predict", j({ pixels: [...new Array(783).fill(0), null] })),
        400,
        "bad_request",
      );
      await expectError(await f("/v1/predict", j({ image: [] })), 400, "bad_request", /pixels/);
      await expectError(
        await f("/v1/predict", post("application/json", "{ pixels: ")),
        400,
        "bad_request",
        /not valid JSON/,
      );
      await expectError(
        await f("/v1/predict", post("image/png", new Uint8Array([1, 2, 3]))),
        400,
        "bad_image",
        /signature/,
      );
      await expectError(
        await f("/v1/predict", post("image/png", await greyPng(8, 8, new Array(64).fill(1)))),
        400,
        "bad_request",
        /blank/,
      );
      await expectError(await f("/v1/predict/batch", j({ images: [] })), 400, "bad_request");
      await expectError(
        await f(
          "/v1/predict/batch",
          j({ images: new Array(65).fill({ pixels: new Array(784).fill(0) }) }),
        ),
        413,
        "too_many_images",
      );
      await expectError(
        await f("/v1/predict/batch", j({ images: [{ png: "%%%" }] })),
        400,
        "bad_request",
        /base64/,
      );
    },
  },
  {
    name: "unknown routes are 404 JSON, wrong methods 405 with Allow",
    async run(f) {
      await expectError(await f("/v2/predict"), 404, "not_found");
      await expectError(await f("/app.js"), 404, "not_found"); // the old page-script route is gone
      const r = await f("/v1/predict");
      assert.equal(r.headers.get("allow"), "POST");
      await expectError(r, 405, "method_not_allowed");
      await expectError(await f("/healthz", { method: "DELETE" }), 405, "method_not_allowed");
    },
  },
  {
    name:
      "CORS: OPTIONS preflight is 204 with the allowed methods; answers and errors carry the origin",
    async run(f) {
      const pre = await f("/v1/predict", {
        method: "OPTIONS",
        headers: {
          origin: "https://example.com",
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get("access-control-allow-origin"), "*");
      assert.match(pre.headers.get("access-control-allow-methods") ?? "", /POST/);
      assert.match(pre.headers.get("access-control-allow-headers") ?? "", /content-type/i);
      await pre.body?.cancel();
      const ok = await f("/v1/model", { headers: { origin: "https://example.com" } });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get("access-control-allow-origin"), "*");
      await ok.body?.cancel();
      const bad = await f("/v1/predict", {
        ...post("application/octet-stream", new Uint8Array(3)),
        headers: { "content-type": "application/octet-stream", origin: "https://example.com" },
      });
      assert.equal(bad.headers.get("access-control-allow-origin"), "*");
      await expectError(bad, 400, "bad_request");
      const pre2 = await f("/v1/predict/batch", {
        method: "OPTIONS",
        headers: { origin: "https://x.test", "access-control-request-method": "POST" },
      });
      assert.equal(pre2.status, 204);
      await pre2.body?.cancel();
    },
  },
  {
    name: "an empty body is a 400 that says the body is empty",
    async run(f) {
      for (const type of ["image/png", "application/octet-stream", "application/json"]) {
        await expectError(
          await f("/v1/predict", post(type, new Uint8Array(0))),
          400,
          "bad_request",
          /the body is empty; send image\/png, image\/jpeg, application\/octet-stream \(784 bytes\)/,
        );
      }
      await expectError(
        await f("/v1/predict/batch", post("application/json", "")),
        400,
        "bad_request",
        /the body is empty; send \{ "images": \[\.\.\.\] \} with 1 to 64 images/,
      );
    },
  },
  {
    name: "wrong methods on every route are 405 with the route's Allow",
    async run(f) {
      for (
        const [path, method, allow] of [
          ["/v1/predict/batch", "GET", "POST"],
          ["/v1/model", "POST", "GET"],
          ["/healthz", "PUT", "GET"],
        ] as const
      ) {
        const r = await f(path, { method });
        assert.equal(r.headers.get("allow"), allow, path);
        await expectError(r, 405, "method_not_allowed", new RegExp(`use ${allow} for ${path}`));
      }
    },
  },
];

/** Sends `n` held-out digits drawn on a canvas as PNGs; returns how many come back right. */
export async function heldOutAsPng(f: Fetch, n = 200): Promise<number> {
  const set = await heldOut();
  let right = 0;
  for (let k = 0; k < n; k++) {
    const i = Math.floor((k * set.n) / n);
    const png = await greyPng(280, 280, drawOnCanvas(set.x.subarray(i * 784, i * 784 + 784)));
    const body = await (await f("/v1/predict", post("image/png", png))).json();
    if (body.digit === set.labels[i]) right++;
  }
  return right;
}

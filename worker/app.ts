/**
 * The inference API as a Hono app, written once as a function of the kernels
 * and the model bytes, so that the same app runs in Cloudflare's workerd
 * (worker/index.ts) and under `Deno.serve` (worker/serve.ts).
 *
 * Routes (JSON everywhere):
 * - `GET /healthz` → `{ ok: true }`
 * - `GET /v1/model` → architecture, input spec, parameter count, held-out accuracy, backend
 * - `POST /v1/predict` → `{ digit, probabilities, backend, ms }` for a PNG, 784 raw bytes or JSON pixels;
 *   `?explain=1` adds the preprocessed input and the first convolution's activation maps
 * - `POST /v1/predict/batch` → one result per image for up to 64 images in a JSON body
 * - `GET /` → the demo page, when one is given
 *
 * Errors are `{ error: { code, message } }` with status 400, 404, 405, 413 or 415.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import {
  getBackend,
  kernelMemoryBytes,
  loadModel,
  type Sequential,
  softmax,
  type Tensor,
  tensor,
  useKernels,
} from "../mod.ts";
import {
  ApiError,
  fromBatch,
  fromJsonImage,
  fromOctets,
  fromPng,
  mediaType,
  parseJson,
  readBody,
} from "./inputs.ts";

/** What {@linkcode createApp} needs. */
export interface AppOptions {
  /** The model file (safetensors), e.g. the bundled `models/mnist.safetensors`. */
  modelBytes: Uint8Array;
  /** Precompiled kernels; required in workerd, optional where compiling is allowed. */
  kernels?: WebAssembly.Module;
  /** The demo page's HTML for `GET /`; the route is absent without it. */
  page?: string;
  /** The demo page's script for `GET /app.js`. */
  pageScript?: string;
}

interface Loaded {
  model: Sequential;
  heldOutAccuracy: number | null;
}

/** One image's answer. */
interface Prediction {
  digit: number;
  probabilities: number[];
}

const round = (v: number, digits = 6) => Number(v.toFixed(digits));

function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** Builds the app. The model is parsed (and the kernels instantiated) once, on the first request. */
export function createApp(options: AppOptions): Hono {
  let loaded: Loaded | null = null;
  const load = (): Loaded => {
    if (loaded) return loaded;
    if (options.kernels) useKernels(options.kernels);
    const model = loadModel(options.modelBytes);
    const acc = Number(model.metadata["heldOutAccuracy"]);
    loaded = { model, heldOutAccuracy: Number.isFinite(acc) ? acc : null };
    return loaded;
  };

  /** Runs a batch of 28×28 inputs; returns predictions and the first layer's output. */
  const infer = (inputs: Float32Array[], explain: boolean) => {
    const { model } = load();
    const x = new Float32Array(inputs.length * 784);
    inputs.forEach((v, i) => x.set(v, i * 784));
    const t0 = performance.now();
    const batch = tensor(x, [inputs.length, 28, 28, 1]);
    let first: Tensor | null = null;
    let logits: Tensor;
    if (explain) {
      const outs = model.forwardAll(batch);
      first = outs[0]!;
      logits = outs[outs.length - 1]!;
    } else {
      logits = model.predict(batch);
    }
    const probs = softmax(logits).data;
    const ms = performance.now() - t0;
    const results: Prediction[] = inputs.map((_, i) => {
      const p = Array.from(probs.subarray(i * 10, i * 10 + 10), (v) => round(v));
      let digit = 0;
      for (let d = 1; d < 10; d++) if (p[d]! > p[digit]!) digit = d;
      return { digit, probabilities: p };
    });
    return { results, first, ms };
  };

  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof ApiError) {
      const headers: Record<string, string> = {};
      return c.json(errorBody(err.code, err.message), err.status, headers);
    }
    console.error(err);
    return c.json(errorBody("internal", "the server failed to answer; this is a bug"), 500);
  });
  app.notFound((c) =>
    c.json(
      errorBody(
        "not_found",
        `no route ${c.req.method} ${new URL(c.req.url).pathname}; see GET /v1/model`,
      ),
      404,
    )
  );

  if (options.page) {
    const page = options.page;
    app.get("/", (c) => c.html(page));
  }
  if (options.pageScript) {
    const js = options.pageScript;
    app.get(
      "/app.js",
      (c) =>
        c.body(js, 200, {
          "content-type": "text/javascript; charset=utf-8",
          "cache-control": "no-cache",
        }),
    );
  }

  app.get("/healthz", (c) => c.json({ ok: true }));

  app.get("/v1/model", (c) => {
    const { model, heldOutAccuracy } = load();
    const firstConv = model.layers.find((l) => l.kind === "Conv2D");
    const kernel = firstConv?.params()[0];
    return c.json({
      name: "mnist-cnn",
      architecture: model.layerSummary(),
      input: {
        shape: [28, 28, 1],
        formats: {
          "image/png": "any size up to 2048×2048, grey or colour; preprocessed MNIST-style",
          "application/octet-stream": "784 bytes, 0–255, row-major 28×28, white digit on black",
          "application/json":
            '{ "pixels": 784 numbers or 28 rows of 28, in 0..1, white digit on black }',
        },
        maxBodyBytes: 1 << 20,
        maxBatch: 64,
      },
      parameters: model.parameterCount,
      heldOutAccuracy,
      backend: getBackend(),
      kernelMemoryBytes: kernelMemoryBytes(),
      firstLayerFilters: kernel
        ? {
          layer: firstConv!.name,
          shape: kernel.shape,
          data: Array.from(kernel.value, (v) => round(v, 5)),
        }
        : null,
    });
  });

  app.post("/v1/predict", async (c) => {
    const explain = ["1", "true"].includes(c.req.query("explain") ?? "");
    const input = await readInput(c);
    const { results, first, ms } = infer([input], explain);
    const body: Record<string, unknown> = {
      ...results[0],
      backend: getBackend(),
      ms: round(ms, 3),
    };
    if (explain && first) {
      body["input"] = Array.from(input, (v) => round(v, 4));
      body["activations"] = {
        layer: load().model.layers[0]!.name,
        shape: first.shape.slice(1),
        data: Array.from(first.data, (v) => round(v, 4)),
      };
    }
    return c.json(body);
  });

  app.post("/v1/predict/batch", async (c) => {
    const type = mediaType(c.req.raw);
    if (type !== "application/json") {
      throw new ApiError(
        415,
        "unsupported_media_type",
        `a batch must be application/json, got ${type || "no content type"}`,
      );
    }
    const inputs = await fromBatch(parseJson(await readBody(c.req.raw)));
    const { results, ms } = infer(inputs, false);
    return c.json({ results, backend: getBackend(), ms: round(ms, 3) });
  });

  const allow = (methods: string) => (c: Context) => {
    c.header("allow", methods);
    return c.json(
      errorBody("method_not_allowed", `use ${methods} for ${new URL(c.req.url).pathname}`),
      405,
    );
  };
  app.all("/healthz", allow("GET"));
  app.all("/v1/model", allow("GET"));
  app.all("/v1/predict", allow("POST"));
  app.all("/v1/predict/batch", allow("POST"));
  if (options.page) app.all("/", allow("GET"));

  return app;
}

/** One input from a predict request, by content type. */
async function readInput(c: Context): Promise<Float32Array> {
  const type = mediaType(c.req.raw);
  if (!["image/png", "application/octet-stream", "application/json"].includes(type)) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      `send image/png, application/octet-stream (784 bytes) or application/json ({ "pixels": [...] }), got ${
        type || "no content type"
      }`,
    );
  }
  const bytes = await readBody(c.req.raw);
  if (type === "image/png") return await fromPng(bytes);
  if (type === "application/octet-stream") return fromOctets(bytes);
  const body = parseJson(bytes);
  if (body === null || typeof body !== "object" || !("pixels" in body)) {
    throw new ApiError(400, "bad_request", 'the JSON body must be { "pixels": [...] }');
  }
  return await fromJsonImage(body, "body");
}

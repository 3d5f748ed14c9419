/**
 * The inference API as a Hono app, written once as a function of the kernels
 * and the model bytes, so that the same app runs in Cloudflare's workerd
 * (worker/index.ts) and under `Deno.serve` (worker/serve.ts).
 *
 * Routes (JSON everywhere; `h`, `w`, `c` and `classes` are the model's):
 * - `GET /healthz` → `{ ok: true }`
 * - `GET /v1/model` → architecture, input spec, parameter count, held-out accuracy, backend
 * - `POST /v1/predict` → `{ digit, probabilities, backend, ms }` for a PNG, `h·w·c` raw bytes
 *   or JSON pixels. With `?explain=1` the answer adds `input` (the `h·w·c` values the model
 *   saw, row-major) and `activations`: `{ layer, shape: [h1, w1, c1], data }`, the first
 *   layer's output for this image, `h1·w1·c1` values in NHWC order.
 * - `POST /v1/predict/batch` → `{ results: [...], backend, ms }` for 1 to 64 images in a JSON
 *   body `{ "images": [...] }`; more than 64 is a 413 (`too_many_images`).
 * - `GET /` → the demo page, when one is given
 *
 * Errors are `{ error: { code, message } }` with status 400 (an empty body says "the body
 * is empty"), 404, 405 (with `Allow`), 413 (bodies over 1 MiB) or 415. Browsers may call the
 * API from other origins: `OPTIONS` preflights are answered (204) and API answers carry
 * `Access-Control-Allow-Origin` for the origins allowed (the `CORS_ORIGINS` var in
 * wrangler.toml: `*`, the default, or a comma-separated list).
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { methodNotAllowed } from "hono/method-not-allowed";
import {
  fuse,
  getBackend,
  kernelMemoryBytes,
  loadModel,
  type Model,
  softmax,
  type Tensor,
  tensor,
  useKernels,
} from "../mod.ts";
import {
  ApiError,
  checkNotEmpty,
  fromBatch,
  fromJsonImage,
  fromOctets,
  fromPng,
  type InputShape,
  MAX_BATCH,
  MAX_BODY_BYTES,
  mediaType,
  parseJson,
} from "./inputs.ts";

/** What {@linkcode createApp} needs. */
export interface AppOptions {
  /** The model file (safetensors), e.g. the bundled `models/mnist.safetensors`. */
  modelBytes: Uint8Array;
  /** Precompiled kernels; required in workerd, optional where compiling is allowed. */
  kernels?: WebAssembly.Module;
  /** The demo page's HTML for `GET /`; the route is absent without it. */
  page?: string;
  /**
   * Origins allowed to call the API from a browser: `"*"` (the default) or a
   * comma-separated list. In a Worker the `CORS_ORIGINS` var overrides it.
   */
  corsOrigins?: string;
}

/** The Worker's bindings this app reads (wrangler.toml `[vars]`). */
export interface Bindings {
  /** `"*"` or a comma-separated list of origins allowed to call the API. */
  CORS_ORIGINS?: string;
}

interface Loaded {
  model: Model;
  /** One input, `[h, w, c]`. */
  shape: InputShape;
  /** `h·w·c`. */
  size: number;
  /** Scores the model outputs per input. */
  classes: number;
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

/** The origin to allow for `origin`, given the configured `"*"` or comma-separated list. */
function allowOrigin(origin: string, configured: string): string | null {
  const list = configured.split(",").map((s) => s.trim()).filter(Boolean);
  if (list.includes("*")) return "*";
  return list.includes(origin) ? origin : null;
}

/** Builds the app. The model is parsed (and the kernels instantiated) once, on the first request. */
export function createApp(options: AppOptions): Hono<{ Bindings: Bindings }> {
  let loaded: Loaded | null = null;
  const load = (): Loaded => {
    if (loaded) return loaded;
    if (options.kernels) useKernels(options.kernels);
    // BatchNorm folded into the convolutions and ReLUs fused: the same answers, fewer passes.
    const model = fuse(loadModel(options.modelBytes));
    const s = model.inputShape, o = model.outputShape;
    // The MNIST preprocessing of PNGs makes 28×28 grey images, and answers name one class.
    if (s.length !== 3 || s[0] !== 28 || s[1] !== 28 || s[2] !== 1 || o.length !== 1) {
      throw new Error(
        `the served model must take [28, 28, 1] images and output [classes], got [${
          s.join(", ")
        }] → [${o.join(", ")}]`,
      );
    }
    const shape = [s[0], s[1], s[2]] as const;
    const acc = Number(model.metadata["heldOutAccuracy"]);
    loaded = {
      model,
      shape,
      size: s[0] * s[1] * s[2],
      classes: o[0]!,
      heldOutAccuracy: Number.isFinite(acc) ? acc : null,
    };
    return loaded;
  };

  /** Runs a batch of inputs; returns predictions and the first layer's output. */
  const infer = (inputs: Float32Array[], explain: boolean) => {
    const { model, shape, size, classes } = load();
    const x = new Float32Array(inputs.length * size);
    inputs.forEach((v, i) => x.set(v, i * size));
    const t0 = performance.now();
    const batch = tensor(x, [inputs.length, ...shape]);
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
      const p = Array.from(probs.subarray(i * classes, (i + 1) * classes), (v) => round(v));
      let digit = 0;
      for (let d = 1; d < classes; d++) if (p[d]! > p[digit]!) digit = d;
      return { digit, probabilities: p };
    });
    return { results, first, ms };
  };

  const app = new Hono<{ Bindings: Bindings }>();

  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(errorBody(err.code, err.message), err.status);
    console.error(err);
    return c.json(errorBody("internal", "the server failed to answer; this is a bug"), 500);
  });
  app.notFound((c) =>
    c.json(errorBody("not_found", `no route ${c.req.method} ${c.req.path}; see GET /v1/model`), 404)
  );
  app.use(methodNotAllowed({
    app,
    onMethodNotAllowed: (c, methods) => {
      const allow = methods.filter((m) => m !== "HEAD").join(", ");
      return c.json(
        errorBody("method_not_allowed", `use ${allow} for ${c.req.path}`),
        405,
        { Allow: allow },
      );
    },
  }));
  const api = cors({
    origin: (origin, c: Context<{ Bindings: Bindings }>) =>
      allowOrigin(origin, c.env?.CORS_ORIGINS ?? options.corsOrigins ?? "*"),
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: ["Content-Type"],
    maxAge: 86400,
  });
  app.use("/v1/*", api);
  app.use("/healthz", api);
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError(
        413,
        "payload_too_large",
        `the body exceeds ${MAX_BODY_BYTES} bytes (1 MiB), the most accepted`,
      );
    },
  });

  if (options.page) {
    const page = options.page;
    app.get("/", (c) => c.html(page));
  }

  app.get("/healthz", (c) => c.json({ ok: true }));

  app.get("/v1/model", (c) => {
    const { model, heldOutAccuracy, shape, size } = load();
    const firstConv = model.layers.find((l) => l.kind === "Conv2D");
    const kernel = firstConv?.params()[0];
    const [h, w] = shape;
    return c.json({
      name: "mnist-cnn",
      architecture: model.layerSummary(),
      input: {
        shape,
        formats: {
          "image/png": "any size up to 2048×2048, grey or colour; preprocessed MNIST-style",
          "application/octet-stream":
            `${size} bytes, 0–255, row-major ${h}×${w}, white digit on black`,
          "application/json":
            `{ "pixels": ${size} numbers or ${h} rows of ${w}, in 0..1, white digit on black }`,
        },
        maxBodyBytes: MAX_BODY_BYTES,
        maxBatch: MAX_BATCH,
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

  app.post("/v1/predict", limit, async (c) => {
    const explain = ["1", "true"].includes(c.req.query("explain") ?? "");
    const input = await readInput(c, load().shape);
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

  app.post("/v1/predict/batch", limit, async (c) => {
    const type = mediaType(c.req.raw);
    if (type !== "application/json") {
      throw new ApiError(
        415,
        "unsupported_media_type",
        `a batch must be application/json, got ${type || "no content type"}`,
      );
    }
    const bytes = checkNotEmpty(
      new Uint8Array(await c.req.arrayBuffer()),
      `{ "images": [...] } with 1 to ${MAX_BATCH} images`,
    );
    const inputs = await fromBatch(parseJson(bytes), load().shape);
    const { results, ms } = infer(inputs, false);
    return c.json({ results, backend: getBackend(), ms: round(ms, 3) });
  });

  return app;
}

/** One input from a predict request, by content type. */
async function readInput(c: Context, shape: InputShape): Promise<Float32Array> {
  const type = mediaType(c.req.raw);
  const size = shape[0] * shape[1] * shape[2];
  const send =
    `image/png, application/octet-stream (${size} bytes) or application/json ({ "pixels": [...] })`;
  if (!["image/png", "application/octet-stream", "application/json"].includes(type)) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      `send ${send}, got ${type || "no content type"}`,
    );
  }
  const bytes = checkNotEmpty(new Uint8Array(await c.req.arrayBuffer()), send);
  if (type === "image/png") return await fromPng(bytes);
  if (type === "application/octet-stream") return fromOctets(bytes, shape);
  const body = parseJson(bytes);
  if (body === null || typeof body !== "object" || !("pixels" in body)) {
    throw new ApiError(400, "bad_request", 'the JSON body must be { "pixels": [...] }');
  }
  return await fromJsonImage(body, shape, "body");
}

/**
 * The inference API as a Hono app, written once as a function of the kernels
 * and the model bytes, so that the same app runs in Cloudflare's workerd
 * (worker/index.ts) and under `Deno.serve` (worker/serve.ts).
 *
 * Routes (JSON everywhere; `h`, `w`, `c` and `classes` are the model's):
 * - `GET /healthz` → `{ ok: true }`
 * - `GET /v1/model` → architecture, input spec, parameter count, held-out accuracy, backend
 * - `POST /v1/predict` → `{ class, label, digit, probabilities, backend, ms }` for a PNG, a
 *   JPEG, `h·w·c` raw bytes or JSON pixels. With `?top=K` (1 to 100) the answer adds `top`:
 *   the K most probable classes, `[{ class, label, probability }]`, most probable first. With `?explain=1` the answer adds `input` (the `h·w·c` values the model
 *   saw, row-major) and `activations`: `{ layer, shape: [h1, w1, c1], data }`, the first
 *   layer's output for this image, `h1·w1·c1` values in NHWC order.
 * - `POST /v1/predict/batch` → `{ results: [...], backend, ms }` for 1 to 64 images in a JSON
 *   body `{ "images": [...] }`; more than 64 is a 413 (`too_many_images`).
 * - `GET /v1/model/file` → the served model file (ONNX or safetensors) as bytes
 * - `GET /` → the demo page, when one is given, and `GET /local.js`, its in-browser
 *   inference script; both cross-origin isolated (COOP/COEP) so the browser runs it threaded
 *
 * Errors are `{ error: { code, message } }` with status 400 (an empty body says "the body
 * is empty"), 404, 405 (with `Allow`), 413 (bodies over `MAX_BODY_BYTES`, 16 MiB by default) or 415. Browsers may call the
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
import { secureHeaders } from "hono/secure-headers";
import {
  getBackend,
  kernelMemoryBytes,
  kernelMemoryStats,
  softmax,
  type Tensor,
  tensor,
  useKernels,
} from "../mod.ts";
import { ConfigError, loadServed, MODEL_VAR_NAMES, type ModelVars, type Served } from "./config.ts";
import { type ModelSource, modelSource, type SourceBindings } from "./source.ts";
import {
  ApiError,
  checkNotEmpty,
  fromBatch,
  fromImage,
  fromJsonImage,
  fromOctets,
  IMAGE_TYPES,
  type InputSpec,
  MAX_BATCH,
  mediaType,
  parseJson,
} from "./inputs.ts";
import { MAX_SIDE } from "../src/image/_errors.ts";

/** What {@linkcode createApp} needs. */
export interface AppOptions {
  /**
   * The bundled model file: ONNX or safetensors (wrangler.toml's
   * `served-model` alias). The `MODEL_KEY` var with an R2 binding
   * `MODEL_BUCKET` serves a model from R2 instead (see source.ts).
   */
  modelBytes?: Uint8Array;
  /**
   * The model's configuration vars (see config.ts); in a Worker, the
   * `MODEL_*` vars of wrangler.toml override these.
   */
  vars?: ModelVars;
  /** Precompiled kernels; required in workerd, optional where compiling is allowed. */
  kernels?: WebAssembly.Module;
  /** The demo page's HTML for `GET /`; the route is absent without it. */
  page?: string;
  /**
   * The page's in-browser inference script (worker/page/local.js, the
   * library bundled) for `GET /local.js`; absent without it.
   */
  pageScript?: string;
  /**
   * Origins allowed to call the API from a browser: `"*"` (the default) or a
   * comma-separated list. In a Worker the `CORS_ORIGINS` var overrides it.
   */
  corsOrigins?: string;
}

/** The Worker's bindings this app reads (wrangler.toml `[vars]`, and an R2 bucket). */
export interface Bindings extends ModelVars, SourceBindings {
  /** `"*"` or a comma-separated list of origins allowed to call the API. */
  CORS_ORIGINS?: string;
}

interface Loaded extends Served {
  /** The model file and where it came from. */
  source: ModelSource;
  /** `h·w·c`. */
  size: number;
  heldOutAccuracy: number | null;
}

/** One image's answer. */
interface Prediction {
  /** The most likely class's index. */
  class: number;
  /** Its name (MODEL_LABELS; the index as a string by default). */
  label: string;
  /** The same index, under the name the MNIST API has always used. */
  digit: number;
  probabilities: number[];
  /** With `?top=K`: the K most probable classes. */
  top?: { class: number; label: string; probability: number }[];
}

const round = (v: number, digits = 6) => Number(v.toFixed(digits));
const mib = (bytes: number) => round(bytes / (1 << 20), 2);

/** The `top` query: undefined when absent, else an integer in 1..min(100, classes). */
function topOf(raw: string | undefined, classes: number): number | undefined {
  if (raw === undefined) return undefined;
  const k = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(k) || k < 1 || k > 100) {
    throw new ApiError(
      400,
      "bad_request",
      `top must be an integer from 1 to 100, got ${JSON.stringify(raw)}`,
    );
  }
  return Math.min(k, classes);
}

/** The `k` most probable classes, most probable first (ties: the lower index first). */
function topK(p: ArrayLike<number>, labels: readonly string[], k: number) {
  const idx = Array.from({ length: p.length }, (_, i) => i);
  idx.sort((a, b) => p[b]! - p[a]! || a - b);
  return idx.slice(0, k).map((i) => ({ class: i, label: labels[i]!, probability: round(p[i]!) }));
}

function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** The origin to allow for `origin`, given the configured `"*"` or comma-separated list. */
function allowOrigin(origin: string, configured: string): string | null {
  const list = configured.split(",").map((s) => s.trim()).filter(Boolean);
  if (list.includes("*")) return "*";
  return list.includes(origin) ? origin : null;
}

/**
 * Builds the app. The model is read (from the bundle or R2), parsed and
 * checked, and the kernels instantiated, once, on the first request that
 * needs them; concurrent first requests share the one load.
 */
export function createApp(options: AppOptions): Hono<{ Bindings: Bindings }> {
  let loaded: Loaded | null = null;
  let failed: ConfigError | null = null;
  let loading: Promise<Loaded> | null = null;
  const loadOnce = async (env?: Bindings): Promise<Loaded> => {
    // A missing R2 object is not remembered: the next request looks again (upload, then ask).
    const source = await modelSource(options.modelBytes, env);
    if (options.kernels) useKernels(options.kernels);
    const vars: ModelVars = { ...options.vars };
    for (const k of MODEL_VAR_NAMES) {
      const v = env?.[k];
      if (typeof v === "string") vars[k] = v;
    }
    try {
      const served = loadServed(
        source.bytes,
        vars,
        source.kind === "r2"
          ? `the served model (${JSON.stringify(source.key)} in MODEL_BUCKET)`
          : undefined,
      );
      const acc = Number(served.model.metadata["heldOutAccuracy"]);
      const [h, w, c] = served.shape;
      loaded = {
        ...served,
        source,
        size: h * w * c,
        heldOutAccuracy: Number.isFinite(acc) ? acc : null,
      };
      return loaded;
    } catch (e) {
      if (e instanceof ConfigError) {
        failed = e; // every later request answers the same 500 without retrying
        console.error(`convnet-wasm worker: ${e.message}`);
      }
      throw e;
    }
  };
  /** The served model, loaded and checked against its vars on the first request. */
  const load = async (env?: Bindings): Promise<Loaded> => {
    if (loaded) return loaded;
    if (failed) throw failed;
    loading ??= loadOnce(env).finally(() => {
      loading = null;
    });
    return await loading;
  };
  /** Runs a batch of inputs; returns predictions and the first layer's output. */
  const infer = (served: Loaded, inputs: Float32Array[], explain: boolean, top?: number) => {
    const { model, shape, size, classes, mean, std, labels } = served;
    const x = new Float32Array(inputs.length * size);
    inputs.forEach((v, i) => x.set(v, i * size));
    // (x − mean) / std per channel, as the model was trained (identity by default).
    const ch = shape[2];
    if (mean.some((m) => m !== 0) || std.some((d) => d !== 1)) {
      for (let k = 0; k < ch; k++) {
        const m = mean[k]!, d = std[k]!;
        for (let i = k; i < x.length; i += ch) x[i] = (x[i]! - m) / d;
      }
    }
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
    const probs = served.outputsProbabilities ? logits.data : softmax(logits).data;
    const ms = performance.now() - t0;
    const results: Prediction[] = inputs.map((_, i) => {
      const p = Array.from(probs.subarray(i * classes, (i + 1) * classes), (v) => round(v));
      let best = 0;
      for (let d = 1; d < classes; d++) if (p[d]! > p[best]!) best = d;
      const r: Prediction = { class: best, label: labels[best]!, digit: best, probabilities: p };
      if (top !== undefined) r.top = topK(p, labels, top);
      return r;
    });
    return { results, first, ms };
  };

  const app = new Hono<{ Bindings: Bindings }>();

  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(errorBody(err.code, err.message), err.status);
    if (err instanceof ConfigError) {
      return c.json(errorBody("misconfigured", `the server is misconfigured: ${err.message}`), 500);
    }
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
  /** The body limit of the served configuration (`MAX_BODY_BYTES`), checked before reading. */
  const limit = async (c: Context<{ Bindings: Bindings }>, next: () => Promise<void>) => {
    const max = (await load(c.env)).maxBodyBytes;
    return await bodyLimit({
      maxSize: max,
      onError: () => {
        throw new ApiError(
          413,
          "payload_too_large",
          `the body exceeds ${max} bytes (${mib(max)} MiB), the most accepted (MAX_BODY_BYTES)`,
        );
      },
    })(c, next);
  };

  // The page and its script are cross-origin isolated (COOP + COEP), so that a browser
  // gives the page SharedArrayBuffer and the in-browser kernels their threads.
  const isolated = secureHeaders({ crossOriginEmbedderPolicy: true });
  if (options.page) {
    const page = options.page;
    app.get("/", isolated, (c) => c.html(page));
  }
  if (options.pageScript) {
    const script = options.pageScript;
    app.get("/local.js", isolated, (c) => {
      c.header("Content-Type", "text/javascript; charset=utf-8");
      c.header("Cache-Control", "public, max-age=300");
      return c.body(script);
    });
  }
  // The served model's file, as configured (the page runs it in the browser).
  app.get("/v1/model/file", isolated, async (c) => {
    const served = await load(c.env);
    c.header("Content-Type", "application/octet-stream");
    c.header(
      "Content-Disposition",
      `attachment; filename="model.${served.format === "onnx" ? "onnx" : "safetensors"}"`,
    );
    return c.body(served.source.bytes.slice().buffer);
  });

  app.get("/healthz", (c) => c.json({ ok: true }));

  app.get("/v1/model", async (c) => {
    const served = await load(c.env);
    const { model, heldOutAccuracy, shape, size, preprocess } = served;
    const firstConv = model.layers.find((l) => l.kind === "Conv2D");
    const kernel = firstConv?.params()[0];
    const [h, w, ch] = shape;
    const how = preprocess === "mnist"
      ? "preprocessed MNIST-style (the ink found, centred in the frame)"
      : preprocess === "center-crop"
      ? `the shorter side resized to ${served.resize} (PIL bilinear), the centre ${h}×${w} cropped`
      : `resized to ${h}×${w} by area averaging`;
    return c.json({
      name: served.name,
      format: served.format,
      source: served.source.where,
      architecture: model.layerSummary(),
      input: {
        shape,
        preprocess,
        ...(preprocess === "center-crop" ? { resize: served.resize } : {}),
        jpegScaling: served.jpegScaling ? "dct" : "off",
        mean: served.mean,
        std: served.std,
        formats: {
          "image/png": `any size up to ${MAX_SIDE}×${MAX_SIDE}, grey or colour; ${how}`,
          "image/jpeg":
            `baseline or progressive, grey, colour or CMYK, up to ${MAX_SIDE}×${MAX_SIDE}, EXIF orientation applied; ${how}`,
          "application/octet-stream": `${size} bytes, 0–255, row-major ${h}×${w}${
            ch > 1 ? `×${ch}` : ""
          } (the model's input before mean/std)`,
          "application/json": `{ "pixels": ${size} numbers or ${h} rows of ${
            w * ch
          }, in 0..1 }, or { "png" | "jpeg" | "image": "<base64>" }`,
        },
        maxBodyBytes: served.maxBodyBytes,
        maxBatch: MAX_BATCH,
      },
      classes: served.classes,
      labels: served.labels,
      parameters: model.parameterCount,
      heldOutAccuracy,
      backend: getBackend(),
      kernelMemoryBytes: kernelMemoryBytes(),
      // Its parts: the weights kept packed, the prediction's values on the arena, the largest call.
      kernelMemory: kernelMemoryStats(),
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
    const served = await load(c.env);
    const top = topOf(c.req.query("top"), served.classes);
    const input = await readInput(c, served);
    const { results, first, ms } = infer(served, [input], explain, top);
    const body: Record<string, unknown> = {
      ...results[0],
      backend: getBackend(),
      ms: round(ms, 3),
    };
    if (explain && first) {
      body["input"] = Array.from(input, (v) => round(v, 4));
      body["activations"] = {
        layer: served.model.layers[0]!.name,
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
    const served = await load(c.env);
    const bytes = checkNotEmpty(
      new Uint8Array(await c.req.arrayBuffer()),
      `{ "images": [...] } with 1 to ${MAX_BATCH} images`,
    );
    const top = topOf(c.req.query("top"), served.classes);
    const inputs = await fromBatch(parseJson(bytes), served);
    const { results, ms } = infer(served, inputs, false, top);
    return c.json({ results, backend: getBackend(), ms: round(ms, 3) });
  });

  return app;
}

/** One input from a predict request, by content type. */
async function readInput(c: Context, spec: InputSpec): Promise<Float32Array> {
  const type = mediaType(c.req.raw);
  const size = spec.shape[0] * spec.shape[1] * spec.shape[2];
  const send =
    `image/png, image/jpeg, application/octet-stream (${size} bytes) or application/json ({ "pixels": [...] })`;
  if (![...IMAGE_TYPES, "application/octet-stream", "application/json"].includes(type)) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      `send ${send}, got ${type || "no content type"}`,
    );
  }
  const bytes = checkNotEmpty(new Uint8Array(await c.req.arrayBuffer()), send);
  if (type === "image/png") return await fromImage(bytes, spec, "the PNG");
  if (type === "image/jpeg") return await fromImage(bytes, spec, "the JPEG", "jpeg");
  if (type === "application/octet-stream") return fromOctets(bytes, spec.shape);
  const body = parseJson(bytes);
  if (body === null || typeof body !== "object" || !("pixels" in body)) {
    throw new ApiError(400, "bad_request", 'the JSON body must be { "pixels": [...] }');
  }
  return await fromJsonImage(body, spec, "body");
}

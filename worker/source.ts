/**
 * Where the served model's bytes come from: bundled into the Worker (the
 * `served-model` alias of wrangler.toml), or an object of an R2 bucket (the
 * `MODEL_BUCKET` binding and the `MODEL_KEY` var), read once per isolate on
 * the first request that needs the model and kept. A model in R2 keeps the
 * Worker small (Cloudflare's limit is 64 MiB compressed) and can be replaced
 * without a deploy (a new isolate reads the new object).
 *
 * @module
 */

import { ConfigError } from "./config.ts";

/** The part of an R2 bucket binding this module uses (workerd's `R2Bucket`). */
export interface ModelBucket {
  /** The object under `key`, or null when there is none. */
  get(key: string): Promise<{ size: number; arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

/** The bindings that choose the model's source. */
export interface SourceBindings {
  /** An R2 bucket (wrangler.toml `[[r2_buckets]] binding = "MODEL_BUCKET"`). */
  MODEL_BUCKET?: ModelBucket;
  /** The model's key in `MODEL_BUCKET`; unset or empty: the bundled model. */
  MODEL_KEY?: string;
}

/** The model's bytes and where they came from. */
export interface ModelSource {
  bytes: Uint8Array;
  /** `"bundled"` or `"r2"`. */
  kind: "bundled" | "r2";
  /** The object's key in `MODEL_BUCKET` (`"r2"`), trimmed. */
  key?: string;
  /** For messages and `/v1/model`: `bundled` or `r2:KEY`. */
  where: string;
}

/** The most bytes read from R2 for a model: more could not run in a 128 MB isolate anyway. */
export const MAX_MODEL_OBJECT_BYTES = 96 << 20;

/**
 * Finds the model: the object `MODEL_KEY` of `MODEL_BUCKET` when the key is
 * set, else the bundled bytes.
 *
 * @example
 * ```ts
 * import { modelSource } from "./source.ts";
 * const src = await modelSource(new Uint8Array([1, 2]), {});
 * console.log(src.kind); // "bundled"
 * ```
 *
 * @param bundled The bundled model file, if the Worker has one.
 * @param env The Worker's bindings.
 * @throws {ConfigError} `MODEL_KEY` is set without the binding, the object is missing, empty or
 *   larger than {@linkcode MAX_MODEL_OBJECT_BYTES}, or there is no model at all.
 */
export async function modelSource(
  bundled: Uint8Array | undefined,
  env: SourceBindings | undefined,
): Promise<ModelSource> {
  const key = typeof env?.MODEL_KEY === "string" ? env.MODEL_KEY.trim() : "";
  if (!key) {
    if (!bundled) {
      throw new ConfigError(
        "no model: bundle one (the served-model alias) or set MODEL_KEY with an R2 binding MODEL_BUCKET",
      );
    }
    return { bytes: bundled, kind: "bundled", where: "bundled" };
  }
  const bucket = env?.MODEL_BUCKET;
  if (!bucket || typeof bucket.get !== "function") {
    throw new ConfigError(
      `MODEL_KEY is ${
        JSON.stringify(key)
      } but the Worker has no R2 binding MODEL_BUCKET (add [[r2_buckets]] binding = "MODEL_BUCKET" to wrangler.toml)`,
    );
  }
  const object = await bucket.get(key);
  if (!object) {
    throw new ConfigError(`MODEL_KEY ${JSON.stringify(key)} is not in the MODEL_BUCKET bucket`);
  }
  if (object.size === 0) {
    throw new ConfigError(`the object ${JSON.stringify(key)} of MODEL_BUCKET is empty`);
  }
  if (object.size > MAX_MODEL_OBJECT_BYTES) {
    throw new ConfigError(
      `the object ${JSON.stringify(key)} of MODEL_BUCKET is ${object.size} bytes; at most ${
        MAX_MODEL_OBJECT_BYTES >> 20
      } MiB fits an isolate's memory`,
    );
  }
  return {
    bytes: new Uint8Array(await object.arrayBuffer()),
    kind: "r2",
    key,
    where: `r2:${key}`,
  };
}

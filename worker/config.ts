/**
 * What the Worker serves, as configuration: the model file (bundled through
 * wrangler.toml's `[alias]` `served-model`; ONNX or this library's
 * safetensors, told apart by their bytes) and `[vars]`:
 *
 * - `MODEL_PREPROCESS`: `"mnist"` (find the ink, centre it as MNIST does; the
 *   default), `"resize"` (fit the image to the input by area averaging) or
 *   `"center-crop"` (torchvision's ImageNet evaluation: the shorter side
 *   resized to `MODEL_RESIZE` by PIL's antialiased bilinear filter, then the
 *   centre cropped to the input size).
 * - `MODEL_RESIZE`: the shorter side before the crop (default the input side
 *   × 256/224, 256 for a 224 input: `Resize(256)` + `CenterCrop(224)`).
 * - `MODEL_LABELS`: class names: a JSON array, one per line, or
 *   comma-separated (default the class indices). ImageNet's names contain
 *   commas: give those as a JSON array or one per line.
 * - `MODEL_JPEG_SCALING`: `"dct"` (the default: a JPEG larger than the
 *   preprocessing needs is decoded at 1/2, 1/4 or 1/8 in the DCT domain, as
 *   PIL's `draft()` does; fast, inputs slightly different from a full
 *   decode) or `"off"` (every JPEG decoded in full: torchvision's exact
 *   input, several times slower on large photos).
 * - `MAX_BODY_BYTES`: the largest request body accepted (default 16 MiB; a
 *   12 MP phone JPEG is 3–6 MB).
 * - `MODEL_MEAN`, `MODEL_STD`: per-channel normalisation of inputs in 0..1,
 *   `(x − mean) / std`, as torchvision's `Normalize` (one number for every
 *   channel, or one per channel; default 0 and 1).
 * - `MODEL_NAME`: a name for `/v1/model` (default from the file).
 *
 * Every value is checked once, at the first request, against the model;
 * a mistake is a 500 whose message names the variable.
 *
 * @module
 */

import { fuse, loadModel, loadOnnx, type Model } from "../mod.ts";

/** The `[vars]` this module reads. */
export interface ModelVars {
  /** `"mnist"`, `"resize"` or `"center-crop"`. */
  MODEL_PREPROCESS?: string;
  /** The shorter side before a centre crop. */
  MODEL_RESIZE?: string;
  /** The largest request body, in bytes. */
  MAX_BODY_BYTES?: string;
  /** `"dct"` or `"off"`. */
  MODEL_JPEG_SCALING?: string;
  /** Class names. */
  MODEL_LABELS?: string;
  /** Per-channel means. */
  MODEL_MEAN?: string;
  /** Per-channel standard deviations. */
  MODEL_STD?: string;
  /** A name for `/v1/model`. */
  MODEL_NAME?: string;
}

/**
 * Every var {@linkcode loadServed} reads, by name: a Worker's env and
 * `deno task serve`'s environment override the configured values of these.
 *
 * @example
 * ```ts
 * import { MODEL_VAR_NAMES } from "./config.ts";
 * console.log(MODEL_VAR_NAMES.includes("MODEL_RESIZE")); // true
 * ```
 */
export const MODEL_VAR_NAMES = [
  "MODEL_PREPROCESS",
  "MODEL_RESIZE",
  "MAX_BODY_BYTES",
  "MODEL_JPEG_SCALING",
  "MODEL_LABELS",
  "MODEL_MEAN",
  "MODEL_STD",
  "MODEL_NAME",
] as const satisfies readonly (keyof ModelVars)[];

/** A served model and how inputs reach it. */
export interface Served {
  model: Model;
  /** `"onnx"` or `"safetensors"`. */
  format: "onnx" | "safetensors";
  name: string;
  preprocess: "mnist" | "resize" | "center-crop";
  /** The shorter side before the crop (`"center-crop"`). */
  resize: number;
  /** The largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Whether JPEGs decode at reduced size in the DCT domain (`MODEL_JPEG_SCALING`). */
  jpegScaling: boolean;
  /** `[h, w, c]`. */
  shape: readonly [number, number, number];
  classes: number;
  labels: readonly string[];
  mean: readonly number[];
  std: readonly number[];
  /** Whether the model ends in a softmax (its outputs are probabilities already). */
  outputsProbabilities: boolean;
}

/** A configuration mistake (the server answers 500 naming it). */
export class ConfigError extends Error {
  /** @param message What is wrong and which variable to change. */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** The default largest request body: 16 MiB. */
export const DEFAULT_MAX_BODY = 16 << 20;

/** A positive integer var, or `fallback` when it is unset or blank. */
function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const v = Number(raw.trim());
  if (!Number.isInteger(v) || v < 1) {
    throw new ConfigError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return v;
}

/** Whether `bytes` look like a safetensors file (an 8-byte length, then a JSON object). */
function isSafetensors(bytes: Uint8Array): boolean {
  return bytes.length > 9 && bytes[8] === 0x7b;
}

function numbers(name: string, raw: string, count: number): number[] {
  const text = raw.trim();
  let list: unknown[];
  try {
    list = text.startsWith("[") ? JSON.parse(text) : text.split(",").map((s) => Number(s.trim()));
  } catch {
    throw new ConfigError(
      `${name} must be numbers, comma-separated or a JSON array, got ${JSON.stringify(raw)}`,
    );
  }
  if (!Array.isArray(list) || list.some((v) => typeof v !== "number" || !Number.isFinite(v))) {
    throw new ConfigError(`${name} must be finite numbers, got ${JSON.stringify(raw)}`);
  }
  if (list.length !== 1 && list.length !== count) {
    throw new ConfigError(
      `${name} must hold 1 number or ${count} (one per input channel), got ${list.length}`,
    );
  }
  return list.length === 1 ? new Array(count).fill(list[0]) : list as number[];
}

function labelsOf(raw: string, classes: number): string[] {
  const text = raw.trim();
  let list: unknown;
  try {
    list = text.startsWith("[")
      ? JSON.parse(text)
      : text.split(text.includes("\n") ? "\n" : ",").map((s) => s.trim()).filter((s, i, all) =>
        s !== "" || i < all.length - 1
      );
  } catch {
    throw new ConfigError(
      `MODEL_LABELS must be a JSON array of strings, one name per line, or comma-separated names`,
    );
  }
  if (!Array.isArray(list) || list.some((v) => typeof v !== "string" || v === "")) {
    throw new ConfigError(`MODEL_LABELS must be non-empty strings, got ${JSON.stringify(raw)}`);
  }
  if (list.length !== classes) {
    throw new ConfigError(
      `MODEL_LABELS has ${list.length} names; the model outputs ${classes} classes`,
    );
  }
  return list as string[];
}

/**
 * Loads the model bytes (ONNX or safetensors) and checks the vars against it.
 *
 * @param bytes The model file.
 * @param vars The configuration.
 * @param source Where the bytes came from, for the error when they do not load.
 *
 * @throws {ConfigError} A var is malformed or does not fit the model, or the model cannot be served.
 */
export function loadServed(
  bytes: Uint8Array,
  vars: ModelVars = {},
  source = "the served model (served-model in wrangler.toml)",
): Served {
  const format = isSafetensors(bytes) ? "safetensors" : "onnx";
  let model: Model;
  try {
    // BatchNorm folded and ReLUs fused (loadOnnx does it as it loads).
    model = format === "safetensors" ? fuse(loadModel(bytes)) : loadOnnx(bytes);
  } catch (e) {
    throw new ConfigError(
      `${source} does not load: ${e instanceof Error ? e.message : e}`,
    );
  }
  const s = model.inputShape, o = model.outputShape;
  if (s.length !== 3 || o.length !== 1) {
    throw new ConfigError(
      `the served model must take [h, w, c] images and output [classes], got [${s.join(", ")}] → [${
        o.join(", ")
      }]`,
    );
  }
  const shape = [s[0]!, s[1]!, s[2]!] as const, classes = o[0]!;
  const preprocess = (vars.MODEL_PREPROCESS ?? "").trim() || "mnist";
  if (preprocess !== "mnist" && preprocess !== "resize" && preprocess !== "center-crop") {
    throw new ConfigError(
      `MODEL_PREPROCESS must be "mnist", "resize" or "center-crop", got ${
        JSON.stringify(vars.MODEL_PREPROCESS)
      }`,
    );
  }
  if (preprocess === "mnist" && (shape[2] !== 1 || shape[0] !== shape[1])) {
    throw new ConfigError(
      `MODEL_PREPROCESS "mnist" needs a square grey input [s, s, 1]; the model takes [${
        shape.join(", ")
      }] (use "resize")`,
    );
  }
  if (shape[2] !== 1 && shape[2] !== 3) {
    throw new ConfigError(
      `the served model must take 1 (grey) or 3 (RGB) channels, got ${shape[2]}`,
    );
  }
  const mean = vars.MODEL_MEAN?.trim()
    ? numbers("MODEL_MEAN", vars.MODEL_MEAN, shape[2])
    : new Array(shape[2]).fill(0);
  const std = vars.MODEL_STD?.trim()
    ? numbers("MODEL_STD", vars.MODEL_STD, shape[2])
    : new Array(shape[2]).fill(1);
  if (std.some((v) => !(v > 0))) {
    throw new ConfigError(`MODEL_STD must be positive, got ${JSON.stringify(vars.MODEL_STD)}`);
  }
  const resize = positiveInt(
    "MODEL_RESIZE",
    vars.MODEL_RESIZE,
    Math.round((Math.max(shape[0], shape[1]) * 256) / 224),
  );
  if (resize < Math.max(shape[0], shape[1]) && preprocess === "center-crop") {
    throw new ConfigError(
      `MODEL_RESIZE must be at least the input's side (${
        Math.max(shape[0], shape[1])
      }) to crop it, got ${resize}`,
    );
  }
  const maxBodyBytes = positiveInt("MAX_BODY_BYTES", vars.MAX_BODY_BYTES, DEFAULT_MAX_BODY);
  const scalingVar = (vars.MODEL_JPEG_SCALING ?? "").trim() || "dct";
  if (scalingVar !== "dct" && scalingVar !== "off") {
    throw new ConfigError(
      `MODEL_JPEG_SCALING must be "dct" or "off", got ${JSON.stringify(vars.MODEL_JPEG_SCALING)}`,
    );
  }
  const labels = vars.MODEL_LABELS?.trim()
    ? labelsOf(vars.MODEL_LABELS, classes)
    : Array.from({ length: classes }, (_, i) => String(i));
  const name = vars.MODEL_NAME?.trim() || model.metadata["name"] ||
    (format === "onnx" ? "onnx-model" : "mnist-cnn");
  const last = model.layerSummary().at(-1);
  return {
    model,
    format,
    name,
    preprocess,
    resize,
    maxBodyBytes,
    jpegScaling: scalingVar === "dct",
    shape,
    classes,
    labels,
    mean,
    std,
    outputsProbabilities: last?.kind === "Softmax",
  };
}

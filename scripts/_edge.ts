/**
 * The edge set-up shared by bench/edge.ts and tests/edge_test.ts: phone-photo
 * stand-ins with torchvision's reference tensors (`scripts/edge_photos.py`,
 * cached), and a wrangler config that serves torchvision's MobileNetV2
 * export (`EDGE_MODEL`) the way the README's "Serve another model" does
 * (`center-crop`, ImageNet's mean, std and 1,000 labels).
 *
 * @module
 */

import { exportZoo, PYTHON, ZOO_CACHE } from "./_zoo.ts";

const root = new URL("../", import.meta.url);

/** Where the photos live: `CONVNET_EDGE_CACHE`, else `.cache/edge` in the checkout. */
export const EDGE_CACHE: string = Deno.env.get("CONVNET_EDGE_CACHE") ??
  new URL(".cache/edge", root).pathname;

/**
 * torchvision's MobileNetV2 with BatchNorm statistics measured on other
 * scenes (scripts/edge_photos.py), so that its answers depend on the photo.
 */
export const EDGE_MODEL: string = `${EDGE_CACHE}/mobilenet_v2.onnx`;

/** One photo of the set (manifest.json). */
export interface EdgePhoto {
  /** `SIZE-I`: the file is `NAME.jpg`, the reference `NAME.ref.f32`. */
  name: string;
  /** `"2mp"`, `"fhd"` or `"12mp"`. */
  size: string;
  /** Upright width and height. */
  width: number;
  height: number;
  /** File size in bytes. */
  bytes: number;
  /** The EXIF orientation (1: none). */
  orientation: number;
  progressive: boolean;
}

/** The photos, generated with PyTorch and Pillow when missing (a few seconds). */
export async function edgePhotos(): Promise<EdgePhoto[]> {
  const manifest = `${EDGE_CACHE}/manifest.json`;
  try {
    const m = JSON.parse(await Deno.readTextFile(manifest)) as EdgePhoto[];
    await Deno.stat(EDGE_MODEL);
    if (m.length && m[0]!.orientation !== undefined) return m;
  } catch { /* not generated yet */ }
  const out = await new Deno.Command(PYTHON, {
    args: [new URL("scripts/edge_photos.py", root).pathname, EDGE_CACHE],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`scripts/edge_photos.py failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(await Deno.readTextFile(manifest));
}

/** Whether Debian's Python has PyTorch, torchvision and Pillow (what the photos need). */
export async function haveTorchvision(): Promise<boolean> {
  try {
    const out = await new Deno.Command(PYTHON, {
      args: ["-c", "import torch, torchvision, PIL"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

/**
 * Writes `EDGE_CACHE/wrangler.toml`, serving `EDGE_MODEL` (or a classifier of
 * the zoo, exported when missing) with ImageNet's preprocessing, and returns
 * its path.
 *
 * @param zoo A torchvision classifier of the zoo to serve instead (seeded random weights).
 */
export async function writeEdgeConfig(zoo?: string): Promise<string> {
  await edgePhotos();
  if (zoo) await exportZoo([zoo]);
  const file = zoo ? `${ZOO_CACHE}/${zoo}.onnx` : EDGE_MODEL, model = zoo ?? "mobilenet_v2";
  const labels = await Deno.readTextFile(`${EDGE_CACHE}/imagenet_labels.json`);
  const rel = (p: string) => {
    const a = p.split("/").filter(Boolean), b = EDGE_CACHE.split("/").filter(Boolean);
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return [...b.slice(i).map(() => ".."), ...a.slice(i)].join("/");
  };
  await Deno.writeTextFile(
    `${EDGE_CACHE}/serve-model.ts`,
    `export { default } from "./${rel(file)}";\n`,
  );
  const config = `${EDGE_CACHE}/wrangler.toml`;
  await Deno.writeTextFile(
    config,
    [
      `# Written by scripts/_edge.ts: ${model} (torchvision export) with ImageNet's preprocessing.`,
      `name = "convnet-wasm-edge"`,
      `main = "${rel(new URL("worker/index.ts", root).pathname)}"`,
      `compatibility_date = "2025-09-01"`,
      ``,
      `[alias]`,
      `"served-model" = "./serve-model.ts"`,
      ``,
      `[[rules]]`,
      `type = "Data"`,
      `globs = ["**/*.safetensors", "**/*.onnx"]`,
      `fallthrough = false`,
      ``,
      `[[rules]]`,
      `type = "Text"`,
      `globs = ["**/*.html", "**/page/local.js"]`,
      `fallthrough = false`,
      ``,
      `[vars]`,
      `MODEL_PREPROCESS = "center-crop"`,
      `MODEL_MEAN = "0.485,0.456,0.406"`,
      `MODEL_STD = "0.229,0.224,0.225"`,
      `MODEL_NAME = "${model}"`,
      `MODEL_LABELS = ${JSON.stringify(JSON.stringify(JSON.parse(labels)))}`,
      ``,
    ].join("\n"),
  );
  return config;
}

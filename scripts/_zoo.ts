/**
 * The torchvision zoo shared by tests/zoo_test.ts and bench/zoo.ts: the
 * names `scripts/zoo_fixtures.py` exports, the cache folder, and the export
 * of whatever is missing there.
 *
 * @module
 */

/** torchvision 0.14's architectures, in scripts/zoo_fixtures.py's order. */
export const ZOO_ARCHITECTURES: readonly string[] = [
  "resnet18",
  "resnet50",
  "mobilenet_v2",
  "mobilenet_v3_small",
  "mobilenet_v3_large",
  "efficientnet_b0",
  "regnet_y_400mf",
  "mnasnet0_5",
  "shufflenet_v2_x0_5",
  "squeezenet1_1",
  "densenet121",
  "googlenet",
  "alexnet",
  "vgg11_bn",
  "convnext_tiny",
  "lraspp_mobilenet_v3_large",
  "deeplabv3_mobilenet_v3_large",
  "fcn_resnet50",
];

/** The small nets, one per interpolation mode (too small to time). */
export const ZOO_INTERPOLATION: readonly string[] = [
  "up_nearest",
  "up_nearest_size",
  "up_bilinear",
  "up_bilinear_ac",
  "up_bilinear_size",
];

const root = new URL("../", import.meta.url);

/** Debian's Python, which has PyTorch (not a pyenv one). */
export const PYTHON = "/usr/bin/python3";

/** Where the exports live: `CONVNET_ZOO_CACHE`, else `.cache/zoo` in the checkout. */
export const ZOO_CACHE: string = Deno.env.get("CONVNET_ZOO_CACHE") ??
  new URL(".cache/zoo", root).pathname;

/** Exports, with PyTorch, every one of `names` missing from the cache (about a minute for all). */
export async function exportZoo(names: readonly string[]): Promise<void> {
  const missing = names.filter((n) => {
    try {
      Deno.statSync(`${ZOO_CACHE}/${n}.json`);
      return false;
    } catch {
      return true;
    }
  });
  if (!missing.length) return;
  const out = await new Deno.Command(PYTHON, {
    args: [new URL("scripts/zoo_fixtures.py", root).pathname, ZOO_CACHE, ...missing],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`zoo_fixtures.py failed: ${new TextDecoder().decode(out.stderr).slice(-3000)}`);
  }
}

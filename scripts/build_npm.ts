/**
 * `deno task build:npm [--out DIR]`: writes the npm package `@convnet/wasm`
 * to `dist/npm/` (or DIR). The TypeScript sources are compiled by the
 * `typescript` npm package (`scripts/tsconfig.npm.json`, with the same strict
 * settings as `deno.json`) into ES2022 JavaScript and `.d.ts` files; the
 * WebAssembly stays embedded in the JavaScript, and the two `.wasm` files are
 * shipped too for bundlers that import them (Cloudflare Workers). The
 * `package.json` maps every export of `deno.json` to its `.js` and `.d.ts`.
 *
 * @module
 */

import { parseArgs } from "node:util";

const root = new URL("../", import.meta.url);
const { values } = parseArgs({
  args: Deno.args,
  options: { out: { type: "string", default: "dist/npm" } },
});
const out = new URL(
  values.out.endsWith("/") ? values.out : values.out + "/",
  new URL(`file://${Deno.cwd()}/`),
);

const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
await Deno.remove(out, { recursive: true }).catch(() => {});
await Deno.mkdir(out, { recursive: true });

const tsc = new URL("node_modules/typescript/bin/tsc", root).pathname;
const compiled = await new Deno.Command("node", {
  args: [tsc, "-p", new URL("scripts/tsconfig.npm.json", root).pathname, "--outDir", out.pathname],
  cwd: root,
  stdout: "inherit",
  stderr: "inherit",
}).output();
if (!compiled.success) {
  console.error(
    "build:npm: tsc failed (run `deno install` first if node_modules/typescript is missing)",
  );
  Deno.exit(1);
}

const toJs = (p: string) => p.replace(/\.ts$/, ".js");
const toDts = (p: string) => p.replace(/\.ts$/, ".d.ts");
const exportsMap: Record<string, unknown> = {};
for (const [name, path] of Object.entries(config.exports as Record<string, string>)) {
  exportsMap[name] = { types: toDts(path), default: toJs(path) };
}
for (const wasm of ["kernels-relaxed-simd.wasm", "kernels-simd.wasm"]) {
  await Deno.mkdir(new URL("src/wasm/", out), { recursive: true });
  await Deno.copyFile(new URL(`src/wasm/${wasm}`, root), new URL(`src/wasm/${wasm}`, out));
  exportsMap[`./${wasm}`] = `./src/wasm/${wasm}`;
}
exportsMap["./package.json"] = "./package.json";
for (const f of ["README.md", "LICENSE"]) await Deno.copyFile(new URL(f, root), new URL(f, out));

const pkg = {
  name: config.name,
  version: config.version,
  description:
    "Convolutional-network layers on Float32Array with WebAssembly SIMD kernels: train, save and serve CNNs in Deno, Node, browsers and Cloudflare Workers. No dependencies.",
  license: config.license,
  type: "module",
  main: "./mod.js",
  types: "./mod.d.ts",
  exports: exportsMap,
  sideEffects: false,
  engines: { node: ">=18" },
  keywords: [
    "cnn",
    "convolution",
    "neural-network",
    "webassembly",
    "simd",
    "deno",
    "cloudflare-workers",
  ],
  files: ["**/*.js", "**/*.d.ts", "src/wasm/*.wasm", "README.md", "LICENSE"],
};
await Deno.writeTextFile(new URL("package.json", out), JSON.stringify(pkg, null, 2) + "\n");
console.log(`build:npm: wrote ${out.pathname} (${config.name}@${config.version})`);

/**
 * `deno task build:worker` prints the bundle's size against Cloudflare's
 * 64 MiB limit and fails past it.
 */
import assert from "node:assert/strict";
import { bundleReport, bundleSize, WORKER_LIMIT_BYTES } from "../scripts/build_worker.ts";

Deno.test("bundleReport: within the limit is ok; past it is an error that points to R2", () => {
  const size = {
    raw: 900,
    gzip: 500,
    files: [{ name: "index.js", raw: 900, gzip: 500 }],
  };
  const fits = bundleReport(size, 1000);
  assert.equal(fits.ok, true);
  assert.match(fits.text, /index\.js/);
  assert.match(fits.text, /50\.0%/);
  const past = bundleReport(size, 499);
  assert.equal(past.ok, false);
  assert.match(past.text, /past the .* limit; serve the model from R2/);
  assert.equal(WORKER_LIMIT_BYTES, 64 * 1024 * 1024);
});

Deno.test("bundleSize counts gzip sizes and leaves out source maps", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/index.js`, new Uint8Array(10_000)); // zeros: gzip is tiny
    await Deno.writeFile(`${dir}/index.js.map`, new Uint8Array(50_000));
    const s = await bundleSize(dir);
    assert.equal(s.raw, 10_000);
    assert.deepEqual(s.files.map((f) => f.name), ["index.js"]);
    assert.ok(s.gzip > 0 && s.gzip < 200, `${s.gzip}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task build:worker builds the bundle and prints its size against the limit", async () => {
  const root = new URL("../", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "build:worker"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, text + new TextDecoder().decode(out.stderr));
  assert.match(text, /bundle: [\d.]+ MiB, [\d.]+ MiB gzip of Cloudflare's 64\.00 MiB limit/);
  assert.match(text, /mnist\.safetensors/);
});

/**
 * `deno task serve` from a fresh clone answers /healthz (it once crashed
 * there: the alias module's comment quoted an import and was taken for it).
 */
import assert from "node:assert/strict";
import { reexportedDefault } from "../worker/_alias.ts";

const root = new URL("../", import.meta.url);

Deno.test("the served-model module's re-export is found past comments that quote imports", async () => {
  const real = await Deno.readTextFile(new URL("models/serve-mnist.ts", root));
  assert.equal(reexportedDefault(real, "serve-mnist.ts"), "./mnist.safetensors");
  const tricky = `// not this: export { default } from "./wrong.onnx";
/* nor this: from "./also-wrong.onnx" */
export { default } from './right.onnx'; // trailing comment from "./x"`;
  assert.equal(reexportedDefault(tricky, "m.ts"), "./right.onnx");
  assert.throws(
    () => reexportedDefault("// export { default } from './a.onnx';", "m.ts"),
    /found 0/,
  );
  assert.throws(
    () =>
      reexportedDefault("export { default } from './a';\nexport { default } from './b';", "m.ts"),
    /found 2/,
  );
});

Deno.test("deno task serve, run from a fresh clone of the committed tree, answers GET /healthz", async () => {
  const dir = await Deno.makeTempDir({ prefix: "convnet-serve-" });
  try {
    const clone = await new Deno.Command("git", {
      args: ["clone", "-q", "--depth", "1", `file://${root.pathname}`, dir],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(clone.code, 0, new TextDecoder().decode(clone.stderr));
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "serve"],
      cwd: dir,
      env: { PORT: String(port), NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let body: unknown = null, lastError = "";
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`);
        body = await r.json();
        break;
      } catch (e) {
        lastError = String(e);
        await new Promise((res) => setTimeout(res, 250));
      }
    }
    child.kill("SIGTERM");
    const out = await child.output();
    assert.deepEqual(
      body,
      { ok: true },
      `no answer (${lastError}); stderr: ${new TextDecoder().decode(out.stderr).slice(-2000)}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Settings the runtime must honour without being asked twice: an explicit
 * backend survives `initKernels()`, and threads start inside a synchronous
 * loop (each in a fresh process, so no earlier test has warmed them up).
 */
import assert from "node:assert/strict";

async function runScript(name: string, ...args: string[]): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(`./scripts/${name}`, import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, `${name} failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(text.trim().split("\n").at(-1)!);
}

Deno.test("await initKernels() keeps an explicit setBackend(), for js and for wasm-simd", async () => {
  for (const name of ["js", "wasm-simd"]) {
    const r = await runScript("init_keeps_choice.ts", name);
    assert.deepEqual(r, { returned: name, active: name });
  }
});

Deno.test({
  name: "setThreads(2) and a synchronous predict loop (no await): the workers take tasks",
  ignore: navigator.hardwareConcurrency < 2,
  fn: async () => {
    const r = await runScript("sync_threads.ts");
    assert.equal(r["threads"], 2);
    assert.ok((r["workers"] as number) >= 1, `no worker up: ${JSON.stringify(r)}`);
    assert.ok((r["workerTasks"] as number) > 0, `workers took no task: ${JSON.stringify(r)}`);
  },
});

Deno.test("getThreads reports what is used: 1 on the js backend, the setting on threaded wasm", async () => {
  const { getThreads, setBackend, setThreads, getBackend } = await import("../mod.ts");
  const before = getBackend(), n = getThreads();
  try {
    setThreads(2);
    setBackend("js");
    assert.equal(getThreads(), 1);
    setBackend("wasm-simd");
    assert.equal(getThreads(), 2);
  } finally {
    setBackend(before);
    setThreads(n);
  }
});

/** Backend selection, the precompiled-module path Workers need, and the memory ceiling. */
import assert from "node:assert/strict";
import {
  availableBackends,
  convBackward,
  convForward,
  getBackend,
  getMemoryLimit,
  initKernels,
  kernelMemoryBytes,
  KernelMemoryError,
  poolBackward,
  poolForward,
  setBackend,
  setMemoryLimit,
  tensor,
  useKernels,
} from "../mod.ts";
import { randArray, rng } from "./_helpers.ts";

const WASM = availableBackends().filter((b) => b !== "js");

Deno.test("Deno gets both WebAssembly builds and picks relaxed SIMD by default", () => {
  assert.deepEqual(availableBackends(), ["wasm-relaxed-simd", "wasm-simd", "js"]);
  assert.equal(getBackend(), "wasm-relaxed-simd");
});

Deno.test("setBackend rejects unknown names", () => {
  assert.throws(() => setBackend("gpu" as never), /setBackend: name must be one of .*got "gpu"/);
  assert.equal(getBackend(), "wasm-relaxed-simd");
});

Deno.test("useKernels accepts a precompiled module and rejects anything else", async () => {
  const before = getBackend();
  try {
    const bytes = await Deno.readFile(new URL("../src/wasm/kernels-simd.wasm", import.meta.url));
    assert.equal(useKernels(new WebAssembly.Module(bytes)), "wasm-simd");
    assert.equal(getBackend(), "wasm-simd");
    assert.throws(() => useKernels(bytes as unknown as WebAssembly.Module), TypeError);
    // A valid module that is not ours: an empty module.
    const empty = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    assert.throws(() => useKernels(empty), /useKernels: module must be this library's kernels/);
  } finally {
    setBackend(before);
  }
});

Deno.test("where compiling WebAssembly is forbidden (as in workerd) the error says what to do", async () => {
  const script = new URL("./fixtures/no_codegen.ts", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", script.pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const steps = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l));
  const [forgot, available, use] = steps;
  assert.equal(forgot.ok, false);
  assert.equal(forgot.name, "KernelLoadError");
  assert.match(forgot.message, /disallowed by embedder/);
  assert.match(forgot.message, /import kernels from ".*\.wasm"/);
  assert.match(forgot.message, /useKernels\(kernels\)/);
  assert.deepEqual(available.backends, ["js"]);
  assert.equal(use.backend, "wasm-relaxed-simd");
  assert.equal(use.value, 9);
});

for (const be of WASM) {
  Deno.test(`[${be}] memory does not grow over 10,000 repeated calls of one shape`, async () => {
    const before = getBackend();
    setBackend(be);
    // Workers now come up inside synchronous calls; let them all start first, so that no call
    // moves to the threaded instance (and grows its memory once) in the middle of the count.
    await initKernels();
    try {
      const r = rng(3);
      const x = tensor(randArray(r, 2 * 9 * 9 * 3), [2, 9, 9, 3]);
      const w = tensor(randArray(r, 3 * 3 * 3 * 5), [3, 3, 3, 5]);
      const b = randArray(r, 5);
      const step = () => {
        const { z, cache } = convForward(x, w, b, { stride: 1, pad: 1 });
        convBackward(z, cache);
        const p = poolForward(z, { f: 2, stride: 2 });
        poolBackward(p.a, p.cache);
      };
      step();
      const held = kernelMemoryBytes();
      assert.ok(held > 0);
      for (let i = 0; i < 2500; i++) step(); // 4 kernel calls each: 10,000 calls
      assert.equal(kernelMemoryBytes(), held);
    } finally {
      setBackend(before);
    }
  });

  Deno.test(`[${be}] a call over the memory ceiling throws KernelMemoryError and changes nothing`, () => {
    const before = getBackend();
    const limit = getMemoryLimit();
    setBackend(be);
    try {
      const held = kernelMemoryBytes();
      setMemoryLimit(held + 2 ** 20);
      // 64 MiB of input alone: far above what any earlier test needed.
      const big = tensor(new Float32Array(16 * 2 ** 20), [16, 1024, 1024, 1]);
      assert.throws(() => poolForward(big, { f: 2, stride: 2 }), (e: unknown) => {
        assert.ok(e instanceof KernelMemoryError && e instanceof RangeError);
        assert.match(
          e.message,
          /^poolForward: needs \d+\.\d MiB of WebAssembly memory, more than the limit/,
        );
        assert.match(e.message, /setMemoryLimit/);
        return true;
      });
      assert.equal(kernelMemoryBytes(), held);
      // Still usable.
      const small = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
      assert.deepEqual([...poolForward(small, { f: 2, stride: 2 }).a.data], [4]);
    } finally {
      setMemoryLimit(limit);
      setBackend(before);
    }
  });
}

Deno.test("setMemoryLimit validates its argument", () => {
  assert.throws(() => setMemoryLimit(0), RangeError);
  assert.throws(() => setMemoryLimit(1.5), RangeError);
  assert.throws(
    () => setMemoryLimit(2 ** 32),
    /setMemoryLimit: bytes must be an integer from 1 to 2\^31/,
  );
});

/**
 * Memory and determinism: the app's WebAssembly memory stays flat over
 * 10,000 sequential predictions; the same input gives bit-identical output
 * across calls and across a restart; the relaxed and plain SIMD builds agree
 * within the documented tolerance.
 */
import assert from "node:assert/strict";
import { kernelMemoryBytes, loadModel, setBackend, softmax, tensor } from "../mod.ts";
import { loadMnist } from "../train/mnist.ts";
import { createApp } from "../worker/app.ts";

const MODEL = new URL("../models/mnist.safetensors", import.meta.url);

/** The documented tolerance between the relaxed (fused multiply-add) and plain SIMD builds. */
const BUILD_TOLERANCE = { logitsRelative: 1e-5, probabilitiesAbsolute: 1e-5 };

Deno.test("10,000 sequential predictions in one app: WebAssembly memory does not grow after warm-up", async () => {
  const app = createApp({ modelBytes: await Deno.readFile(MODEL) });
  const { heldOut } = await loadMnist();
  const bodies = Array.from(
    { length: 50 },
    (_, i) =>
      Uint8Array.from(heldOut.x.subarray(i * 784, i * 784 + 784), (v) => Math.round(v * 255)),
  );
  const predict = async (i: number) => {
    const res = await app.request("/v1/predict", {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: bodies[i % bodies.length]!,
    });
    assert.equal(res.status, 200);
    return (await res.json()).digit as number;
  };
  const first = [];
  for (let i = 0; i < 50; i++) first.push(await predict(i));
  const warm = kernelMemoryBytes();
  for (let i = 50; i < 10_000; i++) {
    const d = await predict(i);
    if (d !== first[i % 50]) assert.fail(`prediction ${i} changed from ${first[i % 50]} to ${d}`);
  }
  assert.equal(kernelMemoryBytes(), warm);
});

Deno.test("the same input gives bit-identical output across calls and across a restart", async () => {
  const run = async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./fixtures/predict_bits.ts", import.meta.url).pathname,
        "wasm-relaxed-simd",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).trim();
  };
  const a = await run(), b = await run();
  assert.equal(a.split(",").length, 160);
  assert.equal(a, b);
  // And in this process, call after call.
  const model = loadModel(await Deno.readFile(MODEL));
  const { heldOut } = await loadMnist();
  const x = tensor(heldOut.x.subarray(0, 16 * 784), [16, 28, 28, 1]);
  setBackend("wasm-relaxed-simd");
  const bits = (t: Float32Array) =>
    Array.from(new Uint32Array(t.buffer, t.byteOffset, t.length), (u) => u.toString(16)).join(",");
  const once = bits(model.predict(x).data);
  for (let i = 0; i < 20; i++) assert.equal(bits(model.predict(x).data), once);
  assert.equal(once, a);
});

Deno.test("relaxed and plain SIMD builds agree within the documented tolerance", async () => {
  const model = loadModel(await Deno.readFile(MODEL));
  const { heldOut } = await loadMnist();
  const x = tensor(heldOut.x, [heldOut.n, 28, 28, 1]);
  try {
    setBackend("wasm-relaxed-simd");
    const relaxed = model.predict(x);
    setBackend("wasm-simd");
    const plain = model.predict(x);
    let scale = 0, diff = 0, pdiff = 0;
    for (let i = 0; i < relaxed.data.length; i++) {
      scale = Math.max(scale, Math.abs(plain.data[i]!));
      diff = Math.max(diff, Math.abs(relaxed.data[i]! - plain.data[i]!));
    }
    const pr = softmax(relaxed).data, pp = softmax(plain).data;
    for (let i = 0; i < pr.length; i++) pdiff = Math.max(pdiff, Math.abs(pr[i]! - pp[i]!));
    assert.ok(
      diff / scale <= BUILD_TOLERANCE.logitsRelative,
      `logits differ by ${diff / scale} relative`,
    );
    assert.ok(pdiff <= BUILD_TOLERANCE.probabilitiesAbsolute, `probabilities differ by ${pdiff}`);
    // The decision never changes.
    for (let i = 0; i < heldOut.n; i++) {
      const arg = (p: Float32Array) => {
        let b = 0;
        for (let j = 1; j < 10; j++) if (p[i * 10 + j]! > p[i * 10 + b]!) b = j;
        return b;
      };
      assert.equal(arg(pr), arg(pp), `digit ${i}`);
    }
    console.log(
      `relaxed vs plain SIMD over 2,000 digits: logits ${
        (diff / scale).toExponential(2)
      } relative, probabilities ${pdiff.toExponential(2)}`,
    );
  } finally {
    setBackend("wasm-relaxed-simd");
  }
});

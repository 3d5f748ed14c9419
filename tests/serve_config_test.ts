/**
 * The Worker serving another model, configured as wrangler.toml would: an
 * ONNX export of a small ResNet (16×16 RGB, 5 classes) with "resize"
 * preprocessing, labels and per-channel normalisation; every configuration
 * mistake is a 500 that names the variable.
 */
import assert from "node:assert/strict";
import { loadOnnx, softmax, tensor } from "../mod.ts";
import { createApp } from "../worker/app.ts";
import { decodePng } from "../worker/png.ts";
import { toResizedInput } from "../worker/preprocess.ts";
import { encodePng } from "./_png.ts";

const ONNX = new URL("./fixtures/onnx/", import.meta.url);
const resnet = await Deno.readFile(new URL("resnet.onnx", ONNX));
const VARS = {
  MODEL_PREPROCESS: "resize",
  MODEL_LABELS: "cat, dog, bird, fish, frog",
  MODEL_MEAN: "0.485, 0.456, 0.406",
  MODEL_STD: "0.229, 0.224, 0.225",
  MODEL_NAME: "tiny-resnet",
};

/** A 64×48 RGB picture: a red disc on a green-blue gradient. */
async function picture(): Promise<Uint8Array> {
  const w = 64, h = 48, samples: number[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const disc = (x - 40) ** 2 + (y - 20) ** 2 < 150;
      samples.push(disc ? 220 : 20, disc ? 30 : 4 * y, disc ? 40 : 3 * x);
    }
  }
  return await encodePng({ width: w, height: h, colorType: 2, depth: 8, samples });
}

const post = (app: ReturnType<typeof createApp>, type: string, body: BodyInit) =>
  app.request("/v1/predict", { method: "POST", headers: { "content-type": type }, body });

Deno.test("an ONNX ResNet served with resize, labels and mean/std: answers equal the model run by hand", async () => {
  const app = createApp({ modelBytes: resnet, vars: VARS });
  const png = await picture();
  const res = await post(app, "image/png", png.slice());
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  // By hand: decode to RGB, area-resize to 16×16, normalise, run the model, softmax.
  const img = await decodePng(png, { channels: 3, shrinkTo: 16 });
  const x = toResizedInput(img, 16, 16, 3);
  const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
  for (let i = 0; i < x.length; i++) x[i] = (x[i]! - mean[i % 3]!) / std[i % 3]!;
  const p = softmax(loadOnnx(resnet).predict(tensor(x, [1, 16, 16, 3]))).data;
  let best = 0;
  for (let k = 1; k < 5; k++) if (p[k]! > p[best]!) best = k;
  assert.equal(body.class, best);
  assert.equal(body.label, ["cat", "dog", "bird", "fish", "frog"][best]);
  for (let k = 0; k < 5; k++) assert.ok(Math.abs(body.probabilities[k] - p[k]!) < 1e-5);
  // /v1/model describes what is served.
  const model = await (await app.request("/v1/model")).json();
  assert.equal(model.name, "tiny-resnet");
  assert.equal(model.format, "onnx");
  assert.deepEqual(model.input.shape, [16, 16, 3]);
  assert.equal(model.input.preprocess, "resize");
  assert.deepEqual(model.input.mean, mean);
  assert.deepEqual(model.labels, ["cat", "dog", "bird", "fish", "frog"]);
  assert.equal(model.classes, 5);
  assert.match(model.input.formats["image/jpeg"], /resized to 16×16/);
  // Raw input: 768 bytes, normalised the same way.
  const raw = Uint8Array.from({ length: 768 }, (_, i) => (i * 37) % 256);
  const r2 = await (await post(app, "application/octet-stream", raw)).json();
  const x2 = Float32Array.from(raw, (v, i) => (v / 255 - mean[i % 3]!) / std[i % 3]!);
  const p2 = softmax(loadOnnx(resnet).predict(tensor(x2, [1, 16, 16, 3]))).data;
  for (let k = 0; k < 5; k++) assert.ok(Math.abs(r2.probabilities[k] - p2[k]!) < 1e-5);
});

Deno.test("a model ending in Softmax is not softmaxed twice", async () => {
  const bytes = await Deno.readFile(new URL("mobilenet.onnx", ONNX));
  const app = createApp({ modelBytes: bytes, vars: { MODEL_PREPROCESS: "resize" } });
  const raw = Uint8Array.from({ length: 20 * 20 * 3 }, (_, i) => (i * 13) % 256);
  const body = await (await post(app, "application/octet-stream", raw)).json();
  const direct =
    loadOnnx(bytes).predict(tensor(Float32Array.from(raw, (v) => v / 255), [1, 20, 20, 3])).data;
  for (let k = 0; k < 6; k++) assert.ok(Math.abs(body.probabilities[k] - direct[k]!) < 1e-5);
  assert.equal(body.label, String(body.class));
});

Deno.test("configuration mistakes are 500 misconfigured, naming the variable; /healthz still answers", async () => {
  const mnist = await Deno.readFile(new URL("../models/mnist.safetensors", import.meta.url));
  const cases: [Uint8Array, Record<string, string>, RegExp][] = [
    [
      resnet,
      { ...VARS, MODEL_PREPROCESS: "crop" },
      /MODEL_PREPROCESS must be "mnist" or "resize", got "crop"/,
    ],
    [
      resnet,
      { ...VARS, MODEL_LABELS: "a,b,c" },
      /MODEL_LABELS has 3 names; the model outputs 5 classes/,
    ],
    [resnet, { ...VARS, MODEL_MEAN: "0.5, 0.5" }, /MODEL_MEAN must hold 1 number or 3/],
    [resnet, { ...VARS, MODEL_STD: "0" }, /MODEL_STD must be positive/],
    [resnet, { ...VARS, MODEL_MEAN: "a, b, c" }, /MODEL_MEAN must be finite numbers/],
    [
      resnet,
      { MODEL_PREPROCESS: "mnist" },
      /"mnist" needs a square grey input \[s, s, 1\]; the model takes \[16, 16, 3\]/,
    ],
    [mnist.slice(0, 100), {}, /served-model in wrangler\.toml\) does not load/],
  ];
  for (const [bytes, vars, re] of cases) {
    const app = createApp({ modelBytes: bytes, vars });
    assert.equal((await app.request("/healthz")).status, 200);
    for (const path of ["/v1/model", "/v1/model"]) {
      const res = await app.request(path);
      const body = await res.json();
      assert.equal(res.status, 500, JSON.stringify(body));
      assert.equal(body.error.code, "misconfigured");
      assert.match(body.error.message, re);
    }
  }
  // In a Worker the vars come from the bindings (c.env) and override the options.
  const app = createApp({ modelBytes: resnet, vars: VARS });
  const res = await app.request("/v1/model", {}, { MODEL_LABELS: "a,b,c,d,e" });
  assert.deepEqual((await res.json()).labels, ["a", "b", "c", "d", "e"]);
});

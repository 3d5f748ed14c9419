/**
 * The Worker serving another model, configured as wrangler.toml would: an
 * ONNX export of a small ResNet (16×16 RGB, 5 classes) with "resize"
 * preprocessing, labels and per-channel normalisation; every configuration
 * mistake is a 500 that names the variable.
 */
import assert from "node:assert/strict";
import { loadOnnx, softmax, tensor } from "../mod.ts";
import { createApp } from "../worker/app.ts";
import { decodePng } from "../src/image/_png.ts";
import { decodeImage, imageToTensor } from "../src/image/mod.ts";
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
      /MODEL_PREPROCESS must be "mnist", "resize" or "center-crop", got "crop"/,
    ],
    [
      resnet,
      { ...VARS, MODEL_PREPROCESS: "center-crop", MODEL_RESIZE: "12" },
      /MODEL_RESIZE must be at least the input's side \(16\) to crop it, got 12/,
    ],
    [resnet, { ...VARS, MODEL_RESIZE: "1.5" }, /MODEL_RESIZE must be a positive integer/],
    [resnet, { ...VARS, MAX_BODY_BYTES: "-1" }, /MAX_BODY_BYTES must be a positive integer/],
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

Deno.test("center-crop serves torchvision's Resize + CenterCrop; ?top=K ranks the classes", async () => {
  const vars = { ...VARS, MODEL_PREPROCESS: "center-crop", MODEL_RESIZE: "20" };
  const app = createApp({ modelBytes: resnet, vars });
  const png = await picture();
  const res = await app.request("/v1/predict?top=3", {
    method: "POST",
    headers: { "content-type": "image/png" },
    body: png.slice(),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  // By hand: the shorter side (48) to 20, the centre 16×16, normalised.
  const x = imageToTensor(await decodeImage(png), {
    size: [16, 16],
    mode: "center-crop",
    resize: 20,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  });
  const p = softmax(loadOnnx(resnet).predict(x)).data;
  for (let k = 0; k < 5; k++) assert.ok(Math.abs(body.probabilities[k] - p[k]!) < 1e-5);
  const order = [0, 1, 2, 3, 4].sort((a, b) => p[b]! - p[a]!);
  assert.deepEqual(body.top.map((t: { class: number }) => t.class), order.slice(0, 3));
  assert.equal(body.top[0].label, ["cat", "dog", "bird", "fish", "frog"][order[0]!]);
  assert.equal(body.top[0].class, body.class);
  for (let i = 1; i < 3; i++) assert.ok(body.top[i - 1].probability >= body.top[i].probability);
  // K above the classes gives them all; bad K is a 400 naming the parameter.
  const all = await (await app.request("/v1/predict?top=100", {
    method: "POST",
    headers: { "content-type": "image/png" },
    body: png.slice(),
  })).json();
  assert.equal(all.top.length, 5);
  for (const bad of ["0", "101", "2.5", "x", ""]) {
    const r = await app.request(`/v1/predict?top=${bad}`, {
      method: "POST",
      headers: { "content-type": "image/png" },
      body: png.slice(),
    });
    assert.equal(r.status, 400, bad);
    assert.match((await r.json()).error.message, /top must be an integer from 1 to 100/);
  }
  // Without ?top the answer has no top.
  const plain = await (await post(app, "image/png", png.slice())).json();
  assert.equal(plain.top, undefined);
  const model = await (await app.request("/v1/model")).json();
  assert.equal(model.input.preprocess, "center-crop");
  assert.equal(model.input.resize, 20);
  assert.equal(model.input.maxBodyBytes, 16 << 20);
  // MAX_BODY_BYTES is applied: a 2 kB limit refuses the picture with 413.
  const small = createApp({ modelBytes: resnet, vars: { ...vars, MAX_BODY_BYTES: "2000" } });
  const r413 = await post(small, "image/png", png.slice());
  assert.equal(r413.status, 413);
  assert.match((await r413.json()).error.message, /exceeds 2000 bytes .*MAX_BODY_BYTES/);
});

Deno.test("MODEL_LABELS: a JSON array or one per line keeps names that contain commas", async () => {
  const names = [
    "tench, Tinca tinca",
    "goldfish",
    "great white shark",
    "tiger shark",
    "hammerhead",
  ];
  for (const labels of [JSON.stringify(names), names.join("\n") + "\n"]) {
    const app = createApp({ modelBytes: resnet, vars: { ...VARS, MODEL_LABELS: labels } });
    assert.deepEqual((await (await app.request("/v1/model")).json()).labels, names);
  }
});

Deno.test("MODEL_JPEG_SCALING: 'dct' (default) decodes a JPEG at reduced size, 'off' in full; a bad value is a 500 naming it", async () => {
  const photo = await Deno.readFile(
    new URL("./fixtures/images/photo-3-baseline.jpg", import.meta.url),
  );
  const vars = { ...VARS, MODEL_PREPROCESS: "center-crop", MODEL_RESIZE: "18" };
  const seen = async (extra: Record<string, string>) => {
    const app = createApp({ modelBytes: resnet, vars: { ...vars, ...extra } });
    const r = await app.request("/v1/predict?explain=1", {
      method: "POST",
      headers: { "content-type": "image/jpeg" },
      body: photo.slice(),
    });
    const body = await r.json();
    assert.equal(r.status, 200, JSON.stringify(body));
    const m = await (await app.request("/v1/model")).json();
    return { input: body.input as number[], scaling: m.input.jpegScaling };
  };
  const pipeline = async (minSize?: number) =>
    imageToTensor(await decodeImage(photo, minSize ? { minSize, channels: 3 } : { channels: 3 }), {
      size: [16, 16],
      mode: "center-crop",
      resize: 18,
    }).data;
  const close = (a: number[], b: Float32Array) => a.every((v, i) => Math.abs(v - b[i]!) <= 5e-5);
  const dct = await seen({}), off = await seen({ MODEL_JPEG_SCALING: "off" });
  assert.equal(dct.scaling, "dct");
  assert.equal(off.scaling, "off");
  const scaled = await pipeline(18), full = await pipeline();
  assert.ok(close(dct.input, scaled), "dct: the input of a reduced-size decode");
  assert.ok(close(off.input, full), "off: the input of a full decode");
  assert.ok(
    !close(off.input, scaled),
    "the two differ on this photo, so the setting is observable",
  );
  const bad = createApp({ modelBytes: resnet, vars: { ...vars, MODEL_JPEG_SCALING: "fast" } });
  const r = await bad.request("/v1/model");
  assert.equal(r.status, 500);
  assert.match(
    (await r.json()).error.message,
    /MODEL_JPEG_SCALING must be "dct" or "off", got "fast"/,
  );
});

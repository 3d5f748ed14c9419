/**
 * The served model from an R2 bucket (the `MODEL_BUCKET` binding, the
 * `MODEL_KEY` var), in-process against a bucket that counts its reads; the
 * same against wrangler's local R2 in workerd_test.ts.
 */
import assert from "node:assert/strict";
import { createApp } from "../worker/app.ts";
import type { ModelBucket } from "../worker/source.ts";
import { expectError } from "./_api_cases.ts";

const resnet = await Deno.readFile(new URL("./fixtures/onnx/resnet.onnx", import.meta.url));
const mnist = await Deno.readFile(new URL("../models/mnist.safetensors", import.meta.url));
const VARS = {
  MODEL_PREPROCESS: "resize",
  MODEL_LABELS: "cat,dog,bird,fish,frog",
  MODEL_NAME: "tiny-resnet",
};

/** An in-memory bucket that counts `get`s. */
class Bucket implements ModelBucket {
  objects = new Map<string, Uint8Array>();
  gets = 0;
  get(key: string) {
    this.gets++;
    const o = this.objects.get(key);
    return Promise.resolve(
      o ? { size: o.length, arrayBuffer: () => Promise.resolve(o.slice().buffer) } : null,
    );
  }
}

const octets = (n: number) => ({
  method: "POST",
  headers: { "content-type": "application/octet-stream" },
  body: new Uint8Array(n).fill(128),
});

Deno.test("R2: the model is read from MODEL_BUCKET once per isolate, even by concurrent first requests", async () => {
  const bucket = new Bucket();
  bucket.objects.set("nets/resnet.onnx", resnet);
  const env = { MODEL_BUCKET: bucket, MODEL_KEY: "nets/resnet.onnx", ...VARS };
  // A bundled model is there too: the bucket's wins when MODEL_KEY is set.
  const app = createApp({ modelBytes: mnist });
  const answers = await Promise.all(
    [0, 1, 2].map(() => app.request("/v1/predict", octets(16 * 16 * 3), env)),
  );
  for (const r of answers) {
    const body = await r.json();
    assert.equal(r.status, 200, JSON.stringify(body));
    assert.equal(body.probabilities.length, 5);
    assert.ok(VARS.MODEL_LABELS.split(",").includes(body.label));
  }
  const m = await (await app.request("/v1/model", {}, env)).json();
  assert.equal(m.source, "r2:nets/resnet.onnx");
  assert.equal(m.format, "onnx");
  assert.deepEqual(m.input.shape, [16, 16, 3]);
  const file = await app.request("/v1/model/file", {}, env);
  assert.deepEqual(new Uint8Array(await file.arrayBuffer()), resnet);
  assert.equal(bucket.gets, 1);
});

Deno.test("R2: without MODEL_KEY the bundled model is served; with no model at all, a 500 says so", async () => {
  const bucket = new Bucket();
  const app = createApp({ modelBytes: mnist });
  const m = await (await app.request("/v1/model", {}, { MODEL_BUCKET: bucket, MODEL_KEY: " " }))
    .json();
  assert.equal(m.source, "bundled");
  assert.equal(bucket.gets, 0);
  await expectError(await createApp({}).request("/v1/model"), 500, "misconfigured", /no model/);
});

Deno.test("R2: MODEL_KEY without the binding is a 500 naming MODEL_BUCKET", async () => {
  const app = createApp({});
  await expectError(
    await app.request("/v1/predict", octets(10), { MODEL_KEY: "m.onnx" }),
    500,
    "misconfigured",
    /MODEL_KEY is "m\.onnx" but the Worker has no R2 binding MODEL_BUCKET/,
  );
});

Deno.test("R2: a missing object is a 500 naming the key, looked for again on the next request", async () => {
  const bucket = new Bucket();
  const env = { MODEL_BUCKET: bucket, MODEL_KEY: "later.onnx", ...VARS };
  const app = createApp({});
  await expectError(
    await app.request("/v1/model", {}, env),
    500,
    "misconfigured",
    /MODEL_KEY "later\.onnx" is not in the MODEL_BUCKET bucket/,
  );
  bucket.objects.set("later.onnx", resnet);
  const r = await app.request("/v1/model", {}, env);
  assert.equal(r.status, 200);
  assert.equal((await r.json()).source, "r2:later.onnx");
  assert.equal(bucket.gets, 2);
});

Deno.test("R2: an object that is not a model, or is empty, is a 500 that says which", async () => {
  const bucket = new Bucket();
  bucket.objects.set("notes.txt", new TextEncoder().encode("not a model at all"));
  bucket.objects.set("empty.onnx", new Uint8Array(0));
  const app = createApp({});
  const env = { MODEL_BUCKET: bucket, MODEL_KEY: "notes.txt" };
  await expectError(
    await app.request("/v1/model", {}, env),
    500,
    "misconfigured",
    /the served model \("notes\.txt" in MODEL_BUCKET\) does not load/,
  );
  // A model that does not load is remembered: the same 500 without reading the bucket again.
  await expectError(await app.request("/v1/model", {}, env), 500, "misconfigured", /notes\.txt/);
  assert.equal(bucket.gets, 1);
  await expectError(
    await createApp({}).request("/v1/model", {}, { ...env, MODEL_KEY: "empty.onnx" }),
    500,
    "misconfigured",
    /"empty\.onnx" of MODEL_BUCKET is empty/,
  );
});

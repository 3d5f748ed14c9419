/**
 * Hardening, with counts small enough for every test run (`deno task fuzz`
 * runs the same fuzzers far longer): the API, the model loader, the PNG
 * decoder and the HTTP endpoint in real workerd.
 */
import assert from "node:assert/strict";
import {
  availableBackends,
  loadModel,
  loadOnnx,
  ModelFormatError,
  OnnxFormatError,
} from "../mod.ts";
import { fuzzApi } from "./fuzz/api_fuzz.ts";
import { fuzzJpegs, fuzzModelFiles, fuzzOnnxFiles, fuzzPngs } from "./fuzz/file_fuzz.ts";
import { fuzzHttp } from "./fuzz/http_fuzz.ts";
import { jpegSeeds, modelSeeds, onnxSeeds, pngSeeds, rightDigits } from "./fuzz/_seeds.ts";
import { startWorkerd } from "./_workerd.ts";

Deno.test("fuzz: 3,000 random API calls per backend return the reference's result or a documented error", () => {
  const r = fuzzApi(20261126, 3000, availableBackends());
  assert.deepEqual(r.failures, []);
  assert.equal(r.calls, 3000 * availableBackends().length);
  // Both kinds of outcome are exercised.
  assert.ok(r.agreed > r.calls / 2 && r.rejected > r.calls / 10, JSON.stringify(r));
});

Deno.test("fuzz: a small model file truncated at every offset is refused", async () => {
  const small = (await modelSeeds())[0]!;
  for (let cut = 0; cut < small.length; cut++) {
    assert.throws(() => loadModel(small.subarray(0, cut)), ModelFormatError, `cut at ${cut}`);
  }
});

Deno.test("fuzz: 2,000 mutated model files load or are refused with ModelFormatError, within bounded memory", async () => {
  const r = fuzzModelFiles(7, 2000, await modelSeeds());
  assert.deepEqual(r.failures, []);
  assert.ok(r.refused > 1000, JSON.stringify(r));
  assert.ok(
    r.maxRssGrowth < 64 * 2 ** 20,
    `resident memory grew by ${r.maxRssGrowth} bytes on one file`,
  );
});

Deno.test("fuzz: an ONNX file truncated at every offset is refused with OnnxFormatError", async () => {
  const small = (await onnxSeeds())[0]!;
  for (let cut = 0; cut < small.length; cut++) {
    assert.throws(() => loadOnnx(small.subarray(0, cut)), OnnxFormatError, `cut at ${cut}`);
  }
});

Deno.test("fuzz: 1,500 mutated ONNX files (huge lengths and dims spliced in) load or are refused, quickly and within bounded memory", async () => {
  const r = fuzzOnnxFiles(11, 1500, await onnxSeeds());
  assert.deepEqual(r.failures, []);
  assert.ok(r.malformed > 300 && r.accepted > 50, JSON.stringify({ ...r, failures: [] }));
  assert.ok(
    r.maxRssGrowth < 64 * 2 ** 20,
    `resident memory grew by ${r.maxRssGrowth} bytes on one file`,
  );
});

Deno.test("fuzz: 400 mutated JPEGs (baseline, progressive, grey) decode or are refused with 400/413, quickly", async () => {
  const r = await fuzzJpegs(9, 400, await jpegSeeds());
  assert.deepEqual(r.failures, []);
  assert.ok(r.refused > 100 && r.accepted > 100, JSON.stringify({ ...r, failures: [] }));
  assert.ok(
    r.maxRssGrowth < 64 * 2 ** 20,
    `resident memory grew by ${r.maxRssGrowth} bytes on one file`,
  );
});

Deno.test("fuzz: 2,000 mutated PNGs (CRCs often fixed up) decode or are refused with 400/413", async () => {
  const r = await fuzzPngs(8, 2000, await pngSeeds());
  assert.deepEqual(r.failures, []);
  assert.ok(r.accepted > 0 && r.refused > 1000, JSON.stringify(r));
  assert.ok(
    r.maxRssGrowth < 64 * 2 ** 20,
    `resident memory grew by ${r.maxRssGrowth} bytes on one PNG`,
  );
});

Deno.test({
  name:
    "fuzz: 400 malformed or oversized requests to workerd, interleaved with valid ones: no 5xx, memory flat",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const digits = await rightDigits();
    const worker = await startWorkerd();
    try {
      const r = await fuzzHttp(worker.url, 9, 400, digits);
      assert.deepEqual(r.failures, []);
      assert.equal(r.validRight, r.valid);
      assert.ok(r.malformed > 250);
      assert.ok(!Object.keys(r.statuses).some((s) => Number(s) >= 500));
    } finally {
      await worker.stop();
    }
  },
});

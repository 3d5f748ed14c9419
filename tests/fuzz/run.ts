/**
 * `deno task fuzz`: the long runs of the fuzzers in tests/fuzz/, seeded and
 * bounded, and a rewrite of the figures section of RELIABILITY.md.
 *
 * Options: `--scale N` multiplies every count (default 1).
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  availableBackends,
  loadModel,
  loadOnnx,
  ModelFormatError,
  OnnxFormatError,
} from "../../mod.ts";
import { replaceSection } from "../../scripts/sections.ts";
import { startWorkerd } from "../_workerd.ts";
import { fuzzApi } from "./api_fuzz.ts";
import { fuzzJpegs, fuzzModelFiles, fuzzOnnxFiles, fuzzPngs } from "./file_fuzz.ts";
import { fuzzHttp } from "./http_fuzz.ts";
import { jpegSeeds, modelSeeds, onnxSeeds, pngSeeds, rightDigits } from "./_seeds.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { scale: { type: "string", default: "1" } },
});
const scale = Number(values.scale);
if (!(scale > 0)) throw new RangeError(`--scale must be positive, got ${values.scale}`);
const n = (k: number) => Math.max(1, Math.round(k * scale));
const rows: string[] = [];
const problems: string[] = [];
const t = () => performance.now();
const secs = (t0: number) => ((t() - t0) / 1000).toFixed(1);

let t0 = t();
const api = fuzzApi(1, n(10_000), availableBackends());
problems.push(...api.failures);
rows.push(
  `| library API | ${api.calls.toLocaleString("en")} calls (${
    n(10_000).toLocaleString("en")
  } on each of ${availableBackends().join(", ")}) | ${
    api.agreed.toLocaleString("en")
  } equal to the reference, ${
    api.rejected.toLocaleString("en")
  } refused with TypeError/RangeError | ${api.failures.length} | ${secs(t0)} s |`,
);
console.error(`api: ${JSON.stringify({ ...api, failures: api.failures.slice(0, 5) })}`);

t0 = t();
const seeds = await modelSeeds();
let truncations = 0;
for (let cut = 0; cut < seeds[0]!.length; cut++) {
  try {
    loadModel(seeds[0]!.subarray(0, cut));
    problems.push(`model truncated at ${cut} loaded`);
  } catch (e) {
    if (!(e instanceof ModelFormatError)) problems.push(`model truncated at ${cut}: ${e}`);
  }
  truncations++;
}
const model = fuzzModelFiles(2, n(20_000), seeds);
problems.push(...model.failures);
rows.push(
  `| model loader | ${truncations} truncations (every offset of a small model) + ${
    model.tried.toLocaleString("en")
  } mutants | ${model.accepted.toLocaleString("en")} loaded, ${
    model.refused.toLocaleString("en")
  } refused with ModelFormatError; largest RSS growth on one file ${
    (model.maxRssGrowth / 2 ** 20).toFixed(1)
  } MiB | ${model.failures.length} | ${secs(t0)} s |`,
);
console.error(`model: ${model.tried} tried, ${model.failures.length} failures`);

t0 = t();
const onnx = await onnxSeeds();
let onnxCuts = 0;
for (const file of onnx.slice(0, 3)) {
  for (let cut = 0; cut < file.length; cut++) {
    try {
      loadOnnx(file.subarray(0, cut));
      problems.push(`ONNX file truncated at ${cut} loaded`);
    } catch (e) {
      if (!(e instanceof OnnxFormatError)) problems.push(`ONNX truncated at ${cut}: ${e}`);
    }
    onnxCuts++;
  }
}
const ox = fuzzOnnxFiles(6, n(60_000), onnx);
problems.push(...ox.failures);
rows.push(
  `| ONNX reader and importer | ${
    onnxCuts.toLocaleString("en")
  } truncations (every offset of 3 PyTorch exports) + ${
    ox.tried.toLocaleString("en")
  } mutants of 6 (40% with a huge length, dim or count varint spliced in) | ${
    ox.accepted.toLocaleString("en")
  } loaded (and predicted), ${ox.malformed.toLocaleString("en")} refused with OnnxFormatError, ${
    ox.unsupported.toLocaleString("en")
  } with OnnxUnsupportedError; slowest file ${ox.maxMs.toFixed(1)} ms; largest RSS growth ${
    (ox.maxRssGrowth / 2 ** 20).toFixed(1)
  } MiB | ${ox.failures.length} | ${secs(t0)} s |`,
);
console.error(`onnx: ${ox.tried} tried, ${ox.failures.length} failures`);

t0 = t();
const png = await fuzzPngs(3, n(20_000), await pngSeeds());
problems.push(...png.failures);
rows.push(
  `| PNG decoder | ${
    png.tried.toLocaleString("en")
  } mutants of 4 formats (CRCs fixed up for 70%) | ${png.accepted.toLocaleString("en")} decoded, ${
    png.refused.toLocaleString("en")
  } refused with 400/413; largest RSS growth ${
    (png.maxRssGrowth / 2 ** 20).toFixed(1)
  } MiB | ${png.failures.length} | ${secs(t0)} s |`,
);
console.error(`png: ${png.tried} tried, ${png.failures.length} failures`);

t0 = t();
const jpg = await fuzzJpegs(7, n(10_000), await jpegSeeds());
problems.push(...jpg.failures);
rows.push(
  `| JPEG decoder (jpeg-js and our bounds) | ${
    jpg.tried.toLocaleString("en")
  } mutants of baseline, progressive and grey photos | ${
    jpg.accepted.toLocaleString("en")
  } decoded, ${jpg.refused.toLocaleString("en")} refused with 400/413; slowest ${
    jpg.maxMs.toFixed(0)
  } ms; largest RSS growth ${
    (jpg.maxRssGrowth / 2 ** 20).toFixed(1)
  } MiB | ${jpg.failures.length} | ${secs(t0)} s |`,
);
console.error(`jpeg: ${jpg.tried} tried, ${jpg.failures.length} failures`);

t0 = t();
const digits = await rightDigits();
const worker = await startWorkerd();
let http, steady;
try {
  http = await fuzzHttp(worker.url, 4, n(2_000), digits);
  problems.push(...http.failures);
  // 10,000 sequential valid predictions in the same isolate.
  steady = await fuzzHttp(worker.url, 5, 0, digits); // just reads memory after a warm-up
  const before = steady.memoryAfterWarmUp;
  let wrong = 0;
  for (let k = 0; k < n(10_000); k++) {
    const i = digits.indices[k % digits.indices.length]!;
    const res = await fetch(new URL("/v1/predict", worker.url), {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: Uint8Array.from(
        digits.set.x.subarray(i * 784, i * 784 + 784),
        (v) => Math.round(v * 255),
      ),
    });
    const body = await res.json();
    if (res.status !== 200 || body.digit !== digits.set.labels[i]) wrong++;
  }
  const after = (await (await fetch(new URL("/v1/model", worker.url))).json()).kernelMemoryBytes;
  if (wrong) problems.push(`${wrong} of the sequential predictions were wrong or failed`);
  if (after !== before) {
    problems.push(`memory grew from ${before} to ${after} over the sequential predictions`);
  }
  const statuses = Object.entries(http.statuses).map(([s, c]) => `${c}×${s}`).join(", ");
  rows.push(
    `| HTTP, real workerd | ${http.sent.toLocaleString("en")} requests: ${
      http.malformed.toLocaleString("en")
    } malformed or oversized, ${http.valid} valid (${http.validRight} right) | ${statuses}; WebAssembly memory ${
      (http.memoryAfterWarmUp / 1024).toFixed(0)
    } KiB after warm-up, ${
      (http.memoryAtEnd / 1024).toFixed(0)
    } KiB at the end | ${http.failures.length} | ${secs(t0)} s |`,
    `| sequential predictions, one workerd isolate | ${n(10_000).toLocaleString("en")} | ${
      n(10_000) - wrong
    } right; WebAssembly memory ${(before / 1024).toFixed(0)} KiB before, ${
      (after / 1024).toFixed(0)
    } KiB after | ${wrong} | |`,
  );
} finally {
  await worker.stop();
}

const table = [
  "| what | inputs | outcome | failures | time |",
  "| --- | --- | --- | ---: | ---: |",
  ...rows,
].join("\n");
console.log(table);
await replaceSection(
  new URL("../../RELIABILITY.md", import.meta.url),
  "fuzz:figures",
  `Last run: ${
    new Date().toISOString().slice(0, 10)
  }, \`deno task fuzz\` (scale ${scale}).\n\n${table}`,
);
if (problems.length) {
  console.error(`${problems.length} problems:\n${problems.slice(0, 50).join("\n")}`);
  Deno.exit(1);
}

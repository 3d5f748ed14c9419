/**
 * The edge: phone photos into torchvision's MobileNetV2 on real workerd
 * (scripts/_edge.ts sets it up). Measures, in one run:
 *
 * - `decodeImage` of each photo to 256 px on the short side, against
 *   `@jsquash/jpeg` (mozjpeg in WebAssembly) and jpeg-js decoding it whole;
 * - request time on workerd (photo POSTed with `?top=5`, answer read) against
 *   the model's own `predict` in Deno (one thread, the same kernels), by size;
 * - the first request (the isolate loads the model) and workerd's resident
 *   memory from before the first request to after 50 photos;
 * - agreement with torchvision's pipeline (PIL, `Resize(256)`,
 *   `CenterCrop(224)`, `Normalize`) run through onnxruntime-node.
 *
 * @module
 */

import jpeg from "jpeg-js";
import * as ort from "onnxruntime-node";
import { loadOnnx, nchwToNhwc, setThreads, softmax, tensor } from "../mod.ts";
import { decodeImage, IMAGENET, imageToTensor } from "../src/image/mod.ts";
import { settledWorkerdRss, startWorkerd, workerdRss } from "../tests/_workerd.ts";
import {
  EDGE_CACHE,
  EDGE_MODEL,
  type EdgePhoto,
  edgePhotos,
  writeEdgeConfig,
} from "../scripts/_edge.ts";
import { fmt, medianAsync, medianMs } from "./_timing.ts";

/** `@jsquash/jpeg`'s decoder, initialised with its precompiled module (as workerd needs). */
async function jsquash(): Promise<(b: Uint8Array) => Promise<unknown>> {
  const m = await import("@jsquash/jpeg/decode.js");
  const dir = new URL(import.meta.resolve("@jsquash/jpeg/decode.js"));
  const wasm = await Deno.readFile(new URL("./codec/dec/mozjpeg_dec.wasm", dir));
  await m.init(await WebAssembly.compile(wasm));
  return (b) => m.default(b.buffer as ArrayBuffer);
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ma = 0, mb = 0;
  for (let i = 0; i < a.length; i++) ma += a[i]!, mb += b[i]!;
  ma /= a.length, mb /= b.length;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! - ma, y = b[i]! - mb;
    sab += x * y, saa += x * x, sbb += y * y;
  }
  return sab / Math.sqrt(saa * sbb);
}

const argmax = (p: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
  return best;
};

const logSoftmax = (z: Float32Array) => {
  const p = softmax(tensor(z, [1, z.length])).data;
  return Float64Array.from(p, (v) => Math.log(v));
};

/** Runs the benchmark; returns the BENCHMARKS.md section. */
export async function benchEdge(log: (s: string) => void = console.error): Promise<string> {
  setThreads(1);
  const config = await writeEdgeConfig();
  const photos = await edgePhotos();
  const read = (p: EdgePhoto) => Deno.readFile(`${EDGE_CACHE}/${p.name}.jpg`);
  const onnx = await Deno.readFile(EDGE_MODEL);
  const model = loadOnnx(onnx);
  const pre = { size: [224, 224] as [number, number], mode: "center-crop" as const, ...IMAGENET };

  // Decoding, one photo of each kind.
  const squash = await jsquash();
  const decodeRows: string[] = [];
  const kinds = photos.filter((p) => p.name.endsWith("-0") || p.progressive);
  const decodeRatios: { name: string; sq: number; js: number }[] = [];
  for (const p of kinds) {
    const bytes = await read(p);
    const ours = await medianAsync(() => decodeImage(bytes, { minSize: 256 }), 7);
    const full = await medianAsync(() => decodeImage(bytes), 3);
    const sq = await medianAsync(() => squash(bytes), 3);
    const js = await medianAsync(
      () =>
        Promise.resolve(jpeg.decode(bytes, {
          useTArray: true,
          maxMemoryUsageInMB: 2048,
          maxResolutionInMP: 200,
        })),
      3,
    );
    decodeRatios.push({ name: p.name, sq: sq / ours, js: js / ours });
    log(`decode ${p.name}: ours@256 ${fmt(ours, 1)} full ${fmt(full, 1)} jsquash ${fmt(sq, 1)}`);
    decodeRows.push(
      `| ${p.name} (${p.width}×${p.height}${p.progressive ? ", progressive" : ""}, ${
        (p.bytes / 1e6).toFixed(2)
      } MB) | **${fmt(ours, 1)}** | ${fmt(full, 1)} | ${fmt(sq, 1)} | ${fmt(js, 1)} | ${
        fmt(sq / ours, 1)
      }× | ${fmt(js / ours, 1)}× |`,
    );
  }

  // Agreement with torchvision + onnxruntime, and the stages in Deno.
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
  const inName = session.inputNames[0]!, outName = session.outputNames[0]!;
  let sameTop1 = 0, minCorr = Infinity, maxInputDiff = 0, fullTop1 = 0, fullInputDiff = 0;
  const fullCorr: number[] = [];
  const corr: number[] = [];
  const ourTop1 = new Map<string, number>();
  const logits: Float32Array[] = [];
  for (const p of photos) {
    const bytes = await read(p);
    const x = imageToTensor(await decodeImage(bytes, { minSize: 256 }), pre);
    const ref = new Float32Array((await Deno.readFile(`${EDGE_CACHE}/${p.name}.ref.f32`)).buffer);
    const refNhwc = nchwToNhwc(tensor(ref, [1, 3, 224, 224]));
    for (let i = 0; i < x.data.length; i++) {
      maxInputDiff = Math.max(maxInputDiff, Math.abs(x.data[i]! - refNhwc.data[i]!));
    }
    const ours = model.predict(x).data;
    const theirs =
      (await session.run({ [inName]: new ort.Tensor("float32", ref, [1, 3, 224, 224]) }))[
        outName
      ]!.data as Float32Array;
    const r = pearson(logSoftmax(ours), logSoftmax(theirs));
    corr.push(r);
    minCorr = Math.min(minCorr, r);
    if (argmax(ours) === argmax(theirs)) sameTop1++;
    ourTop1.set(p.name, argmax(ours));
    logits.push(theirs);
    // MODEL_JPEG_SCALING = "off": the photo decoded in full, as PIL does.
    const xf = imageToTensor(await decodeImage(bytes), pre);
    for (let i = 0; i < xf.data.length; i++) {
      fullInputDiff = Math.max(fullInputDiff, Math.abs(xf.data[i]! - refNhwc.data[i]!));
    }
    const full = model.predict(xf).data;
    fullCorr.push(pearson(logSoftmax(full), logSoftmax(theirs)));
    if (argmax(full) === argmax(theirs)) fullTop1++;
  }
  // The same measure between different photos: how much the answers depend on the photo.
  const cross = logits.map((z, i) =>
    pearson(logSoftmax(z), logSoftmax(logits[(i + 1) % logits.length]!))
  );
  const crossMean = cross.reduce((s, v) => s + v, 0) / cross.length;
  const topClasses = new Set(photos.map((p) => ourTop1.get(p.name))).size;
  const meanCorr = corr.reduce((s, v) => s + v, 0) / corr.length;
  log(`agreement: r min ${minCorr.toFixed(4)}, top-1 ${sameTop1}/${photos.length}`);

  const x0 = imageToTensor(await decodeImage(await read(photos[0]!), { minSize: 256 }), pre);
  const predictMs = medianMs(() => model.predict(x0), 3000, 15);
  log(`predict in Deno ${fmt(predictMs, 1)} ms`);

  // workerd.
  const t0 = performance.now();
  const worker = await startWorkerd(config);
  const readyMs = performance.now() - t0;
  const url = new URL("/v1/predict?top=5", worker.url);
  const post = async (bytes: Uint8Array) => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "image/jpeg" },
      body: bytes as Uint8Array<ArrayBuffer>,
    });
    const body = await res.json();
    if (res.status !== 200) {
      throw new Error(`workerd answered ${res.status}: ${JSON.stringify(body)}`);
    }
    return body as { class: number; top: { label: string }[]; ms: number };
  };
  const bySize = new Map<string, number[]>();
  let rssReady = NaN, rssBefore = NaN, rssHealthz = NaN, rssAfter = NaN;
  let firstMs = NaN, healthzMs = NaN;
  let workerTop1 = 0, served = 0, octetMs = NaN;
  try {
    rssReady = workerdRss();
    // workerd goes on loading after ready: the baseline is its memory once that stops.
    rssBefore = await settledWorkerdRss();
    // The isolate starts on the first request: /healthz (no model) times that alone.
    const h0 = performance.now();
    await (await fetch(new URL("/healthz", worker.url))).arrayBuffer();
    healthzMs = performance.now() - h0;
    rssHealthz = workerdRss();
    const first = await read(photos[0]!);
    const f0 = performance.now();
    await post(first);
    firstMs = performance.now() - f0;
    // The model's input as bytes (no decoding, no resizing): what the request costs besides.
    const octets = new Uint8Array(224 * 224 * 3).map((_, i) => (i * 37) & 255);
    octetMs = await medianAsync(async () => {
      const r = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: octets,
      });
      if (r.status !== 200) throw new Error(`workerd answered ${r.status}: ${await r.text()}`);
      await r.arrayBuffer();
    }, 9);
    served += 10;
    for (const p of photos) {
      const bytes = await read(p);
      const answer = await post(bytes);
      if (answer.class === ourTop1.get(p.name)) workerTop1++;
      const t = await medianAsync(() => post(bytes), 5);
      served += 6;
      bySize.set(p.size, [...(bySize.get(p.size) ?? []), t]);
      log(`workerd ${p.name}: ${fmt(t, 1)} ms (${fmt(t / predictMs, 2)}× predict)`);
    }
    const cached = await Promise.all(photos.map(read));
    for (let i = 0; served < 50 + 6 * photos.length; i++, served++) {
      await post(cached[i % cached.length]!);
    }
    rssAfter = workerdRss();
  } finally {
    await worker.stop();
  }
  const growth = (rssAfter - rssBefore) / (1 << 20);
  log(`workerd RSS ${fmt(rssBefore / (1 << 20), 0)} → ${fmt(rssAfter / (1 << 20), 0)} MiB`);

  const sizeRows = ["2mp", "fhd", "12mp"].map((s) => {
    const ts = bySize.get(s) ?? [];
    const med = [...ts].sort((a, b) => a - b)[ts.length >> 1]!;
    const target = s === "12mp" ? 2.0 : 1.5;
    const p = photos.find((q) => q.size === s)!;
    return `| ${s} (${p.width}×${p.height}) | ${ts.map((t) => fmt(t, 1)).join(", ")} | ${
      fmt(med, 1)
    } | **${fmt(med / predictMs, 2)}×** (≤ ${target.toFixed(1)}×) |`;
  });
  const geo = (v: number[]) => Math.exp(v.reduce((s, x) => s + Math.log(x), 0) / v.length);
  return [
    `MobileNetV2 (torchvision 0.14 export, seeded weights calibrated so answers depend on the photo: BatchNorm statistics measured on 48 other scenes, classifier scaled to logits of std 3; \`scripts/edge_photos.py\`) served by the Worker on real workerd with \`MODEL_PREPROCESS = "center-crop"\`, ImageNet's mean, std and 1,000 labels (\`scripts/_edge.ts\` writes the config); 12 phone-photo stand-ins (\`scripts/edge_photos.py\`: quality 90, 4:2:0; per size one sideways with EXIF orientation 6, one progressive).`,
    ``,
    `**Decoding** (ms, median; ours to 256 px on the short side with DCT scaling, the others whole):`,
    ``,
    `| photo | decodeImage → 256 | decodeImage, full size | @jsquash/jpeg (mozjpeg wasm) | jpeg-js | vs @jsquash | vs jpeg-js |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...decodeRows,
    ``,
    `Spread: ${fmt(Math.min(...decodeRatios.map((r) => r.sq)), 1)}–${
      fmt(Math.max(...decodeRatios.map((r) => r.sq)), 1)
    }× @jsquash/jpeg (geomean ${fmt(geo(decodeRatios.map((r) => r.sq)), 1)}×), ${
      fmt(Math.min(...decodeRatios.map((r) => r.js)), 1)
    }–${
      fmt(Math.max(...decodeRatios.map((r) => r.js)), 1)
    }× jpeg-js. Our decoder is TypeScript (no WebAssembly yet).`,
    ``,
    `**Requests on workerd** (photo POSTed to \`/v1/predict?top=5\`, answer read; median of 5 per photo, ms) against the model's own \`predict\` in Deno, one thread, the same kernels: **${
      fmt(predictMs, 1)
    } ms**.`,
    ``,
    `| size | per photo | median | request / predict |`,
    `| --- | --- | ---: | ---: |`,
    ...sizeRows,
    ``,
    `| measure | value |`,
    `| --- | ---: |`,
    `| wrangler start (build + workerd boot) until ready | ${fmt(readyMs, 0)} ms |`,
    `| the isolate's first request, \`GET /healthz\` (no model) | ${fmt(healthzMs, 0)} ms |`,
    `| then the first prediction, model load included (target ≤ 2 × ${
      fmt(predictMs, 1)
    } + 1000 ms, counted from here) | **${fmt(firstMs, 0)} ms** |`,
    `| an \`application/octet-stream\` request (the 224×224×3 input as bytes: no decoding or resizing), median of 9 | ${
      fmt(octetMs, 1)
    } ms (${fmt(octetMs / predictMs, 2)}× predict) |`,
    `| workerd resident memory: at ready (still loading: not a baseline) → settled, before the first request → after /healthz (isolate started) → after ${served} requests | ${
      fmt(rssReady / (1 << 20), 0)
    } → ${fmt(rssBefore / (1 << 20), 0)} → ${fmt(rssHealthz / (1 << 20), 0)} → ${
      fmt(rssAfter / (1 << 20), 0)
    } MiB (**+${fmt(growth, 0)} MiB**, +${
      fmt((rssAfter - rssHealthz) / (1 << 20), 0)
    } from the started isolate; target ≤ 96) |`,
    `| agreement with PIL + torchvision + onnxruntime-node: correlation of log-probabilities, min / mean | **${
      minCorr.toFixed(4)
    }** / ${meanCorr.toFixed(4)} |`,
    `| the same correlation between different photos' answers (how much answers depend on the photo), mean | ${
      crossMean.toFixed(4)
    } |`,
    `| same top-1 (in Deno) | ${sameTop1}/${photos.length} (${topClasses} distinct classes over the photos) |`,
    `| with \`MODEL_JPEG_SCALING = "off"\` (decoded in full): correlation min, same top-1, input max abs difference | ${
      Math.min(...fullCorr).toFixed(4)
    }, ${fullTop1}/${photos.length}, ${fullInputDiff.toFixed(4)} |`,
    `| workerd's top-1 = the same pipeline's in Deno | ${workerTop1}/${photos.length} |`,
    `| our input tensor vs torchvision's, max abs difference (normalised units) | ${
      maxInputDiff.toFixed(4)
    } |`,
  ].join("\n");
}

if (import.meta.main) console.log(await benchEdge());

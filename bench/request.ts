/**
 * CPU per request: a canvas PNG of a digit (drawn in Chromium, as the demo
 * page sends it) posted to the app under `Deno.serve` on loopback, against
 * the platform's own `DecompressionStream` inflating the same PNG's image
 * data, side by side in one process. Targets (issue "The edge serves any
 * image model"): the whole request ≤ 1.6× the inflate at 1080×1080, ≤ 5× at
 * 280×280. Also the stages one by one (decode, preprocess, inference).
 *
 * @module
 */

import { createApp } from "../worker/app.ts";
import { decodePng } from "../src/image/_png.ts";
import { toMnistInput } from "../worker/preprocess.ts";
import { fmt, medianAsync } from "./_timing.ts";

const root = new URL("../", import.meta.url);

/** The concatenated IDAT data of a PNG. */
function idat(png: Uint8Array): Uint8Array {
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength), parts: Uint8Array[] = [];
  for (let at = 8; at + 12 <= png.length;) {
    const len = v.getUint32(at), type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (type === "IDAT") parts.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function inflate(data: Uint8Array): Promise<number> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("deflate"),
  );
  let n = 0;
  for await (const chunk of stream) n += chunk.length;
  return n;
}

/** Runs the benchmark; returns the BENCHMARKS.md section. */
export async function benchRequest(log: (s: string) => void = console.error): Promise<string> {
  const modelBytes = await Deno.readFile(new URL("models/mnist.safetensors", root));
  const app = createApp({ modelBytes });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}/v1/predict`;
  const rows: string[] = [];
  try {
    for (const size of [1080, 280]) {
      for (const d of [2, 3, 7]) {
        const png = await Deno.readFile(
          new URL(`tests/fixtures/images/canvas-${size}-${d}.png`, root),
        );
        const data = idat(png);
        const post = async () => {
          const res = await fetch(url, {
            method: "POST",
            headers: { "content-type": "image/png" },
            body: png,
          });
          const body = await res.json();
          if (body.digit !== d) {
            throw new Error(`canvas-${size}-${d}.png read as ${JSON.stringify(body)}`);
          }
        };
        const reps = size === 1080 ? 60 : 200;
        const tInflate = await medianAsync(() => inflate(data), reps, 5);
        const tRequest = await medianAsync(post, reps, 5);
        const tDecode = await medianAsync(
          () => decodePng(png, { channels: 1, shrinkTo: 112 }),
          reps,
          5,
        );
        const img = await decodePng(png, { channels: 1, shrinkTo: 112 });
        const tPre = await medianAsync(() => Promise.resolve(toMnistInput(img, 28)), reps, 5);
        const target = size === 1080 ? 1.6 : 5;
        const ratio = tRequest / tInflate;
        log(
          `${size} digit ${d}: request ${fmt(tRequest, 3)} ms, inflate ${fmt(tInflate, 3)} ms (${
            fmt(ratio)
          }×)`,
        );
        rows.push(
          `| ${size}×${size}, digit ${d} | ${png.length.toLocaleString("en")} | ${
            fmt(tInflate, 2)
          } | ${fmt(tDecode, 2)} | ${fmt(tPre, 2)} | ${fmt(tRequest, 2)} | **${
            fmt(ratio)
          }×** (≤ ${target}×) |`,
        );
      }
    }
  } finally {
    await server.shutdown();
  }
  return [
    'Canvas PNGs from Chromium (`scripts/canvas_fixtures.ts`: RGBA, a digit drawn in black on white), posted to the app under `Deno.serve` on 127.0.0.1 from the same process; medians in ms. *Inflate* is `DecompressionStream("deflate")` over the PNG\'s image data alone; *decode* is our PNG decoder (inflate included, shrinking to ≈112 px as the MNIST path does); *preprocess* the MNIST preprocessing of the decoded image; *request* the whole round trip (HTTP, decode, preprocess, inference, JSON).',
    "",
    "| image | PNG bytes | inflate | decode | preprocess | request | request ÷ inflate |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
  ].join("\n");
}

if (import.meta.main) console.log(await benchRequest());

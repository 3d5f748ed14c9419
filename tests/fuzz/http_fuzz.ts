/**
 * Seeded HTTP fuzzing of a running Worker: malformed and oversized requests
 * (random bytes, wrong and missing content types, truncated and bombed PNGs,
 * broken JSON, huge bodies, wrong methods, unknown paths) interleaved with
 * valid predictions. Every valid request must still get the right answer,
 * nothing may answer 5xx, and the isolate's WebAssembly memory (reported by
 * `GET /v1/model`) must stay where warm-up left it. The loop is bounded in
 * count and stops by itself.
 *
 * @module
 */

import { mulberry32 } from "../../src/core/random.ts";
import type { DigitSet } from "../../train/mnist.ts";
import { bombPng, DRAWN, greyPng, strokes } from "../_png.ts";
import { mutate } from "./file_fuzz.ts";

/** What a run found. */
export interface HttpFuzzReport {
  /** Requests sent in all. */
  sent: number;
  /** Malformed or oversized requests among them. */
  malformed: number;
  /** Valid predictions among them, and how many came back with the expected digit. */
  valid: number;
  validRight: number;
  /** Responses by status. */
  statuses: Record<number, number>;
  /** WebAssembly memory after warm-up and at the end, in bytes. */
  memoryAfterWarmUp: number;
  memoryAtEnd: number;
  /** What broke the rules. */
  failures: string[];
}

/** Sends `count` requests to `base`; `digits` are (image, label) pairs the model reads correctly. */
export async function fuzzHttp(
  base: URL,
  seed: number,
  count: number,
  digits: { set: DigitSet; indices: number[] },
): Promise<HttpFuzzReport> {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const rep: HttpFuzzReport = {
    sent: 0,
    malformed: 0,
    valid: 0,
    validRight: 0,
    statuses: {},
    memoryAfterWarmUp: 0,
    memoryAtEnd: 0,
    failures: [],
  };
  const memory = async () =>
    (await (await fetch(new URL("/v1/model", base))).json()).kernelMemoryBytes as number;
  const goodPng = await greyPng(64, 64, strokes(DRAWN[7]!, 64));
  const bomb = await bombPng(8, 4 << 20);
  const pixels = (i: number) => Array.from(digits.set.x.subarray(i * 784, i * 784 + 784));

  async function send(path: string, init: RequestInit): Promise<Response> {
    rep.sent++;
    const res = await fetch(new URL(path, base), init);
    rep.statuses[res.status] = (rep.statuses[res.status] ?? 0) + 1;
    if (res.status >= 500) {
      rep.failures.push(`${init.method ?? "GET"} ${path}: ${res.status} ${await res.text()}`);
    }
    return res;
  }

  async function valid(): Promise<void> {
    const i = pick(digits.indices);
    rep.valid++;
    const res = await send("/v1/predict", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pixels: pixels(i) }),
    });
    const body = await res.json();
    if (res.status === 200 && body.digit === digits.set.labels[i]) rep.validRight++;
    else {rep.failures.push(
        `valid digit ${i} (${digits.set.labels[i]}): ${res.status} ${
          JSON.stringify(body).slice(0, 200)
        }`,
      );}
  }

  async function malformed(): Promise<void> {
    rep.malformed++;
    const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
    // 784 random bytes would be a valid raw image: make such a body one byte longer.
    const notValidRaw = (b: Uint8Array) => (b.length === 784 ? randomBytes(785) : b);
    const kinds: (() => [string, RequestInit])[] = [
      () => ["/v1/predict", {
        method: "POST",
        headers: { "content-type": "image/png" },
        body: mutate(goodPng, r) as BodyInit,
      }],
      () => ["/v1/predict", {
        method: "POST",
        headers: { "content-type": "image/png" },
        body: bomb as BodyInit,
      }],
      () => ["/v1/predict", {
        method: "POST",
        headers: {
          "content-type": pick(["image/png", "application/json", "application/octet-stream"]),
        },
        body: notValidRaw(randomBytes(Math.floor(r() * 2000))),
      }],
      () => ["/v1/predict", {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: new Uint8Array((1 << 20) + 1 + Math.floor(r() * 500_000)),
      }],
      () => ["/v1/predict", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          pixels: pixels(0).map((v, k) => (k === 3 ? pick(["x", null, 2, -1, [], {}]) : v)),
        }),
      }],
      () => ["/v1/predict", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ pixels: pixels(0) }).slice(0, Math.floor(r() * 3000)),
      }],
      () => ["/v1/predict", {
        method: "POST",
        headers: { "content-type": pick(["text/plain", "image/jpeg", "multipart/form-data", ""]) },
        body: "hello",
      }],
      () => ["/v1/predict/batch", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          images: Array.from({ length: pick([0, 65, 200]) }, () => ({ pixels: [] })),
        }),
      }],
      () => ["/v1/predict/batch", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ images: [{ png: "AAAA" + "!".repeat(Math.floor(r() * 10)) }] }),
      }],
      () => [pick(["/v1/predict", "/healthz", "/v1/model", "/"]), {
        method: pick(["PUT", "DELETE", "PATCH"]),
      }],
      () => [pick(["/v2", "/v1/predictx", "/%2e%2e/etc", "/v1/model/extra"]), {
        method: pick(["GET", "POST"]),
      }],
    ];
    const which = Math.floor(r() * kinds.length);
    const [path, init] = kinds[which]!();
    const res = await send(path, init);
    await res.arrayBuffer();
    // A mutated PNG (kind 0) can come out still valid; everything else must be refused.
    if (res.status < 400 && which !== 0) {
      const type = (init.headers as Record<string, string> | undefined)?.["content-type"];
      rep.failures.push(
        `malformed kind ${which} ${init.method} ${path} (${type}) answered ${res.status}`,
      );
    }
  }

  for (let k = 0; k < 5; k++) await valid();
  rep.memoryAfterWarmUp = await memory();
  for (let k = 0; k < count; k++) {
    if (r() < 0.25) await valid();
    else await malformed();
  }
  rep.memoryAtEnd = await memory();
  if (rep.memoryAtEnd !== rep.memoryAfterWarmUp) {
    rep.failures.push(
      `WebAssembly memory grew from ${rep.memoryAfterWarmUp} to ${rep.memoryAtEnd} bytes`,
    );
  }
  return rep;
}

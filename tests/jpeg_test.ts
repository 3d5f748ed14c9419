/**
 * JPEG input and photographs of digits: baseline, progressive and grey JPEGs
 * (written by Pillow), the same bounds as the PNG path, and "photos" (tinted
 * paper, uneven light, sensor noise, a blue pen, JPEG-compressed) read as
 * reliably as clean drawings of the same held-out digits.
 */
import assert from "node:assert/strict";
import jpeg from "jpeg-js";
import { createApp } from "../worker/app.ts";
import { decodeImage, ImageError } from "../src/image/mod.ts";
import { jpegInfo } from "../src/image/_jpeg.ts";
import { asDataset, loadMnist } from "../train/mnist.ts";
import { drawOnCanvas, greyPng } from "./_png.ts";
import { rng } from "./_helpers.ts";

const IMAGES = new URL("./fixtures/images/", import.meta.url);
const app = createApp({
  modelBytes: await Deno.readFile(new URL("../models/mnist.safetensors", import.meta.url)),
});
const post = (type: string, body: Uint8Array) =>
  app.request("/v1/predict", {
    method: "POST",
    headers: { "content-type": type },
    body: body.slice() as Uint8Array<ArrayBuffer>,
  });

Deno.test("photos as baseline, progressive and grey JPEGs are read as their digits", async () => {
  for (const d of [2, 3, 5, 7, 8]) {
    for (const kind of ["baseline", "progressive", "grey"]) {
      const bytes = await Deno.readFile(new URL(`photo-${d}-${kind}.jpg`, IMAGES));
      const res = await post("image/jpeg", bytes);
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.digit, d, `photo-${d}-${kind}.jpg read as ${body.digit}`);
      assert.equal(body.label, String(d));
    }
  }
  // The progressive and baseline files decode to nearly the same image.
  const a = await decodeImage(await Deno.readFile(new URL("photo-3-baseline.jpg", IMAGES)), {
    channels: 3,
  });
  const b = await decodeImage(await Deno.readFile(new URL("photo-3-progressive.jpg", IMAGES)), {
    channels: 3,
  });
  assert.equal(
    jpegInfo(await Deno.readFile(new URL("photo-3-progressive.jpg", IMAGES))).progressive,
    true,
  );
  assert.equal(a.data.length, b.data.length);
  let diff = 0;
  for (let i = 0; i < a.data.length; i++) diff += Math.abs(a.data[i]! - b.data[i]!);
  assert.ok(diff / a.data.length < 2.55, `mean difference ${diff / a.data.length} levels`);
});

Deno.test("JPEG bounds: too large is 413 before decoding; malformed, truncated and unsupported are 400s", async () => {
  const good = await Deno.readFile(new URL("photo-7-baseline.jpg", IMAGES));
  const sof = good.findIndex((v, i) => v === 0xff && good[i + 1] === 0xc0);
  assert.ok(sof > 0);
  // 9000×9000 declared: refused from the header alone (a 240 MB decode never starts).
  const huge = good.slice();
  huge[sof + 5] = 9000 >> 8,
    huge[sof + 6] = 9000 & 255,
    huge[sof + 7] = 9000 >> 8,
    huge[sof + 8] = 9000 & 255;
  const t0 = performance.now();
  let res = await post("image/jpeg", huge);
  assert.equal(res.status, 413);
  assert.match((await res.json()).error.message, /9000×9000; at most 8192×8192/);
  assert.ok(performance.now() - t0 < 200);
  await assert.rejects(
    () => decodeImage(huge),
    (e: Error) => e instanceof ImageError && e.status === 413,
  );
  // 8000×8000 is within the limit, but this file is far too short for it: refused before the
  // planes are allocated.
  const short = huge.slice();
  short[sof + 5] = 8000 >> 8,
    short[sof + 6] = 8000 & 255,
    short[sof + 7] = 8000 >> 8,
    short[sof + 8] = 8000 & 255;
  await assert.rejects(() => decodeImage(short), /cannot hold the \d+ blocks of a 8000×8000 image/);
  // Zero height, a lossless frame type, truncation, garbage, and not a JPEG at all.
  const zero = good.slice();
  zero[sof + 5] = 0, zero[sof + 6] = 0;
  const lossless = good.slice();
  lossless[sof + 1] = 0xc3;
  for (
    const [bytes, re] of [
      [zero, /zero width or height/],
      [lossless, /frame type 0xc3/],
      [good.subarray(0, good.length / 2), /truncated JPEG: the image data ends early/],
      [good.subarray(0, 40), /truncated JPEG|no frame header/],
      [Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0xff, 0xff), /truncated JPEG|runs past the end/],
      [new TextEncoder().encode("hello"), /not a JPEG file/],
    ] as const
  ) {
    res = await post("image/jpeg", bytes);
    const body = await res.json();
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(body.error.code, "bad_image");
    assert.match(body.error.message, re);
  }
});

/** A held-out digit "photographed": a blue pen on a tinted sheet, light falling off, noise, JPEG. */
function photoOf(mnist: Float32Array, r: () => number, size = 240): Uint8Array {
  const clean = drawOnCanvas(mnist, size, [Math.round(r() * 30 - 15), Math.round(r() * 30 - 15)]);
  const tint = [0.92 + 0.06 * r(), 0.85 + 0.08 * r(), 0.7 + 0.15 * r()];
  const pen = [0.15, 0.18, 0.45];
  const [l0, l1] = [1.0, 0.45 + 0.2 * r()];
  const rgba = new Uint8Array(size * size * 4);
  // A crude normal: the sum of four uniforms, centred.
  const noise = () => (r() + r() + r() + r() - 2) * 0.05;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x, a = 1 - clean[i]!, light = l0 + (l1 - l0) * (x + y) / (2 * size);
      for (let c = 0; c < 3; c++) {
        const v = (tint[c]! * (1 - a) + pen[c]! * a) * light + noise();
        rgba[4 * i + c] = Math.max(0, Math.min(255, Math.round(v * 255)));
      }
      rgba[4 * i + 3] = 255;
    }
  }
  return new Uint8Array(jpeg.encode({ data: rgba, width: size, height: size }, 80).data);
}

Deno.test("photos of 150 held-out digits (tinted paper, uneven light, noise, JPEG) read as well as clean drawings", async () => {
  const { heldOut } = await loadMnist();
  const set = asDataset(heldOut);
  const r = rng(77);
  let clean = 0, photo = 0;
  const n = 150;
  for (let k = 0; k < n; k++) {
    const i = Math.floor((k * heldOut.n) / n), label = set.labels![i];
    const digit = heldOut.x.subarray(i * 784, i * 784 + 784);
    const png = await greyPng(240, 240, drawOnCanvas(digit, 240));
    if ((await (await post("image/png", png)).json()).digit === label) clean++;
    if ((await (await post("image/jpeg", photoOf(digit, r))).json()).digit === label) photo++;
  }
  console.log(`clean drawings ${clean}/${n}, photos ${photo}/${n}`);
  assert.ok(clean >= 0.97 * n, `clean drawings: ${clean}/${n}`);
  assert.ok(photo >= clean - 2, `photos ${photo}/${n} against clean drawings ${clean}/${n}`);
});

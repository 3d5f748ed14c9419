/** The PNG decoder and the MNIST-style preprocessing. */
import assert from "node:assert/strict";
import { decodePng, MAX_SIDE, PngError } from "../src/image/_png.ts";
import { PreprocessError, toMnistInput } from "../worker/preprocess.ts";
import {
  bombPng,
  chunk,
  deflate,
  encodePng,
  greyPng,
  ihdr,
  join,
  type RawImage,
  SIGNATURE,
} from "./_png.ts";
import { rng } from "./_helpers.ts";

async function rejects(bytes: Uint8Array, status: 400 | 413, pattern: RegExp) {
  await assert.rejects(decodePng(bytes), (e: unknown) => {
    assert.ok(e instanceof PngError, `expected PngError, got ${e}`);
    assert.equal(e.status, status);
    assert.match(e.message, pattern);
    return true;
  });
}

/** The grey level the decoder should give for pixel `i` of `img` (over white). */
function expectedGrey(img: RawImage, i: number): number {
  const ch = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[img.colorType];
  const max = (1 << img.depth) - 1;
  const s = Array.from({ length: ch }, (_, c) => img.samples[i * ch + c]!);
  let r: number, g: number, b: number, a = 1;
  if (img.colorType === 3) {
    [r, g, b] = [0, 1, 2].map((k) => img.palette![s[0]! * 3 + k]! / 255) as [
      number,
      number,
      number,
    ];
    if (img.trns && s[0]! < img.trns.length) a = img.trns[s[0]!]! / 255;
  } else if (img.colorType === 0 || img.colorType === 4) {
    r = g = b = s[0]! / max;
    if (img.colorType === 4) a = s[1]! / max;
  } else {
    [r, g, b] = s.slice(0, 3).map((v) => v / max) as [number, number, number];
    if (img.colorType === 6) a = s[3]! / max;
  }
  return (0.299 * r + 0.587 * g + 0.114 * b) * a + (1 - a);
}

Deno.test("every colour type, bit depth, filter and interlacing decodes to the right grey levels", async () => {
  const r = rng(1);
  const formats: [RawImage["colorType"], RawImage["depth"]][] = [
    [0, 1],
    [0, 2],
    [0, 4],
    [0, 8],
    [0, 16],
    [2, 8],
    [2, 16],
    [3, 1],
    [3, 2],
    [3, 4],
    [3, 8],
    [4, 8],
    [4, 16],
    [6, 8],
    [6, 16],
  ];
  for (const [colorType, depth] of formats) {
    for (const interlace of [false, true]) {
      for (const filter of [0, 1, 2, 3, 4]) {
        const width = 1 + Math.floor(r() * 13), height = 1 + Math.floor(r() * 11);
        const ch = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colorType];
        const max = colorType === 3 ? Math.min((1 << depth) - 1, 5) : (1 << depth) - 1;
        const samples = Array.from(
          { length: width * height * ch },
          () => Math.floor(r() * (max + 1)),
        );
        const img: RawImage = { width, height, colorType, depth, samples };
        if (colorType === 3) {
          img.palette = Uint8Array.from({ length: 18 }, () => Math.floor(r() * 256));
          img.trns = Uint8Array.from([255, 0, 128]);
        }
        const what = `type ${colorType} depth ${depth} ${
          interlace ? "Adam7" : "plain"
        } filter ${filter} ${width}×${height}`;
        const out = await decodePng(await encodePng(img, { interlace, filter }));
        assert.equal(out.width, width, what);
        assert.equal(out.height, height, what);
        for (let i = 0; i < width * height; i++) {
          assert.ok(Math.abs(out.data[i]! - expectedGrey(img, i)) < 1e-5, `${what} pixel ${i}`);
        }
      }
    }
  }
});

Deno.test("a grey tRNS colour reads as white (transparent over white)", async () => {
  const img: RawImage = {
    width: 2,
    height: 1,
    colorType: 0,
    depth: 8,
    samples: [0, 100],
    trns: Uint8Array.from([0, 0]),
  };
  const out = await decodePng(await encodePng(img));
  assert.deepEqual([...out.data].map((v) => +v.toFixed(4)), [1, +(100 / 255).toFixed(4)]);
});

Deno.test("malformed PNGs are 400s that say what is wrong", async () => {
  const good = await greyPng(4, 3, new Array(12).fill(0.5));
  await rejects(new Uint8Array([1, 2, 3]), 400, /bad signature/);
  const badCrc = good.slice();
  badCrc[20]! ^= 0xff; // inside IHDR's data
  await rejects(badCrc, 400, /bad CRC in chunk IHDR/);
  for (let cut = 8; cut < good.length; cut++) {
    await assert.rejects(decodePng(good.subarray(0, cut)), PngError, `cut at ${cut}`);
  }
  const iend = chunk("IEND", new Uint8Array(0));
  await rejects(join(SIGNATURE, ihdr(0, 5), iend), 400, /zero width or height/);
  await rejects(join(SIGNATURE, ihdr(4, 4, 3, 2), iend), 400, /colour type 2 with bit depth 3/);
  await rejects(
    join(SIGNATURE, ihdr(4, 4, 8, 3), chunk("IDAT", await deflate(new Uint8Array(20))), iend),
    400,
    /without PLTE/,
  );
  await rejects(join(SIGNATURE, ihdr(2, 2), iend), 400, /no image data/);
  await rejects(
    join(SIGNATURE, chunk("IDAT", new Uint8Array(2)), iend),
    400,
    /first chunk must be IHDR/,
  );
  await rejects(
    join(SIGNATURE, ihdr(2, 2), chunk("IDAT", Uint8Array.from([1, 2, 3, 4])), iend),
    400,
    /does not decompress/,
  );
  await rejects(
    join(SIGNATURE, ihdr(2, 2), chunk("IDAT", await deflate(new Uint8Array(3))), iend),
    400,
    /has 3 of 6 bytes/,
  );
  const badFilter = await deflate(Uint8Array.from([9, 0, 0, 0, 0, 0]));
  await rejects(join(SIGNATURE, ihdr(2, 2), chunk("IDAT", badFilter), iend), 400, /filter type 9/);
  await rejects(
    join(SIGNATURE, ihdr(2, 2), chunk("ABCD", new Uint8Array(1)), iend),
    400,
    /unknown critical chunk ABCD/,
  );
});

Deno.test("huge declared sizes and decompression bombs are 413s, stopped early", async () => {
  const iend = chunk("IEND", new Uint8Array(0));
  await rejects(join(SIGNATURE, ihdr(MAX_SIDE + 1, 10), iend), 413, /at most 8192×8192/);
  await rejects(join(SIGNATURE, ihdr(10, 2 ** 31), iend), 413, /at most 8192×8192/);
  // A 4×4 header whose data inflates to 64 MiB of zeros (about 64 KiB compressed).
  const t0 = performance.now();
  await rejects(await bombPng(4, 64 * 2 ** 20), 413, /inflates to more than the 20 bytes/);
  assert.ok(performance.now() - t0 < 2000);
});

Deno.test("preprocessing: inverts light backgrounds, crops, scales to 20 px and centres by mass", () => {
  // A 100×60 white canvas with a dark 10×40 bar: after inversion the bar is ink.
  const w = 100, h = 60, grey = new Float32Array(w * h).fill(1);
  for (let y = 10; y < 50; y++) for (let x = 70; x < 80; x++) grey[y * w + x] = 0;
  const out = toMnistInput({ width: w, height: h, channels: 1, data: grey });
  // The 40-tall bar becomes 20 tall and 5 wide, centred: rows 4..23, columns 12..16 (mass at 13.5).
  let ink = 0;
  const rows = new Set<number>(), cols = new Set<number>();
  for (let i = 0; i < 784; i++) {
    if (out[i]! > 0.5) {
      ink++;
      rows.add(Math.floor(i / 28));
      cols.add(i % 28);
    }
  }
  assert.equal(rows.size, 20);
  assert.equal(cols.size, 5);
  assert.equal(ink, 100);
  assert.deepEqual([Math.min(...rows), Math.max(...rows)], [4, 23]);
  // A dark-background image is not inverted: the same bar drawn light on black gives the same input.
  const dark = Float32Array.from(grey, (v) => 1 - v);
  assert.deepEqual(toMnistInput({ width: w, height: h, channels: 1, data: dark }), out);
  assert.throws(
    () => toMnistInput({ width: 5, height: 5, channels: 1, data: new Float32Array(25).fill(1) }),
    PreprocessError,
  );
});

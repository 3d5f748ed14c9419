/**
 * `@convnet/wasm/image`: JPEG decoding held to Pillow (libjpeg-turbo) byte
 * for byte, at full size and at 1/2, 1/4, 1/8 (Pillow's `draft`), on every
 * layout (4:2:0, 4:2:2, 4:4:4, progressive, grey, restart intervals, CMYK,
 * EXIF orientations, odd sizes); `imageToTensor`'s centre crop held to
 * torchvision's `Resize(256)` + `CenterCrop(224)` on PIL; and the argument
 * checks. The oracle needs Debian's python3-pil (/usr/bin/python3); without
 * it those tests skip with a message, except under CI=true.
 */
import assert from "node:assert/strict";
import { decodeImage, ImageError, IMAGENET, imageToTensor } from "../src/image/mod.ts";
import { orient } from "../src/image/_orient.ts";

const inCi = Deno.env.get("CI") === "true";
const IMAGES = new URL("./fixtures/images/", import.meta.url);

/** Pillow's fixtures (scripts/image_fixtures.py) in a temporary folder, or null without Pillow. */
async function pilFixtures(): Promise<string | null> {
  const dir = await Deno.makeTempDir({ prefix: "image-fixtures-" });
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [new URL("../scripts/image_fixtures.py", import.meta.url).pathname, dir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (out.success) return dir;
    const err = new TextDecoder().decode(out.stderr);
    if (inCi) throw new Error(`CI=true but scripts/image_fixtures.py failed:\n${err}`);
    console.log(`image_test: Pillow oracle skipped (${err.trim().split("\n").at(-1)})`);
  } catch (e) {
    if (inCi) throw e;
    console.log(`image_test: Pillow oracle skipped (no /usr/bin/python3 with PIL: ${e})`);
  }
  return null;
}

const dir = await pilFixtures();

interface Entry {
  name: string;
  png?: boolean;
  width: number;
  height: number;
  channels: number;
  d2?: [number, number];
  d4?: [number, number];
  d8?: [number, number];
  orientation?: number;
  upright?: [number, number];
}

function sameBytes(got: Uint8Array, want: Uint8Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let diffs = 0, first = -1;
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) {
      if (first < 0) first = i;
      diffs++;
    }
  }
  assert.equal(
    diffs,
    0,
    `${what}: ${diffs} bytes differ from Pillow's, first at ${first} (${got[first]} vs ${
      want[first]
    })`,
  );
}

Deno.test({
  name: "JPEG and PNG decoding equals Pillow's bytes: full size and 1/2, 1/4, 1/8, every layout",
  ignore: dir === null,
  async fn() {
    const man: Entry[] = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    assert.ok(man.length >= 15, `${man.length} fixtures`);
    let checked = 0;
    for (const e of man) {
      const bytes = await Deno.readFile(`${dir}/${e.name}.${e.png ? "png" : "jpg"}`);
      const full = await decodeImage(bytes, { orientation: false });
      assert.deepEqual([full.width, full.height, full.channels], [e.width, e.height, e.channels]);
      sameBytes(full.data, await Deno.readFile(`${dir}/${e.name}.full.bin`), `${e.name} full`);
      checked++;
      if (e.png) continue;
      for (const d of [2, 4, 8] as const) {
        const [w, h] = e[`d${d}`]!;
        // The smallest decode at least as large as Pillow's draft chose.
        const img = await decodeImage(bytes, { minSize: [h, w], orientation: false });
        assert.deepEqual([img.width, img.height], [w, h], `${e.name} at 1/${d}`);
        sameBytes(img.data, await Deno.readFile(`${dir}/${e.name}.d${d}.bin`), `${e.name} 1/${d}`);
        checked++;
      }
      if (e.orientation) {
        const up = await decodeImage(bytes);
        assert.deepEqual([up.width, up.height], e.upright, `${e.name} upright size`);
        sameBytes(
          up.data,
          await Deno.readFile(`${dir}/${e.name}.upright.bin`),
          `${e.name} upright`,
        );
      }
    }
    console.log(`${checked} decodes equal Pillow's`);
  },
});

Deno.test({
  name: "imageToTensor center-crop equals torchvision's Resize(256) + CenterCrop(224) on PIL",
  ignore: dir === null,
  async fn() {
    const man: Entry[] = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    for (const e of man.filter((e) => !e.png && e.width >= 224 && e.height >= 224)) {
      const img = await decodeImage(await Deno.readFile(`${dir}/${e.name}.jpg`), {
        orientation: false,
        channels: 3,
      });
      const x = imageToTensor(img, { size: [224, 224], mode: "center-crop" });
      assert.deepEqual(x.shape, [1, 224, 224, 3]);
      const want = await Deno.readFile(`${dir}/${e.name}.crop224.bin`);
      for (let i = 0; i < want.length; i++) {
        if (x.data[i] !== Math.fround(want[i]! / 255)) {
          assert.fail(`${e.name}: value ${i} is ${x.data[i]! * 255}/255, PIL gives ${want[i]}`);
        }
      }
    }
  },
});

Deno.test("decodeImage picks the smallest DCT scale that covers minSize, and decodes the committed photos", async () => {
  const bytes = await Deno.readFile(new URL("photo-3-baseline.jpg", IMAGES));
  const full = await decodeImage(bytes);
  assert.equal(full.channels, 3);
  for (const [min, side] of [[1, 1 / 8], [full.width / 8, 1 / 8], [full.width / 8 + 1, 1 / 4]]) {
    const img = await decodeImage(bytes, { minSize: Math.ceil(min!) });
    assert.equal(img.width, Math.ceil(full.width * side!), `minSize ${min}`);
  }
  const grey = await decodeImage(await Deno.readFile(new URL("photo-3-grey.jpg", IMAGES)));
  assert.equal(grey.channels, 1);
  const rgb = await decodeImage(await Deno.readFile(new URL("photo-3-grey.jpg", IMAGES)), {
    channels: 3,
  });
  assert.equal(rgb.data[0], rgb.data[1]);
  assert.equal(rgb.data[0], grey.data[0]);
  // PNGs decode too (8-bit values exactly).
  const png = await decodeImage(await Deno.readFile(new URL("canvas-280-3.png", IMAGES)));
  assert.equal(png.width, 280);
});

Deno.test("EXIF orientations 2–8 are the transforms exif_transpose applies", () => {
  // A 3×2 grey image with distinct values: [[0,1,2],[3,4,5]].
  const a = Uint8Array.of(0, 1, 2, 3, 4, 5);
  const want: Record<number, [number, number, number[]]> = {
    1: [3, 2, [0, 1, 2, 3, 4, 5]],
    2: [3, 2, [2, 1, 0, 5, 4, 3]],
    3: [3, 2, [5, 4, 3, 2, 1, 0]],
    4: [3, 2, [3, 4, 5, 0, 1, 2]],
    5: [2, 3, [0, 3, 1, 4, 2, 5]],
    6: [2, 3, [3, 0, 4, 1, 5, 2]],
    7: [2, 3, [5, 2, 4, 1, 3, 0]],
    8: [2, 3, [2, 5, 1, 4, 0, 3]],
  };
  for (const [o, [w, h, data]] of Object.entries(want)) {
    const r = orient(a, 3, 2, 1, Number(o));
    assert.deepEqual([r.width, r.height, [...r.data]], [w, h, data], `orientation ${o}`);
  }
});

Deno.test("imageToTensor: resize, normalisation, grey/RGB, Python's rounding of the crop offset", () => {
  const img = { width: 4, height: 2, channels: 3 as const, data: new Uint8Array(24).fill(255) };
  const x = imageToTensor(img, { size: [2, 4], ...IMAGENET });
  assert.deepEqual(x.shape, [1, 2, 4, 3]);
  assert.ok(Math.abs(x.data[0]! - (1 - 0.485) / 0.229) < 1e-6);
  assert.ok(Math.abs(x.data[2]! - (1 - 0.406) / 0.225) < 1e-6);
  const g = imageToTensor(img, { size: [1, 2], channels: 1 });
  assert.deepEqual([...g.data], [1, 1]);
  // A 7-wide image cropped to 4: offset round(1.5) = 2 in Python (halves to even).
  const ramp = { width: 7, height: 4, channels: 1 as const, data: new Uint8Array(28) };
  for (let i = 0; i < 28; i++) ramp.data[i] = (i % 7) * 10;
  const c = imageToTensor(ramp, { size: [4, 4], mode: "center-crop", resize: 4 });
  assert.deepEqual([...c.data.subarray(0, 4)].map((v) => Math.round(v * 255)), [20, 30, 40, 50]);
});

Deno.test("image functions refuse bad arguments with errors that name them", async () => {
  const img = { width: 2, height: 2, channels: 1 as const, data: new Uint8Array(4) };
  const cases: [() => unknown, RegExp][] = [
    [() => imageToTensor(img, { size: [0, 2] }), /options\.size\[0\] must be a positive integer/],
    [
      () => imageToTensor(img, { size: [2, 2], mode: "crop" as "resize" }),
      /options\.mode must be "resize" or "center-crop", got "crop"/,
    ],
    [() => imageToTensor(img, { size: [2, 2], std: [0] }), /options\.std\[0\] must be a positive/],
    [
      () => imageToTensor(img, { size: [2, 2], mean: [0, 0] }),
      /options\.mean must be a number or 1/,
    ],
    [
      () => imageToTensor(img, { size: [2, 2], resize: 3 }),
      /options\.resize must be undefined unless/,
    ],
    [
      () => imageToTensor({ ...img, data: new Uint8Array(3) }, { size: [2, 2] }),
      /image\.data must be a Uint8Array of 2·2·1 = 4 values/,
    ],
    [
      () => imageToTensor(img, { size: [4, 4], mode: "center-crop", resize: 3 }),
      /options\.resize must be at least the crop/,
    ],
    [() => imageToTensor(img, { size: [2, 2], sizes: 1 } as never), /sizes/],
  ];
  for (const [f, re] of cases) assert.throws(f, re);
  const jpeg = await Deno.readFile(new URL("photo-3-baseline.jpg", IMAGES));
  await assert.rejects(
    () => decodeImage(jpeg, { maxSide: 10 }),
    (e: Error) => e instanceof ImageError && e.status === 413 && /at most 10×10/.test(e.message),
  );
  await assert.rejects(
    () => decodeImage(jpeg, { minSize: 0 }),
    /options\.minSize must be a positive integer/,
  );
  await assert.rejects(
    () => decodeImage(jpeg, { channels: 2 as 1 }),
    /options\.channels must be 1 or 3/,
  );
  await assert.rejects(
    () => decodeImage("x" as unknown as Uint8Array),
    /bytes must be a Uint8Array/,
  );
  await assert.rejects(
    () => decodeImage(Uint8Array.of(1, 2, 3)),
    (e: Error) =>
      e instanceof ImageError && e.status === 400 && /neither a PNG nor a JPEG/.test(e.message),
  );
});

Deno.test("resampleWindow of a window is the whole resize's result cropped, byte for byte, on odd sizes up and down", async () => {
  const { resampleWindow } = await import("../src/image/_resample.ts");
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let t = 0; t < 40; t++) {
    const c = t % 2 ? 3 : 1, w = 1 + Math.floor(rnd() * 90), h = 1 + Math.floor(rnd() * 90);
    const ow = 1 + Math.floor(rnd() * 120), oh = 1 + Math.floor(rnd() * 120);
    const src = Uint8Array.from({ length: w * h * c }, () => Math.floor(rnd() * 256));
    const full = resampleWindow(src, w, h, c, ow, oh, 0, 0, ow, oh);
    const cw = 1 + Math.floor(rnd() * ow), ch = 1 + Math.floor(rnd() * oh);
    const left = Math.floor(rnd() * (ow - cw + 1)), top = Math.floor(rnd() * (oh - ch + 1));
    const win = resampleWindow(src, w, h, c, ow, oh, left, top, cw, ch);
    assert.equal(win.length, cw * ch * c);
    for (let y = 0; y < ch; y++) {
      for (let i = 0; i < cw * c; i++) {
        const want = full[((y + top) * ow + left) * c + i]!;
        if (win[y * cw * c + i] !== want) {
          assert.fail(
            `${w}×${h}→${ow}×${oh} c${c}, window ${cw}×${ch}@${left},${top}: (${y}, ${i})`,
          );
        }
      }
    }
  }
});

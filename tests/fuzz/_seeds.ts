/**
 * The valid inputs the fuzzers mutate: small model files and PNGs of several
 * formats, and the held-out digits the shipped model reads correctly.
 *
 * @module
 */

import {
  Conv2D,
  Dense,
  Flatten,
  loadModel,
  MaxPool2D,
  saveModel,
  Sequential,
  tensor,
} from "../../mod.ts";
import { loadMnist } from "../../train/mnist.ts";
import type { DigitSet } from "../../train/mnist.ts";
import { DRAWN, encodePng, greyPng, strokes } from "../_png.ts";

/** A small model file and the shipped one. */
export async function modelSeeds(): Promise<Uint8Array[]> {
  const small = saveModel(
    new Sequential([
      new Conv2D({ filters: 2, kernelSize: 3 }),
      new MaxPool2D(),
      new Flatten(),
      new Dense({ units: 3 }),
    ], [
      6,
      6,
      1,
    ]),
  );
  return [small, await Deno.readFile(new URL("../../models/mnist.safetensors", import.meta.url))];
}

/** PNGs in several formats: grey 8-bit, palette 4-bit interlaced, RGBA 16-bit, grey 1-bit interlaced. */
export async function pngSeeds(): Promise<Uint8Array[]> {
  return [
    await greyPng(40, 40, strokes(DRAWN[7]!, 40)),
    await encodePng({
      width: 9,
      height: 7,
      colorType: 3,
      depth: 4,
      samples: Array.from({ length: 63 }, (_, i) => i % 5),
      palette: new Uint8Array(15).fill(90),
      trns: Uint8Array.of(0, 255),
    }, { interlace: true }),
    await encodePng({
      width: 5,
      height: 6,
      colorType: 6,
      depth: 16,
      samples: Array.from({ length: 120 }, (_, i) => (i * 997) % 65536),
    }, { filter: 4 }),
    await encodePng({
      width: 17,
      height: 3,
      colorType: 0,
      depth: 1,
      samples: Array.from({ length: 51 }, (_, i) => i % 2),
    }, { interlace: true, filter: 3 }),
  ];
}

/** The held-out digits and the indices of those the shipped model classifies correctly. */
export async function rightDigits(): Promise<{ set: DigitSet; indices: number[] }> {
  const { heldOut } = await loadMnist();
  const model = loadModel(
    await Deno.readFile(new URL("../../models/mnist.safetensors", import.meta.url)),
  );
  const out = model.predict(tensor(heldOut.x, [heldOut.n, 28, 28, 1])).data;
  const indices: number[] = [];
  for (let i = 0; i < heldOut.n; i++) {
    let best = 0;
    for (let j = 1; j < 10; j++) if (out[i * 10 + j]! > out[i * 10 + best]!) best = j;
    if (best === heldOut.labels[i]) indices.push(i);
  }
  return { set: heldOut, indices };
}

/** The ONNX fixtures exported from PyTorch (small ones first). */
export async function onnxSeeds(): Promise<Uint8Array[]> {
  const dir = new URL("../fixtures/onnx/", import.meta.url);
  const names = ["conv1d", "geometry", "mobilenet", "unet", "resnet", "unsupported"];
  return await Promise.all(names.map((n) => Deno.readFile(new URL(`${n}.onnx`, dir))));
}

/** JPEG photos of digits: baseline, progressive and grey (tests/fixtures/images). */
export async function jpegSeeds(): Promise<Uint8Array[]> {
  const dir = new URL("../fixtures/images/", import.meta.url);
  const names = ["photo-3-baseline.jpg", "photo-3-progressive.jpg", "photo-7-grey.jpg"];
  return await Promise.all(names.map((n) => Deno.readFile(new URL(n, dir))));
}

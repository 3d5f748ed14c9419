/**
 * Writes tests/fixtures/images/canvas-{280,1080}-{d}.png: digits drawn with
 * round strokes on a white canvas in Chromium and exported with
 * `canvas.toBlob("image/png")`, exactly as the demo page sends them (RGBA,
 * Chromium's own PNG encoder and filter choices). The request benchmark and
 * the tests read them. Needs /usr/bin/chromium.
 *
 * Run: `deno run -A scripts/canvas_fixtures.ts`.
 *
 * @module
 */

import { chromium } from "playwright-core";

// Strokes per digit, in a 0..1 box: polylines.
const DIGITS: Record<number, number[][][]> = {
  2: [[[0.25, 0.3], [0.35, 0.15], [0.55, 0.12], [0.72, 0.25], [0.7, 0.45], [0.3, 0.85], [
    0.78,
    0.85,
  ]]],
  3: [[[0.28, 0.2], [0.5, 0.12], [0.7, 0.22], [0.65, 0.42], [0.45, 0.5], [0.7, 0.6], [0.72, 0.8], [
    0.5,
    0.9,
  ], [0.27, 0.82]]],
  7: [[[0.25, 0.15], [0.75, 0.15], [0.45, 0.88]]],
};

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
  ],
});
try {
  const page = await browser.newPage();
  for (const size of [280, 1080]) {
    for (const [d, strokes] of Object.entries(DIGITS)) {
      const b64 = await page.evaluate(async ({ size, strokes }) => {
        const c = document.createElement("canvas");
        c.width = c.height = size;
        const g = c.getContext("2d")!;
        g.fillStyle = "#fff";
        g.fillRect(0, 0, size, size);
        g.strokeStyle = "#000";
        g.lineCap = g.lineJoin = "round";
        g.lineWidth = size / 14;
        for (const s of strokes) {
          g.beginPath();
          s.forEach((
            [x, y],
            i,
          ) => (i ? g.lineTo(x! * size, y! * size) : g.moveTo(x! * size, y! * size)));
          g.stroke();
        }
        const blob: Blob = await new Promise((r) => c.toBlob((b) => r(b!), "image/png"));
        const bytes = new Uint8Array(await blob.arrayBuffer());
        let s = "";
        for (const b of bytes) s += String.fromCharCode(b);
        return btoa(s);
      }, { size, strokes });
      const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      const path = `tests/fixtures/images/canvas-${size}-${d}.png`;
      await Deno.writeFile(path, bytes);
      console.log(path, bytes.length, "bytes");
    }
  }
} finally {
  await browser.close();
}

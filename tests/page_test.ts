/// <reference lib="dom" />
/**
 * The demo page in a real browser (Debian's Chromium driven by
 * playwright-core) against the Worker in real workerd: draw digits with the
 * mouse along stroke paths and read what the page shows (the Worker's answer,
 * and the same model run in the page on every core). Also: the library
 * itself, bundled, runs in the browser, single-threaded and cross-origin
 * isolated with threads, and matches Deno bit for bit.
 *
 * Needs /usr/bin/chromium (`apt-get install chromium`). Without it the test is
 * skipped on a developer's machine; under CI=true it runs, and fails if the
 * browser is missing. Screenshots go to test-results/ (git-ignored).
 */
import assert from "node:assert/strict";
import { chromium, type Page } from "playwright-core";
import { type Backend, convBackward, convForward, setBackend, tensor } from "../mod.ts";
import { DRAWN } from "./_png.ts";
import { startWorkerd } from "./_workerd.ts";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
const inCi = Deno.env.get("CI") === "true";
if (!haveChromium && !inCi) {
  console.warn(
    `page_test: ${CHROMIUM} not found, skipping the browser tests (apt-get install chromium)`,
  );
}

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** Draws stroke paths (unit coordinates) on the page's canvas with the mouse. */
async function draw(page: Page, paths: [number, number][][]) {
  const box = (await page.locator("#pad").boundingBox())!;
  const at = ([x, y]: [number, number]) => [box.x + x * box.width, box.y + y * box.height] as const;
  for (const path of paths) {
    await page.mouse.move(...at(path[0]!));
    await page.mouse.down();
    for (const p of path.slice(1)) await page.mouse.move(...at(p), { steps: 6 });
    await page.mouse.up();
  }
}

async function shownDigit(page: Page): Promise<string> {
  await page.waitForFunction(
    () => /^Read in/.test(document.getElementById("status")!.textContent ?? ""),
    null,
    {
      timeout: 10_000,
    },
  );
  return (await page.locator("#digit").textContent())!.trim();
}

Deno.test({
  name:
    "page: draw a 1, a 0, a 7 and a 4 in Chromium and see each read; errors shown when the server stops",
  ignore: !haveChromium && !inCi,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const worker = await startWorkerd();
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    let stopped = false;
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(new URL("/", worker.url).href);
      const cores = Math.min(16, await page.evaluate(() => navigator.hardwareConcurrency));
      await page.waitForFunction(() => document.querySelectorAll("#filters canvas").length === 16);
      for (const d of [1, 0, 7, 4]) {
        await page.click("#clear");
        await draw(page, DRAWN[d]!);
        assert.equal(await shownDigit(page), String(d), `drew a ${d}`);
        const ps = await page.$$eval(
          ".bar",
          (els) => els.map((e) => Number((e as HTMLElement).dataset["p"])),
        );
        assert.equal(ps.length, 10);
        assert.ok(
          Math.abs(ps.reduce((s, v) => s + v, 0) - 1) < 1e-3,
          `bars sum to ${ps.reduce((s, v) => s + v, 0)}`,
        );
        assert.equal(await page.locator("#maps canvas").count(), 16);
        assert.equal(await page.locator("#error").textContent(), "");
        // The same model in the browser, threaded (the page is cross-origin isolated): same digit.
        await page.waitForFunction(() => document.getElementById("local")!.dataset["digit"], null, {
          timeout: 10_000,
        });
        const local = await page.$eval("#local", (e) => ({ ...(e as HTMLElement).dataset }));
        assert.equal(local["digit"], String(d), `in the browser, drew a ${d}`);
        assert.equal(Number(local["threads"]), cores, "threads in the browser");
        assert.equal(Number(local["workers"]), cores - 1, "workers up in the browser");
      }
      assert.equal(await page.evaluate(() => crossOriginIsolated), true);
      assert.match(
        (await page.locator("#local").textContent())!,
        /^In this browser: 4 in .* threads$/,
      );
      await Deno.mkdir("test-results", { recursive: true });
      await page.screenshot({ path: "test-results/demo.png", fullPage: true });

      // Keyboard: the Clear button is reachable with Tab and works with Enter.
      await page.focus("#clear");
      await page.keyboard.press("Enter");
      assert.equal((await page.locator("#digit").textContent())!.trim(), "–");

      // The server goes away: the page says so instead of failing silently.
      await worker.stop();
      stopped = true;
      await draw(page, DRAWN[7]!);
      await page.waitForFunction(
        () => (document.getElementById("error")!.textContent ?? "").length > 0,
        null,
        {
          timeout: 10_000,
        },
      );
      assert.match((await page.locator("#error").textContent())!, /Could not read the digit: .+/);
      await page.screenshot({ path: "test-results/demo-error.png" });
    } finally {
      await browser.close();
      if (!stopped) await worker.stop();
    }
  },
});

Deno.test({
  name: "page: on a phone-sized viewport (390×844) nothing overflows horizontally",
  ignore: !haveChromium && !inCi,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const worker = await startWorkerd();
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    try {
      const page = await browser.newPage({
        viewport: { width: 390, height: 844 },
        hasTouch: true,
        isMobile: true,
      });
      await page.goto(new URL("/", worker.url).href);
      await page.waitForFunction(() => document.querySelectorAll("#filters canvas").length === 16);
      await draw(page, DRAWN[1]!);
      assert.equal(await shownDigit(page), "1");
      const { scroll, inner } = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        inner: globalThis.innerWidth,
      }));
      assert.ok(scroll <= inner, `page is ${scroll}px wide in a ${inner}px viewport`);
      await Deno.mkdir("test-results", { recursive: true });
      await page.screenshot({ path: "test-results/demo-phone.png", fullPage: true });
    } finally {
      await browser.close();
      await worker.stop();
    }
  },
});

/** The library bundled into one ES module (`deno bundle mod.ts`), as text. */
async function bundleLibrary(): Promise<string> {
  const dir = await Deno.makeTempDir();
  try {
    const bundle = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", new URL("../mod.ts", import.meta.url).pathname, "-o", `${dir}/mod.js`],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(bundle.success, new TextDecoder().decode(bundle.stderr));
    return await Deno.readTextFile(`${dir}/mod.js`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name:
    "browser: the bundled module runs in Chromium (initKernels, then WebAssembly SIMD) and matches Deno",
  ignore: !haveChromium && !inCi,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const code = await bundleLibrary();
    // Any page of ours will do as an origin; the module is served beside it.
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) =>
        new URL(req.url).pathname === "/mod.js"
          ? new Response(code, { headers: { "content-type": "text/javascript" } })
          : new Response("<!doctype html><title>lib</title>", {
            headers: { "content-type": "text/html" },
          }),
    );
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${server.addr.port}/`);
      const got = await page.evaluate(async () => {
        const lib = await import("/mod.js");
        const backend = await lib.initKernels();
        const x = lib.tensor(Float32Array.from({ length: 2 * 9 * 7 * 3 }, (_, i) => Math.sin(i)), [
          2,
          9,
          7,
          3,
        ]);
        const w = lib.tensor(Float32Array.from({ length: 3 * 3 * 3 * 5 }, (_, i) => Math.cos(i)), [
          3,
          3,
          3,
          5,
        ]);
        const { z, cache } = lib.convForward(x, w, new Float32Array([1, 2, 3, 4, 5]), {
          stride: 2,
          pad: 1,
        });
        const { dW } = lib.convBackward(z, cache);
        return { backend, z: [...z.data], dW: [...dW.data] };
      });
      assert.match(got.backend, /^wasm-(relaxed-)?simd$/);
      setBackend(got.backend as Backend);
      try {
        const x = tensor(Float32Array.from({ length: 2 * 9 * 7 * 3 }, (_, i) => Math.sin(i)), [
          2,
          9,
          7,
          3,
        ]);
        const w = tensor(Float32Array.from({ length: 3 * 3 * 3 * 5 }, (_, i) => Math.cos(i)), [
          3,
          3,
          3,
          5,
        ]);
        const { z, cache } = convForward(x, w, new Float32Array([1, 2, 3, 4, 5]), {
          stride: 2,
          pad: 1,
        });
        assert.deepEqual(got.z, [...z.data]);
        assert.deepEqual(got.dW, [...convBackward(z, cache).dW.data]);
      } finally {
        setBackend("wasm-relaxed-simd");
      }
    } finally {
      await browser.close();
      await server.shutdown();
    }
  },
});

Deno.test({
  name:
    "page: with an image classifier configured, a chosen photo gets the Worker's top-5 with bars",
  ignore: !haveChromium && !inCi,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const worker = await startWorkerd("tests/fixtures/wrangler-onnx.toml");
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    try {
      const photo = new URL("./fixtures/images/photo-3-baseline.jpg", import.meta.url);
      const bytes = await Deno.readFile(photo);
      const want = await (await fetch(new URL("/v1/predict?top=5", worker.url), {
        method: "POST",
        headers: { "content-type": "image/jpeg" },
        body: bytes,
      })).json();
      const page = await browser.newPage({ viewport: { width: 1000, height: 760 } });
      await page.goto(worker.url.href);
      await page.waitForFunction(() => document.body.dataset["mode"] === "photo", null, {
        timeout: 10_000,
      });
      assert.equal(await page.locator("#pad").isVisible(), false, "the drawing pad is hidden");
      assert.match((await page.locator("#title").textContent())!, /photo/);
      await page.locator("#photo-file").setInputFiles(photo.pathname);
      await page.waitForFunction(
        () => /^Read in/.test(document.getElementById("photo-status")!.textContent ?? ""),
        null,
        { timeout: 10_000 },
      );
      const shown = await page.locator("#top5 .track").evaluateAll((els) =>
        els.map((e) => ({
          label: (e as HTMLElement).dataset["label"],
          p: Number((e as HTMLElement).dataset["p"]),
        }))
      );
      assert.deepEqual(
        shown,
        want.top.map((t: { label: string; probability: number }) => ({
          label: t.label,
          p: t.probability,
        })),
      );
      assert.equal(shown.length, 5);
      await page.screenshot({ path: "test-results/photo.png", fullPage: true });
      // A file that is not an image: the page says what the server said.
      const notes = await Deno.makeTempFile({ suffix: ".png" });
      await Deno.writeTextFile(notes, "not an image");
      await page.locator("#photo-file").setInputFiles(notes);
      await Deno.remove(notes);
      await page.waitForFunction(
        () =>
          /Could not read the photo/.test(
            document.getElementById("photo-error")!.textContent ?? "",
          ),
        null,
        { timeout: 10_000 },
      );
    } finally {
      await browser.close();
      await worker.stop();
    }
  },
});

Deno.test({
  name:
    "browser: cross-origin isolated, the bundled module runs threaded in Chromium: same bits on 1 and every thread, and as Deno",
  ignore: !haveChromium && !inCi,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const code = await bundleLibrary();
    const isolation = {
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    };
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) =>
        new URL(req.url).pathname === "/mod.js"
          ? new Response(code, { headers: { "content-type": "text/javascript", ...isolation } })
          : new Response("<!doctype html><title>lib</title>", {
            headers: { "content-type": "text/html", ...isolation },
          }),
    );
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${server.addr.port}/`);
      const got = await page.evaluate(async () => {
        const lib = await import("/mod.js");
        const backend = await lib.initKernels();
        const threads = lib.getThreads();
        const x = lib.tensor(
          Float32Array.from({ length: 12 * 20 * 20 * 4 }, (_, i) => Math.sin(i * 0.37)),
          [12, 20, 20, 4],
        );
        const w = lib.tensor(
          Float32Array.from({ length: 3 * 3 * 4 * 16 }, (_, i) => Math.cos(i)),
          [3, 3, 4, 16],
        );
        const run = () => {
          const { z, cache } = lib.convForward(x, w, new Float32Array(16), { stride: 1, pad: 1 });
          const g = lib.convBackward(z, cache);
          return [[...z.data], [...g.dAPrev.data], [...g.dW.data], [...g.db]];
        };
        // Whether a worker wins a share of one call is timing: repeat until one has (or give up).
        let many = run();
        for (let i = 0; i < 200 && lib.kernelThreadStats().workerTasks === 0; i++) many = run();
        const workerTasks = lib.kernelThreadStats().workerTasks;
        lib.setThreads(1);
        const one = run();
        return {
          backend,
          threads,
          isolated: crossOriginIsolated,
          cores: navigator.hardwareConcurrency,
          workerTasks,
          many,
          one,
        };
      });
      assert.equal(got.isolated, true);
      assert.equal(got.threads, Math.min(16, got.cores));
      assert.ok(got.threads >= 2, `Chromium reports ${got.cores} cores`);
      assert.ok(got.workerTasks > 0, `workers ran ${got.workerTasks} tasks`);
      assert.deepEqual(got.many, got.one, "1 thread and every thread give the same bits");
      setBackend(got.backend as Backend);
      try {
        const x = tensor(
          Float32Array.from({ length: 12 * 20 * 20 * 4 }, (_, i) => Math.sin(i * 0.37)),
          [12, 20, 20, 4],
        );
        const w = tensor(
          Float32Array.from({ length: 3 * 3 * 4 * 16 }, (_, i) => Math.cos(i)),
          [3, 3, 4, 16],
        );
        const { z, cache } = convForward(x, w, new Float32Array(16), { stride: 1, pad: 1 });
        const g = convBackward(z, cache);
        assert.deepEqual(got.one, [[...z.data], [...g.dAPrev.data], [...g.dW.data], [...g.db]]);
      } finally {
        setBackend("wasm-relaxed-simd");
      }
    } finally {
      await browser.close();
      await server.shutdown();
    }
  },
});

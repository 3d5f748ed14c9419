/**
 * The README's "Serve a torchvision classifier" walk, step by step:
 * scripts/serve_torchvision.py exports MobileNetV2 (seeded random weights:
 * no downloads here) with its wrangler config, real workerd serves it, and a
 * photo gets the top-5 with ImageNet's names, equal to the same pipeline run
 * in Deno (so the config's preprocessing, labels and mean/std are applied).
 * Needs Debian's PyTorch; skips without it, except under CI=true.
 */
import assert from "node:assert/strict";
import { loadOnnx, softmax } from "../mod.ts";
import { decodeImage, IMAGENET, imageToTensor } from "../src/image/mod.ts";
import { PYTHON } from "../scripts/_zoo.ts";
import { startWorkerd } from "./_workerd.ts";

const inCi = Deno.env.get("CI") === "true";
let torch = false;
try {
  torch = new Deno.Command(PYTHON, { args: ["-c", "import torchvision"], stderr: "null" })
    .outputSync().success;
} catch { /* no python */ }
if (!torch && !inCi) {
  console.log(
    "serve_torchvision_test: skipped (needs Debian's PyTorch: apt-get install python3-torchvision; CI installs it)",
  );
}

Deno.test({
  name:
    "serve_torchvision.py: a torchvision export served by workerd answers a photo with its top-5",
  ignore: !torch && !inCi,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "convnet-serve-tv-" });
    try {
      const script = new URL("../scripts/serve_torchvision.py", import.meta.url).pathname;
      const out = await new Deno.Command(PYTHON, {
        args: [script, "mobilenet_v2", "--weights", "random", "--out", dir],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const config = `${dir}/wrangler.mobilenet_v2.toml`;
      const toml = await Deno.readTextFile(config);
      assert.match(toml, /MODEL_PREPROCESS = "center-crop"/);
      const photo = await Deno.readFile(
        new URL("./fixtures/images/photo-3-baseline.jpg", import.meta.url),
      );
      // The same pipeline in Deno: decode, Resize(256), CenterCrop(224), Normalize, softmax.
      const model = loadOnnx(await Deno.readFile(`${dir}/mobilenet_v2.onnx`));
      const x = imageToTensor(await decodeImage(photo, { minSize: 256, channels: 3 }), {
        size: [224, 224],
        mode: "center-crop",
        resize: 256,
        ...IMAGENET,
      });
      const p = softmax(model.predict(x)).data;
      // The answer's order: probabilities rounded to 6 digits as sent, ties to the lower class.
      const r = Array.from(p, (v) => Number(v.toFixed(6)));
      const order = Array.from(r.keys()).sort((a, b) => r[b]! - r[a]! || a - b);

      const worker = await startWorkerd(config);
      try {
        const m = await (await fetch(new URL("/v1/model", worker.url))).json();
        assert.equal(m.name, "mobilenet_v2");
        assert.equal(m.input.preprocess, "center-crop");
        assert.equal(m.labels.length, 1000);
        assert.equal(m.labels[0], "tench");
        const res = await fetch(new URL("/v1/predict?top=5", worker.url), {
          method: "POST",
          headers: { "content-type": "image/jpeg" },
          body: photo,
        });
        const body = await res.json();
        assert.equal(res.status, 200, JSON.stringify(body));
        assert.equal(body.top.length, 5);
        assert.deepEqual(
          body.top.map((t: { class: number }) => t.class),
          order.slice(0, 5),
        );
        // The input the model saw (?explain=1: before mean/std) is the pipeline's, value by value.
        const seen = await (await fetch(new URL("/v1/predict?explain=1", worker.url), {
          method: "POST",
          headers: { "content-type": "image/jpeg" },
          body: photo,
        })).json();
        const raw = imageToTensor(await decodeImage(photo, { minSize: 256, channels: 3 }), {
          size: [224, 224],
          mode: "center-crop",
          resize: 256,
        }).data;
        assert.equal(seen.input.length, raw.length);
        let worst = 0;
        for (let i = 0; i < raw.length; i++) {
          worst = Math.max(worst, Math.abs(seen.input[i] - raw[i]!));
        }
        assert.ok(worst <= 5e-5, `input differs by ${worst}`);
        for (const t of body.top) {
          assert.equal(t.label, m.labels[t.class]);
          assert.ok(
            Math.abs(t.probability - p[t.class]!) < 1e-5,
            `${t.probability} vs ${p[t.class]}`,
          );
        }
      } finally {
        await worker.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

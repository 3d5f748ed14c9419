/**
 * torchvision 0.14's architectures (and its segmentation heads, and a small
 * net per interpolation mode), exported by `scripts/zoo_fixtures.py` with
 * seeded random weights and non-trivial BatchNorm statistics: each loads,
 * matches PyTorch within 1e-4 (max abs error over max abs output) on every
 * backend at batch 2 and batch 1, and fine-tunes with `fit` (a step changes
 * the weights and the loss falls). The exports are large: they are made
 * once into a cache (`.cache/zoo`, or `CONVNET_ZOO_CACHE`) with Debian's
 * PyTorch; without it these tests skip with a message, except under CI=true.
 */
import assert from "node:assert/strict";
import {
  availableBackends,
  fit,
  loadOnnx,
  nchwToNhwc,
  nhwcToNchw,
  SGD,
  type Tensor,
  tensor,
} from "../mod.ts";
import { withBackend } from "./_helpers.ts";
import {
  exportZoo,
  PYTHON,
  ZOO_ARCHITECTURES,
  ZOO_CACHE,
  ZOO_INTERPOLATION,
} from "../scripts/_zoo.ts";

const inCi = Deno.env.get("CI") === "true";
const ZOO = [...ZOO_ARCHITECTURES, ...ZOO_INTERPOLATION];

function haveTorchvision(): boolean {
  try {
    return new Deno.Command(PYTHON, { args: ["-c", "import torchvision"], stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const torch = haveTorchvision();
if (!torch && !inCi) {
  console.log(
    "zoo_test: skipped (needs Debian's PyTorch: apt-get install python3-torchvision; CI installs it)",
  );
}

let ready: Promise<void> | null = null;
/** Exports every missing architecture once. */
function exportAll(): Promise<void> {
  return ready ??= exportZoo(ZOO);
}

interface Fixture {
  input: number[];
  shape: number[];
  output: number[];
  outputShape: number[];
}

/** max |a − b| over max |b|, with NaN counted as a failure. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    d = Number.isNaN(e) ? Infinity : Math.max(d, e);
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / Math.max(m, 1e-30);
}

const theirs = (y: Tensor) => (y.shape.length === 4 ? nhwcToNchw(y) : y);

for (const name of ZOO) {
  Deno.test({
    name:
      `zoo ${name}: loads, matches PyTorch (1e-4) on every backend at batch 2 and 1, and fine-tunes`,
    ignore: !torch && !inCi,
    fn: async () => {
      assert.ok(torch, "CI=true but Debian's python3-torchvision is not installed");
      await exportAll();
      const fx: Fixture = JSON.parse(await Deno.readTextFile(`${ZOO_CACHE}/${name}.json`));
      const model = loadOnnx(await Deno.readFile(`${ZOO_CACHE}/${name}.onnx`));
      const x = nchwToNhwc(tensor(Float32Array.from(fx.input), fx.shape));
      const want = Float32Array.from(fx.output), per = want.length / 2;
      const first = { shape: [1, ...x.shape.slice(1)], data: x.data.slice(0, x.data.length / 2) };
      for (const be of availableBackends()) {
        withBackend(be, () => {
          const y = theirs(model.predict(x));
          assert.deepEqual(y.shape, fx.outputShape, `${name} on ${be}: output shape`);
          const e2 = relErr(y.data, want);
          assert.ok(e2 <= 1e-4, `${name} on ${be}, batch 2: error ${e2.toExponential(2)}`);
          const e1 = relErr(theirs(model.predict(first)).data, want.subarray(0, per));
          assert.ok(e1 <= 1e-4, `${name} on ${be}, batch 1: error ${e1.toExponential(2)}`);
        });
      }
      // Fine-tuning: two images, their labels (per pixel for the dense heads).
      const out = model.outputShape;
      const labels = out.length === 1
        ? [0, 1]
        : Array.from({ length: 2 * out[0]! * out[1]! }, (_, i) => (i * 7 + (i >> 3)) % out[2]!);
      const before = model.params().map((p) => p.value.slice());
      const h = fit(model, { x, labels }, {
        epochs: 3,
        batchSize: 2,
        shuffle: false,
        optimizer: new SGD({ lr: 0.01 }),
        clipNorm: 1,
      });
      const moved = model.params().some((p, i) => p.value.some((v, k) => v !== before[i]![k]));
      assert.ok(moved, `${name}: a step left every weight as it was`);
      const losses = h.epochs.map((e) => e.loss);
      assert.ok(losses[2]! < losses[0]!, `${name}: the loss did not fall: ${losses.join(", ")}`);
    },
  });
}

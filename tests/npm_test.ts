/**
 * The npm package, as a Node user gets it: `deno task build:npm`, `npm pack`,
 * installed from the tarball into a fresh Node project, imported by an ESM
 * script run with `node` (which lacks relaxed SIMD, so it picks the plain
 * SIMD build and must compute what Deno computes on that build, bit for bit),
 * and type-checked as a `.ts` consumer with `tsc --strict --module nodenext`
 * and the other strict flags. Needs `node` and `npm` on the PATH: skipped
 * with a message without them, except under CI=true where it must run.
 */
import assert from "node:assert/strict";
import { convForward, Dense, fit, loadModel, Sequential, setBackend, SGD, tensor } from "../mod.ts";

const root = new URL("../", import.meta.url);
const has = (cmd: string) =>
  new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" }).output().then(
    (o) => o.success,
    () => false,
  );
const ready = (await has("node")) && (await has("npm"));
if (!ready) {
  if (Deno.env.get("CI") === "true") {
    throw new Error("npm_test: node and npm are required under CI");
  }
  console.warn("npm_test: node or npm not found, skipping");
}

async function run(cmd: string, args: string[], cwd: string | URL): Promise<string> {
  // A process that does not exit by itself (a thread pool holding it open) fails, not hangs.
  const signal = AbortSignal.timeout(240_000);
  const o = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped", signal })
    .output();
  const text = new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
  if (!o.success) throw new Error(`${cmd} ${args.join(" ")} failed:\n${text}`);
  return new TextDecoder().decode(o.stdout);
}

const SMOKE = `
import { readFileSync } from "node:fs";
import { availableBackends, getBackend, convForward, convBackward, loadModel, tensor, Sequential, fit, SGD, getThreads, setThreads, initKernels, kernelThreadStats } from "@convnet/wasm";
import { Dense } from "@convnet/wasm/layers";
import { assertTensorClose } from "@convnet/wasm/testing";
import pkg from "@convnet/wasm/package.json" with { type: "json" };
const x = tensor(Float32Array.from({ length: 2 * 9 * 7 * 3 }, (_, i) => Math.sin(i)), [2, 9, 7, 3]);
const w = tensor(Float32Array.from({ length: 3 * 3 * 3 * 5 }, (_, i) => Math.cos(i)), [3, 3, 3, 5]);
const z = convForward(x, w, new Float32Array([1, 2, 3, 4, 5]), { stride: 2, pad: 1 }).z;
const ones = convForward(tensor(new Float32Array(25).fill(1), [1, 5, 5, 1]), tensor(new Float32Array(9).fill(1), [3, 3, 1, 1]), new Float32Array(1), { stride: 1, pad: 1 }).z;
const model = loadModel(new Uint8Array(readFileSync(process.argv[2])));
const logits = model.predict(tensor(Float32Array.from({ length: 784 }, (_, i) => (i % 13) / 13), [1, 28, 28, 1]));
const small = new Sequential([new Dense({ units: 2 })], [2], { seed: 4 });
fit(small, { x: tensor([1, 0, 0, 1, 1, 0.2, 0.1, 1], [4, 2]), labels: [0, 1, 0, 1] }, { epochs: 3, batchSize: 3, optimizer: new SGD({ lr: 0.3 }) });
let caught = "";
try { assertTensorClose([1, NaN], [1, 1], 1); } catch (e) { caught = e.name; }
// Threads: the default, then 1 and 2 threads must give the same bits, and workers must run.
await initKernels();
const threadsDefault = getThreads();
const bx = tensor(Float32Array.from({ length: 12 * 20 * 20 * 4 }, (_, i) => Math.sin(i * 0.37)), [12, 20, 20, 4]);
const bw = tensor(Float32Array.from({ length: 3 * 3 * 4 * 16 }, (_, i) => Math.cos(i)), [3, 3, 4, 16]);
const both = () => {
  const r = convForward(bx, bw, new Float32Array(16), { stride: 1, pad: 1 });
  const g = convBackward(r.z, r.cache);
  return [r.z.data, g.dAPrev.data, g.dW.data, g.db];
};
setThreads(1);
const one = both();
setThreads(2);
await initKernels();
const workersUp = kernelThreadStats().workers;
const before = kernelThreadStats().workerTasks;
// Whether the worker wins a share of one call is timing (the caller takes tasks too): repeat
// until it has, within reason; a pool that never runs anything still fails.
let two = both(), calls = 1;
while (kernelThreadStats().workerTasks === before && calls < 200) {
  two = both();
  calls++;
}
const workerTasks = kernelThreadStats().workerTasks - before;
const sameBits = one.every((a, i) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
  Buffer.from(two[i].buffer, two[i].byteOffset, two[i].byteLength)));
console.log(JSON.stringify({
  version: pkg.version, backends: availableBackends(), active: getBackend(), ones: [...ones.data],
  z: [...z.data], logits: [...logits.data], small: small.params().map((p) => [...p.value]), caught,
  threadsDefault, workersUp, workerTasks, calls, sameBits,
}));
`;

const CONSUMER = `
import { Conv2D, Sequential, tensor, type Tensor, fit, Adam, type EpochLog } from "@convnet/wasm";
import { assertTensorClose } from "@convnet/wasm/testing";
import { convForward } from "@convnet/wasm/ops";
const model: Sequential = new Sequential([new Conv2D({ filters: 2, kernelSize: 3 })], [4, 4, 1]);
const x: Tensor = tensor(new Float32Array(16), [1, 4, 4, 1]);
const shape: readonly number[] = model.predict(x).shape;
const first: number | undefined = shape[0];
const logs: EpochLog[] = [];
const z = convForward(x, tensor(new Float32Array(9), [3, 3, 1, 1]), new Float32Array(1), { stride: 1, pad: 0 }).z;
assertTensorClose(z, z, 0);
void fit; void Adam; void logs; void first;
`;

Deno.test({
  name:
    "npm: pack, install in a fresh Node project, run ESM (numbers match Deno) and type-check strictly",
  ignore: !ready,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "convnet-npm-" });
  try {
    await run(Deno.execPath(), ["run", "-A", "scripts/build_npm.ts", "--out", `${dir}/pkg`], root);
    const packed = JSON.parse(
      await run("npm", ["pack", "--json", "--pack-destination", dir, `${dir}/pkg`], root),
    );
    const files: string[] = packed[0].files.map((f: { path: string }) => f.path);
    assert.ok(files.includes("mod.js") && files.includes("mod.d.ts") && files.includes("LICENSE"));
    assert.ok(files.includes("src/wasm/kernels-simd.wasm"));
    assert.ok(
      !files.some((f) => f.startsWith("tests/") || f.endsWith(".ts") && !f.endsWith(".d.ts")),
      files.join(" "),
    );
    const tarball = `${dir}/${packed[0].filename}`;

    const app = `${dir}/app`;
    await Deno.mkdir(app);
    await Deno.writeTextFile(
      `${app}/package.json`,
      JSON.stringify({ name: "app", private: true, type: "module" }),
    );
    await run("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], app);

    // Run: Node picks plain SIMD and must agree with Deno on that build bit for bit.
    await Deno.writeTextFile(`${app}/smoke.mjs`, SMOKE);
    const modelPath = new URL("models/mnist.safetensors", root).pathname;
    const got = JSON.parse(await run("node", ["smoke.mjs", modelPath], app));
    assert.equal(
      got.version,
      JSON.parse(await Deno.readTextFile(new URL("deno.json", root))).version,
    );
    assert.equal(got.active, "wasm-simd");
    assert.deepEqual(got.ones, [
      4,
      6,
      6,
      6,
      4,
      6,
      9,
      9,
      9,
      6,
      6,
      9,
      9,
      9,
      6,
      6,
      9,
      9,
      9,
      6,
      4,
      6,
      6,
      6,
      4,
    ]);
    assert.equal(got.caught, "AssertionError");
    // Node threads: every core by default; 2 threads equal 1 bit for bit, and workers ran.
    const cores = Number(
      await run("node", ["-p", "require('node:os').availableParallelism()"], app),
    );
    assert.equal(got.threadsDefault, Math.min(16, cores));
    assert.equal(got.sameBits, true);
    assert.equal(got.workersUp, Math.min(16, cores) - 1, "workers up");
    assert.ok(got.workerTasks > 0, `workers ran ${got.workerTasks} tasks in ${got.calls} calls`);
    setBackend("wasm-simd");
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
      const z = convForward(x, w, new Float32Array([1, 2, 3, 4, 5]), { stride: 2, pad: 1 }).z;
      assert.deepEqual(got.z, [...z.data]);
      const model = loadModel(await Deno.readFile(modelPath));
      const logits = model.predict(
        tensor(Float32Array.from({ length: 784 }, (_, i) => (i % 13) / 13), [1, 28, 28, 1]),
      );
      assert.deepEqual(got.logits, [...logits.data]);
      const small = new Sequential([new Dense({ units: 2 })], [2], { seed: 4 });
      fit(small, { x: tensor([1, 0, 0, 1, 1, 0.2, 0.1, 1], [4, 2]), labels: [0, 1, 0, 1] }, {
        epochs: 3,
        batchSize: 3,
        optimizer: new SGD({ lr: 0.3 }),
      });
      assert.deepEqual(got.small, small.params().map((p) => [...p.value]));
    } finally {
      setBackend("wasm-relaxed-simd");
    }

    // Type-check a strict TypeScript consumer, and show that the check can fail.
    const tsconfig = {
      compilerOptions: {
        strict: true,
        noUncheckedIndexedAccess: true,
        noPropertyAccessFromIndexSignature: true,
        exactOptionalPropertyTypes: true,
        noImplicitOverride: true,
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        lib: ["es2022"],
        types: ["node"],
        typeRoots: [new URL("node_modules/@types", root).pathname],
        noEmit: true,
      },
      files: ["consumer.ts"],
    };
    await Deno.writeTextFile(`${app}/tsconfig.json`, JSON.stringify(tsconfig));
    await Deno.writeTextFile(`${app}/consumer.ts`, CONSUMER);
    const tsc = new URL("node_modules/typescript/bin/tsc", root).pathname;
    await run("node", [tsc, "-p", "tsconfig.json"], app);
    await Deno.writeTextFile(`${app}/consumer.ts`, CONSUMER + `\ntensor("oops", [1]);\n`);
    await assert.rejects(() => run("node", [tsc, "-p", "tsconfig.json"], app), /TS2345/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

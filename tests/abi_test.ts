/**
 * The kernels' binary interface is one declaration (`src/backend/_abi.ts`):
 * every build exports exactly the declared functions with the declared
 * arities, the AssemblyScript side is what `scripts/gen_abi.ts` writes from
 * it, and the low-memory layout leaves the module's own data alone.
 */
import assert from "node:assert/strict";
import {
  BASE,
  CONV_AT,
  CONV_GEO,
  CTL,
  GEO,
  GEO_BYTES,
  KERNELS,
  POOL_GEO,
  TASK_FNS,
  TASK_ID,
  TASK_INTS,
  TASK_TABLE,
} from "../src/backend/_abi.ts";
import { renderAbi, renderIndex } from "../scripts/gen_abi.ts";

const BUILDS = [
  "kernels-simd.wasm",
  "kernels-relaxed-simd.wasm",
  "kernels-simd-threads.wasm",
  "kernels-relaxed-simd-threads.wasm",
];
const wasmDir = new URL("../src/wasm/", import.meta.url);

/** Reads an unsigned LEB128 at `p`: the value and the position after it. */
function leb(b: Uint8Array, p: number): [number, number] {
  let r = 0, shift = 0, x: number;
  do {
    x = b[p++]!;
    r += (x & 0x7f) * 2 ** shift;
    shift += 7;
  } while (x & 0x80);
  return [r, p];
}

/** The byte ranges of a module's active data segments (offsets given by an `i32.const`). */
function dataSegments(b: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  let p = 8;
  while (p < b.length) {
    const id = b[p++]!;
    let size: number;
    [size, p] = leb(b, p);
    const end = p + size;
    if (id === 11) {
      let count: number;
      [count, p] = leb(b, p);
      for (let i = 0; i < count; i++) {
        let flag: number, at = -1, n: number;
        [flag, p] = leb(b, p);
        if (flag === 2) [, p] = leb(b, p); // memory index
        if (flag !== 1) {
          assert.equal(b[p], 0x41, "a data segment's offset is an i32.const");
          [at, p] = leb(b, p + 1); // small non-negative offsets: the signed and unsigned forms agree
          assert.equal(b[p], 0x0b);
          p++;
        }
        [n, p] = leb(b, p);
        if (at >= 0) out.push([at, at + n]);
        p += n;
      }
    }
    p = end;
  }
  return out;
}

for (const file of BUILDS) {
  Deno.test(`${file} exports exactly the declared kernels, each with its declared arguments`, () => {
    const bytes = Deno.readFileSync(new URL(file, wasmDir));
    const mod = new WebAssembly.Module(bytes);
    const fns = WebAssembly.Module.exports(mod).filter((e) => e.kind === "function").map((e) =>
      e.name
    );
    assert.deepEqual([...fns].sort(), Object.keys(KERNELS).sort());
    const threaded = WebAssembly.Module.imports(mod).some((i) => i.kind === "memory");
    const memory = threaded
      ? new WebAssembly.Memory({ initial: 1, maximum: 32768, shared: true })
      : undefined;
    const ex = new WebAssembly.Instance(mod, memory ? { env: { memory } } : {}).exports;
    for (const [name, d] of Object.entries(KERNELS)) {
      assert.equal((ex[name] as (...a: number[]) => unknown).length, d.args.length, name);
    }
    // Everything the module keeps in memory itself lies below the host's geometry block.
    for (const [, end] of dataSegments(bytes)) {
      assert.ok(end <= GEO, `a data segment ends at ${end}`);
    }
  });
}

Deno.test("the AssemblyScript side of the interface is what scripts/gen_abi.ts writes (run deno task gen:kernels if not)", () => {
  const dir = new URL("../src/wasm/assembly/", import.meta.url);
  assert.equal(Deno.readTextFileSync(new URL("abi.ts", dir)), renderAbi());
  assert.equal(Deno.readTextFileSync(new URL("index.ts", dir)), renderIndex());
});

Deno.test("the low-memory layout: blocks fit, do not overlap, and task rows hold every task's arguments", () => {
  assert.ok(CONV_GEO.length * 4 <= GEO_BYTES && POOL_GEO.length * 4 <= GEO_BYTES);
  assert.equal(CONV_AT.M, CONV_GEO.length - 1);
  assert.ok(GEO + GEO_BYTES <= CTL, "the geometry block ends before the thread control words");
  assert.ok(TASK_TABLE < BASE && BASE % 16 === 0);
  assert.deepEqual(TASK_FNS.map((n) => TASK_ID[n]), TASK_FNS.map((_, i) => i));
  for (const n of TASK_FNS) assert.ok(KERNELS[n].args.length <= TASK_INTS - 2, n);
  // Functions only the host calls are not tasks.
  assert.ok(!(TASK_FNS as readonly string[]).includes("setScratch"));
  assert.ok(!(TASK_FNS as readonly string[]).includes("tileRows"));
});

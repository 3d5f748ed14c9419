/**
 * Measures this core's 128-bit FMA peak in GFLOP/s by compiling and timing
 * `bench/peak.as.ts`.
 *
 * @module
 */

/** Compiles the FMA loop with the pinned AssemblyScript and returns the measured peak. */
export async function measurePeak(): Promise<number> {
  const out = await Deno.makeTempFile({ suffix: ".wasm" });
  const src = new URL("./peak.as.ts", import.meta.url).pathname;
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "npm:assemblyscript@0.28.20/asc",
      src,
      "--runtime",
      "stub",
      "-O3",
      "--enable",
      "simd",
      "--enable",
      "relaxed-simd",
      "-o",
      out,
    ],
    stdout: "null",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error("could not build bench/peak.as.ts");
  const mod = new WebAssembly.Module(await Deno.readFile(out));
  await Deno.remove(out);
  const { fmaLoop } = new WebAssembly.Instance(mod, {}).exports as {
    fmaLoop(n: number, seed: number): number;
  };
  const iters = 20_000_000;
  // Many short calls first: V8 has no on-stack replacement for WebAssembly, so a function only
  // runs optimised code from the call after its tier-up.
  for (let i = 0; i < 200; i++) fmaLoop(10_000, 1);
  await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < 200; i++) fmaLoop(10_000, 1);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    fmaLoop(iters, 1);
    best = Math.min(best, performance.now() - t0);
  }
  // 12 FMAs × 4 lanes × 2 flops per iteration.
  return (iters * 12 * 4 * 2) / (best * 1e6);
}

/**
 * Seeded fuzzing of the library API: random calls that mix valid and invalid
 * shapes, hyper-parameters (0, negative, fractional, NaN, huge), lengths and
 * modes. Each call must either return what the plain TypeScript reference
 * returns (same shape, values within 1e-4 relative) or throw a `TypeError` or
 * `RangeError` (the documented types; `KernelMemoryError` is a `RangeError`).
 * A WebAssembly trap, any other error, or a silently wrong shape is a failure.
 *
 * @module
 */

import {
  type Backend,
  convBackward,
  convForward,
  convSingleStep,
  convTransposeBackward,
  convTransposeForward,
  createMaskFromWindow,
  distributeValue,
  KernelMemoryError,
  poolBackward,
  poolForward,
  setBackend,
  type Tensor,
  tensor,
  zeroPad,
} from "../../mod.ts";
import { mulberry32 } from "../../src/core/random.ts";
import { compareArrays } from "../../src/testing/mod.ts";

/** What a fuzz run found. */
export interface FuzzReport {
  /** Calls made. */
  calls: number;
  /** Calls that returned a result equal to the reference. */
  agreed: number;
  /** Calls rejected with a TypeError or RangeError. */
  rejected: number;
  /** Descriptions of calls that broke the rules (empty when all is well). */
  failures: string[];
}

const WEIRD = [0, -1, 1.5, NaN, Infinity, -Infinity, 1e9, 2 ** 31, "2", null, undefined];

/** Runs `count` random calls per backend in `backends` from `seed`. */
export function fuzzApi(seed: number, count: number, backends: readonly Backend[]): FuzzReport {
  const seeds = mulberry32(seed);
  const report: FuzzReport = { calls: 0, agreed: 0, rejected: 0, failures: [] };
  for (let i = 0; i < count; i++) {
    // The call is built twice from the same seed: once for the backend, once for the reference.
    const callSeed = Math.floor(seeds() * 2 ** 32);
    for (const backend of backends) {
      report.calls++;
      const { what, run } = makeCall(mulberry32(callSeed));
      const got = outcome(run, backend);
      const want = outcome(makeCall(mulberry32(callSeed)).run, "js");
      const failure = judge(got, want);
      if (failure === "rejected") report.rejected++;
      else if (failure === "") report.agreed++;
      else report.failures.push(`[${backend}] ${what}: ${failure}`);
    }
  }
  return report;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

function outcome(run: () => unknown, backend: Backend): Outcome {
  setBackend(backend);
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** "" if the results agree, "rejected" for a documented rejection, else what is wrong. */
function judge(got: Outcome, want: Outcome): string {
  if (!got.ok) {
    const e = got.error;
    if (!(e instanceof TypeError || e instanceof RangeError)) {
      return `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
    }
    // A WebAssembly backend may hit its memory ceiling where plain TypeScript does not.
    if (want.ok && !(e instanceof KernelMemoryError)) {
      return `threw ${e.name} (${e.message}) but the reference returned a result`;
    }
    return "rejected";
  }
  if (!want.ok) return `returned a result but the reference threw ${String(want.error)}`;
  const a = flatten(got.value), b = flatten(want.value);
  if (a.shapes !== b.shapes) return `shapes ${a.shapes} but the reference gives ${b.shapes}`;
  for (let k = 0; k < a.values.length; k++) {
    const va = a.values[k]!, vb = b.values[k]!;
    const c = compareArrays(va, vb, 1e-6);
    if (!(c.error <= 1e-4)) {
      return `output ${k} differs by ${c.error} of its scale ${c.scale} at index ${c.index}`;
    }
  }
  return "";
}

function flatten(v: unknown): { shapes: string; values: Float32Array[] } {
  if (v instanceof Float32Array) return { shapes: `[${v.length}]`, values: [v] };
  if (typeof v === "number") return { shapes: "number", values: [Float32Array.of(v)] };
  const o = v as Record<string, unknown>;
  if (o && "shape" in o && "data" in o) {
    return { shapes: `[${o["shape"]}]`, values: [o["data"] as Float32Array] };
  }
  const parts = Object.keys(o).filter((k) => k !== "cache").sort().map((k) => ({
    k,
    ...flatten(o[k]),
  }));
  return {
    shapes: parts.map((p) => `${p.k}:${p.shapes}`).join(" "),
    values: parts.flatMap((p) => p.values),
  };
}

/** One random call, built from `r` alone: returns a thunk and a description. */
function makeCall(r: () => number): { what: string; run: () => unknown } {
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const arr = (n: number) => Float32Array.from({ length: n }, () => r() * 2 - 1);

  /** A tensor of `shape`, sometimes broken (wrong length, rank, dims, data type). */
  function maybeBad(shape: number[], bad: boolean): Tensor {
    const n = shape.reduce((p, v) => p * v, 1);
    if (!bad) return tensor(arr(n), shape);
    switch (int(0, 5)) {
      case 0:
        return { shape, data: arr(n + pick([1, -1, 7])) };
      case 1:
        return { shape: shape.slice(0, 3), data: arr(n) };
      case 2: {
        const s = [...shape];
        s[int(0, 3)] = pick(WEIRD) as number;
        return { shape: s, data: arr(Math.max(0, n)) };
      }
      case 3:
        return { shape, data: Array.from(arr(n)) as unknown as Float32Array };
      case 4:
        return { shape: [...shape, 1], data: arr(n) };
      default:
        return null as unknown as Tensor;
    }
  }

  {
    const bad = r() < 0.35; // about a third of the calls break one rule
    const m = int(1, 3), H = int(1, 10), W = int(1, 10), c = int(1, 9), cOut = int(1, 9);
    const f = int(1, 5), stride = int(1, 3), pad = int(0, 2);
    const which = int(0, 9);
    // Half the calls use the general geometry: per-axis pairs, padding forms, dilation, groups.
    const general = r() < 0.5;
    const groups = general ? pick([1, 1, 2, 3]) : 1;
    const cg = general ? groups * int(1, 3) : c, cOutG = general ? groups * int(1, 3) : cOut;
    const pair = (lo: number, hi: number) => (r() < 0.5 ? int(lo, hi) : [int(lo, hi), int(lo, hi)]);
    const padding = () =>
      pick([
        () => int(0, 2),
        () => [int(0, 2), int(0, 2)],
        () => [int(0, 3), int(0, 3), int(0, 3), int(0, 3)],
        () => "same",
        () => "valid",
      ])();
    const hpBad = bad && r() < 0.5;
    const bent = <T>(v: T): T => (hpBad && r() < 0.5 ? pick(WEIRD) as T : v);
    switch (which) {
      case 0:
      case 1: {
        const x = maybeBad([m, H, W, cg], bad && !hpBad && r() < 0.5);
        const fW = general ? int(1, 4) : f;
        const cIn = cg / groups;
        const w = maybeBad([f, fW, bad && r() < 0.2 ? cIn + 1 : cIn, cOutG], false);
        const b = bad && r() < 0.2 ? arr(cOutG + 1) : arr(cOutG);
        const hp: Record<string, unknown> = general
          ? {
            stride: bent(pair(1, 3)),
            pad: bent(padding()),
            dilation: bent(pair(1, 3)),
            groups: bent(groups),
          }
          : { stride: bent(stride), pad: bent(pad) };
        const what = `convForward x[${x?.shape}] w[${w.shape}] b${b.length} ${JSON.stringify(hp)}`;
        if (which === 0) return { what, run: () => convForward(x, w, b, hp as never) };
        return {
          what: `convBackward after ${what}`,
          run: () => {
            const { z, cache } = convForward(x, w, b, hp as never);
            const dZ = bad && r() < 0.3
              ? tensor(arr(z.data.length + 1), [z.data.length + 1])
              : tensor(arr(z.data.length), z.shape);
            return convBackward(dZ, cache);
          },
        };
      }
      case 2:
      case 3: {
        const x = maybeBad([m, H, W, c], bad && !hpBad && r() < 0.5);
        const hp: Record<string, unknown> = general
          ? {
            f: bent(pair(1, 3)),
            stride: bent(pair(1, 3)),
            pad: bent(pick([0, 1, [1, 0], [0, 1, 1, 0], "same"])),
            dilation: bent(pair(1, 2)),
            ceilMode: bent(r() < 0.5),
            countIncludePad: bent(r() < 0.5),
          }
          : { f: bent(Math.min(f, H, W)), stride: bent(stride) };
        const mode = bad && r() < 0.2 ? pick(["min", "mean", 3, null]) : pick(["max", "average"]);
        const what = `poolForward x[${x?.shape}] ${JSON.stringify(hp)} ${String(mode)}`;
        if (which === 2) {
          return {
            what,
            run: () => poolForward(x, hp as { f: number; stride: number }, mode as "max"),
          };
        }
        return {
          what: `poolBackward after ${what}`,
          run: () => {
            const { a, cache } = poolForward(x, hp as { f: number; stride: number }, mode as "max");
            const dA = bad && r() < 0.3
              ? tensor(arr(a.data.length), [1, 1, 1, a.data.length])
              : tensor(arr(a.data.length), a.shape);
            return poolBackward(dA, cache);
          },
        };
      }
      case 4: {
        const x = maybeBad([m, H, W, c], bad && r() < 0.5);
        const p = bent(pad);
        return { what: `zeroPad x[${x?.shape}] ${String(p)}`, run: () => zeroPad(x, p) };
      }
      case 5: {
        const n = int(bad ? 0 : 1, 30);
        const b = bent(r());
        return {
          what: `convSingleStep n${n} b${String(b)}`,
          run: () => convSingleStep(arr(n), bad && r() < 0.3 ? arr(n + 1) : arr(n), b as number),
        };
      }
      case 6: {
        const n = int(bad ? 0 : 1, 30);
        return { what: `createMaskFromWindow n${n}`, run: () => createMaskFromWindow(arr(n)) };
      }
      case 8:
      case 9: {
        const x = maybeBad([m, int(1, 6), int(1, 6), cg], bad && !hpBad && r() < 0.5);
        const st = pair(1, 3);
        const sv = typeof st === "number" ? [st, st] : st;
        const hp: Record<string, unknown> = {
          stride: bent(st),
          pad: bent(pick([0, 1, [1, 0], [0, 1, 1, 0], "same"])),
          outputPadding: bent(r() < 0.5 ? 0 : [int(0, sv[0]! - 1), int(0, sv[1]! - 1)]),
          dilation: bent(pair(1, 2)),
          groups: bent(groups),
        };
        const w = maybeBad([f, general ? int(1, 4) : f, cOutG / groups, cg], bad && r() < 0.2);
        const b = arr(cOutG);
        const what = `convTransposeForward x[${x?.shape}] w[${w?.shape}] ${JSON.stringify(hp)}`;
        if (which === 8) return { what, run: () => convTransposeForward(x, w, b, hp) };
        return {
          what: `convTransposeBackward after ${what}`,
          run: () => {
            const { z, cache } = convTransposeForward(x, w, b, hp);
            return convTransposeBackward(tensor(arr(z.data.length), z.shape), cache);
          },
        };
      }
      default: {
        const shape = [bent(int(1, 5)), bent(int(1, 5))] as [number, number];
        const dz = bent(r());
        return {
          what: `distributeValue ${String(dz)} ${String(shape)}`,
          run: () => distributeValue(dz as number, shape),
        };
      }
    }
  }
}

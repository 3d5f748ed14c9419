// This module is browser compatible.

/**
 * The kernels' binary interface, declared once: the low memory's layout, the
 * geometry blocks' fields, the codes some arguments take, and every function
 * the WebAssembly module exports (its source file, its arguments, whether a
 * thread task may call it).
 *
 * Everything else is derived from these declarations:
 * - on the TypeScript side, the exports' type ({@linkcode KernelExports}),
 *   the task ids ({@linkcode TASK_FNS}), the geometry writers' field
 *   offsets;
 * - on the AssemblyScript side, `src/wasm/assembly/abi.ts` (the geometry
 *   classes and the codes) and `src/wasm/assembly/index.ts` (the exports),
 *   both written by `scripts/gen_abi.ts` (`deno task gen:kernels`).
 *
 * `tests/abi_test.ts` holds every build's exports (names and arities) to
 * {@linkcode KERNELS}, and the generated files to what the script writes.
 *
 * @module
 */

/** Byte offset of the call's geometry block (the tile staging area below it ends at 192). */
export const GEO = 256;
/** Byte offset of the thread pool's control words. */
export const CTL = 512;
/** Byte offset of the per-thread tile staging areas (192 bytes each, 256 apart). */
export const SCRATCH = 1024;
/** The most threads (the caller included) a pool runs. */
export const MAX_THREADS = 16;
/** Byte offset of the task table (the host writes a split call's tasks there). */
export const TASK_TABLE = SCRATCH + MAX_THREADS * 256;
/** Int32s per task in the task table: function, state, then up to 16 arguments. */
export const TASK_INTS = 18;
/** The most tasks one call is split into. */
export const MAX_TASKS = 64;
/** Bytes of one geometry block (room for 24 i32s). */
export const GEO_BYTES = 96;
/** Where the per-task geometry blocks go, {@linkcode GEO_BYTES} each. */
export const TASK_GEOS = TASK_TABLE + MAX_TASKS * TASK_INTS * 4;
/** Bytes below this offset belong to the kernels, the thread pool and the task tables. */
export const BASE = TASK_GEOS + MAX_TASKS * GEO_BYTES;

/** A geometry block's i32 fields, in memory order, each with what it holds. */
type Fields = readonly (readonly [name: string, doc: string])[];

/** The window's fields, the same in both blocks: strides, padding on each side, dilations. */
const WINDOW = [
  ["sH", "vertical stride"],
  ["sW", "horizontal stride"],
  ["pT", "padding above"],
  ["pB", "padding below"],
  ["pL", "padding on the left"],
  ["pR", "padding on the right"],
  ["dH", "vertical dilation"],
  ["dW", "horizontal dilation"],
] as const satisfies Fields;

/** A convolution's geometry block (conv.ts, dw.ts, wino.ts read it as `Geo`). */
export const CONV_GEO = [
  ["m", "images"],
  ["inH", "input height"],
  ["inW", "input width"],
  ["cIn", "input channels"],
  ["fH", "filter height"],
  ["fW", "filter width"],
  ["cOut", "output channels"],
  ...WINDOW,
  ["groups", "groups"],
  ["outH", "output height"],
  ["outW", "output width"],
  ["cInG", "input channels per group"],
  ["cOutG", "output channels per group"],
  ["K", "im2col columns: fH·fW·cInG"],
  ["M", "im2col rows: m·outH·outW"],
] as const satisfies Fields;

/** A pooling's geometry block (pool.ts reads it as `PoolGeo`). */
export const POOL_GEO = [
  ["m", "images"],
  ["inH", "input height"],
  ["inW", "input width"],
  ["c", "channels"],
  ["fH", "window height"],
  ["fW", "window width"],
  ...WINDOW,
  ["countIncludePad", "1 when an average counts the padding"],
  ["outH", "output height"],
  ["outW", "output width"],
] as const satisfies Fields;

/** The geometry blocks, by the AssemblyScript class that reads each. */
export const GEOMETRIES = { Geo: CONV_GEO, PoolGeo: POOL_GEO } as const;

/** A field name of a geometry block. */
type FieldOf<F extends Fields> = F[number][0];
/** A convolution geometry block's values, by field. */
export type ConvGeoValues = Readonly<Record<FieldOf<typeof CONV_GEO>, number>>;
/** A pooling geometry block's values, by field. */
export type PoolGeoValues = Readonly<Record<FieldOf<typeof POOL_GEO>, number>>;

/** Each field's i32 index in its block. */
function indexOf<F extends Fields>(fields: F): Readonly<Record<FieldOf<F>, number>> {
  return Object.fromEntries(fields.map(([n], i) => [n, i])) as Record<FieldOf<F>, number>;
}
/** A convolution block's field indices (i32s from the block's start). */
export const CONV_AT: Readonly<Record<FieldOf<typeof CONV_GEO>, number>> = indexOf(CONV_GEO);
/** A pooling block's field indices. */
export const POOL_AT: Readonly<Record<FieldOf<typeof POOL_GEO>, number>> = indexOf(POOL_GEO);

/** Writes a geometry block's values in field order at i32 index `at` of `v`. */
function writer<F extends Fields>(
  fields: F,
): (v: Int32Array, at: number, values: Readonly<Record<FieldOf<F>, number>>) => void {
  const names = fields.map(([n]) => n as FieldOf<F>);
  return (v, at, values) => {
    for (let i = 0; i < names.length; i++) v[at + i] = values[names[i]!];
  };
}
/** Writes a convolution geometry block. */
export const writeConvGeo: (v: Int32Array, at: number, values: ConvGeoValues) => void = writer(
  CONV_GEO,
);
/** Writes a pooling geometry block. */
export const writePoolGeo: (v: Int32Array, at: number, values: PoolGeoValues) => void = writer(
  POOL_GEO,
);

/** Codes some arguments take, by the AssemblyScript constant each becomes. */
export const CODES = {
  /** `relu` of the convolution kernels: the epilogue after the bias. */
  EPILOGUE_NONE: 0,
  EPILOGUE_RELU: 1,
  EPILOGUE_RELU6: 2,
  /** `mode` of the pooling kernels. */
  POOL_MAX: 0,
  POOL_MEAN: 1,
  /** `kind` of `activate`. */
  ACT_SIGMOID: 0,
  ACT_TANH: 1,
  ACT_ERF: 2,
  ACT_GELU: 3,
  ACT_GELU_TANH: 4,
  ACT_SILU: 5,
  ACT_EXP: 6,
  ACT_LOG: 7,
  ACT_SOFTPLUS: 8,
  ACT_MISH: 9,
} as const;

/** One exported kernel function: where it lives, its arguments, what it returns, whether a task runs it. */
interface KernelDecl {
  /** Its source file in `src/wasm/assembly/` (without `.ts`). */
  readonly file: string;
  /** Its arguments' names, in order (every one an i32: a byte offset, a count or a code). */
  readonly args: readonly string[];
  /** `"i32"` when it returns a value. */
  readonly returns?: "i32";
  /** Whether a thread task may call it (its index in {@linkcode TASK_FNS} is its task id). */
  readonly task?: true;
}

/** Every function the kernels module exports. */
export const KERNELS = {
  tileRows: { file: "conv", args: [], returns: "i32" },
  convForward: {
    file: "conv",
    args: ["geo", "xp", "w", "bias", "z", "relu", "q0", "q1"],
    task: true,
  },
  convForwardPanels: {
    file: "conv",
    args: ["geo", "xp", "wp", "bias", "z", "relu", "q0", "q1"],
    task: true,
  },
  convGemv: {
    file: "conv",
    args: ["geo", "xp", "w", "bias", "z", "relu", "c0", "c1"],
    task: true,
  },
  convBackwardFilter: {
    file: "conv",
    args: ["geo", "x", "dz", "dw", "db", "dwt", "col", "blockRows", "q0", "q1"],
    task: true,
  },
  convBackwardData: {
    file: "conv",
    args: ["geo", "dz", "w", "dx", "wt", "panel", "dcol"],
    task: true,
  },
  padInput: { file: "conv", args: ["geo", "x", "xp"], task: true },
  columnSums: { file: "conv", args: ["dz", "db", "M", "N"], task: true },
  addPartials: { file: "conv", args: ["dst", "src", "n", "parts", "stride"], task: true },
  dwForward: {
    file: "dw",
    args: ["geo", "xp", "wp", "bp", "zt", "relu", "mult"],
    task: true,
  },
  dwForwardRows: {
    file: "dw",
    args: ["geo", "x", "wp", "bp", "zt", "relu", "mult", "r0", "r1"],
    task: true,
  },
  dwBackwardData: { file: "dw", args: ["geo", "dzt", "wp", "dxp", "mult"], task: true },
  dwBackwardFilter: { file: "dw", args: ["geo", "xp", "dzt", "dwp", "mult"], task: true },
  poolForward: { file: "pool", args: ["geo", "x", "y", "mode"], task: true },
  poolBackward: { file: "pool", args: ["geo", "x", "dy", "dx", "mode"], task: true },
  activate: { file: "act", args: ["x", "y", "n", "kind"], task: true },
  setScratch: { file: "gemm", args: ["p"] },
  winoFilter: {
    file: "wino",
    args: ["w", "u", "cIn", "cOut", "alpha", "tmp", "panels"],
    task: true,
  },
  winoTiles: {
    file: "wino",
    args: [
      "geo",
      "xp",
      "u",
      "v",
      "mt",
      "z",
      "bias",
      "relu",
      "t0",
      "t1",
      "zeros",
      "tmp",
      "alpha",
      "panels",
      "c0",
      "c1",
    ],
    task: true,
  },
  winoGradTiles: {
    file: "wino",
    args: ["geo", "xp", "dz", "up", "v", "d", "tmp", "alpha", "t0", "t1"],
    task: true,
  },
  winoGradOut: {
    file: "wino",
    args: ["up", "dw", "cIn", "cOut", "r", "alpha", "ci0", "ci1", "tmp"],
  },
  allFinite: { file: "wino", args: ["p", "n"], returns: "i32" },
  copyRows: {
    file: "copy",
    args: ["src", "dst", "rows", "n", "srcStride", "dstStride"],
    task: true,
  },
  permuteRows: { file: "copy", args: ["x", "y", "perm", "rows", "c"], task: true },
  addArrays: { file: "sum", args: ["a", "b", "y", "n", "relu"], task: true },
  channelAffine: {
    file: "norm",
    args: ["x", "y", "mean", "scale", "shift", "n", "c", "act"],
    task: true,
  },
} as const satisfies Record<string, KernelDecl>;

/** The name of an exported kernel function. */
export type KernelName = keyof typeof KERNELS;

/** A declaration's function type: one number per argument. */
type FnOf<D> = D extends { readonly args: infer A extends readonly string[] }
  ? (...args: { [I in keyof A]: number }) => D extends { readonly returns: "i32" } ? number : void
  : never;

/** The exported memory, as the host uses it (typed structurally: the package's types name no WebAssembly globals). */
export interface KernelMemory {
  /** The memory's bytes as they are now. */
  readonly buffer: ArrayBufferLike;
  /** Grows the memory by `pages` of 64 KiB; returns the old size in pages. */
  grow(pages: number): number;
}

/** What the kernels module exports: its memory and the declared functions. */
export type KernelExports =
  & { readonly memory: KernelMemory }
  & { readonly [K in KernelName]: FnOf<typeof KERNELS[K]> };

/** The name of a function a task may call. */
export type TaskFn = {
  [K in KernelName]: typeof KERNELS[K] extends { readonly task: true } ? K : never;
}[KernelName];

/** The kernels' functions a task may call, by task id (their order in {@linkcode KERNELS}). */
export const TASK_FNS: readonly TaskFn[] = (Object.keys(KERNELS) as KernelName[]).filter((
  k,
): k is TaskFn => "task" in KERNELS[k]);

/** Each task function's id. */
export const TASK_ID: Readonly<Record<TaskFn, number>> = Object.fromEntries(
  TASK_FNS.map((n, i) => [n, i]),
) as Record<TaskFn, number>;

/** The most arguments a task row holds. */
export const TASK_ARGS = TASK_INTS - 2;
for (const n of TASK_FNS) {
  if (KERNELS[n].args.length > TASK_ARGS) {
    throw new Error(`_abi.ts: ${n} takes more than the task row's ${TASK_ARGS} arguments`);
  }
}

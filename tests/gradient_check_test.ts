/**
 * Finite-difference checks of the backward passes: the analytic gradient of
 * L = Σ g ⊙ forward(x) must equal (L(x + ε) − L(x − ε)) / 2ε for each input.
 * Forward passes are float32, so ε is 1e-2 and the loss is summed in float64;
 * the tolerance (2e-3, relative) is far below what a wrong index gives.
 */
import {
  availableBackends,
  convBackward,
  convForward,
  convTransposeBackward,
  convTransposeForward,
  poolBackward,
  poolForward,
  tensor,
} from "../mod.ts";
import { assertGradient, dot, randArray, rng, withBackend } from "./_helpers.ts";

const CONV_CASES = [
  { m: 2, H: 5, W: 6, cIn: 3, cOut: 2, f: 3, stride: 2, pad: 0 },
  { m: 1, H: 6, W: 5, cIn: 2, cOut: 3, f: 3, stride: 2, pad: 1 },
  { m: 2, H: 4, W: 4, cIn: 2, cOut: 2, f: 2, stride: 1, pad: 0 },
  { m: 1, H: 7, W: 7, cIn: 1, cOut: 2, f: 2, stride: 3, pad: 2 },
];

for (const backend of availableBackends()) {
  Deno.test(`[${backend}] convBackward agrees with finite differences (dAPrev, dW, db)`, () => {
    withBackend(backend, () => {
      const r = rng(5);
      for (const c of CONV_CASES) {
        const what = JSON.stringify(c);
        const x = tensor(randArray(r, c.m * c.H * c.W * c.cIn), [c.m, c.H, c.W, c.cIn]);
        const w = tensor(randArray(r, c.f * c.f * c.cIn * c.cOut), [c.f, c.f, c.cIn, c.cOut]);
        const b = randArray(r, c.cOut);
        const hp = { stride: c.stride, pad: c.pad };
        const { z, cache } = convForward(x, w, b, hp);
        const g = randArray(r, z.data.length);
        const { dAPrev, dW, db } = convBackward(tensor(g, z.shape), cache);
        const loss = () => dot(convForward(x, w, b, hp).z.data, g);
        assertGradient(x.data, dAPrev.data, loss, `dAPrev ${what}`, { tol: 2e-3 });
        assertGradient(w.data, dW.data, loss, `dW ${what}`, { tol: 2e-3 });
        assertGradient(b, db, loss, `db ${what}`, { tol: 2e-3 });
      }
    });
  });

  Deno.test(`[${backend}] poolBackward agrees with finite differences (average; max without ties)`, () => {
    withBackend(backend, () => {
      const r = rng(11);
      for (const [f, stride] of [[2, 2], [3, 2], [2, 1], [1, 2], [3, 1]] as const) {
        const shape = [2, 7, 6, 3];
        const n = 2 * 7 * 6 * 3;
        // Distinct values at least 0.05 apart (a shuffled ramp) so a ±1e-2 step cannot change
        // which position is the maximum.
        const ramp = Array.from({ length: n }, (_, i) => i * 0.05 - n * 0.025);
        for (let i = n - 1; i > 0; i--) {
          const j = Math.floor(r() * (i + 1));
          [ramp[i], ramp[j]] = [ramp[j]!, ramp[i]!];
        }
        const x = tensor(Float32Array.from(ramp), shape);
        for (const mode of ["average", "max"] as const) {
          const { a, cache } = poolForward(x, { f, stride }, mode);
          const g = randArray(r, a.data.length);
          const dx = poolBackward(tensor(g, a.shape), cache);
          const loss = () => dot(poolForward(x, { f, stride }, mode).a.data, g);
          assertGradient(x.data, dx.data, loss, `${mode} f${f} s${stride}`, { tol: 2e-3 });
        }
      }
    });
  });
}

/** Distinct values at least 0.05 apart (a shuffled ramp), so a ±1e-2 step cannot change a maximum. */
function ramp(r: () => number, n: number): Float32Array {
  const v = Array.from({ length: n }, (_, i) => i * 0.05 - n * 0.025);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return Float32Array.from(v);
}

const GENERAL_CONV: {
  shape: number[];
  f: [number, number];
  cInG: number;
  hp: Record<string, unknown>;
}[] = [
  { shape: [1, 7, 6, 2], f: [3, 3], cInG: 2, hp: { dilation: 2, pad: 2 } },
  { shape: [2, 5, 6, 4], f: [3, 2], cInG: 2, hp: { groups: 2, stride: [2, 1], pad: [0, 1, 2, 0] } },
  { shape: [1, 6, 5, 3], f: [3, 3], cInG: 1, hp: { groups: 3, pad: "same", stride: 2 } },
  {
    shape: [1, 8, 7, 2],
    f: [2, 3],
    cInG: 2,
    hp: { dilation: [2, 1], stride: [1, 2], pad: [1, 0] },
  },
];

for (const backend of availableBackends()) {
  Deno.test(`[${backend}] convBackward agrees with finite differences: dilation, groups, asymmetric pad`, () => {
    withBackend(backend, () => {
      const r = rng(15);
      for (const c of GENERAL_CONV) {
        const what = JSON.stringify(c);
        const cIn = c.shape[3]!, cOut = 2 * (cIn / c.cInG);
        const x = tensor(randArray(r, c.shape.reduce((p, v) => p * v, 1)), c.shape);
        const w = tensor(randArray(r, c.f[0] * c.f[1] * c.cInG * cOut), [
          c.f[0],
          c.f[1],
          c.cInG,
          cOut,
        ]);
        const b = randArray(r, cOut);
        const { z, cache } = convForward(x, w, b, c.hp);
        const g = randArray(r, z.data.length);
        const { dAPrev, dW, db } = convBackward(tensor(g, z.shape), cache);
        const loss = () => dot(convForward(x, w, b, c.hp).z.data, g);
        assertGradient(x.data, dAPrev.data, loss, `dAPrev ${what}`, { tol: 2e-3 });
        assertGradient(w.data, dW.data, loss, `dW ${what}`, { tol: 2e-3 });
        assertGradient(b, db, loss, `db ${what}`, { tol: 2e-3 });
      }
    });
  });

  Deno.test(`[${backend}] convTransposeBackward agrees with finite differences`, () => {
    withBackend(backend, () => {
      const r = rng(16);
      const cases = [
        { shape: [1, 3, 4, 2], f: [2, 2], cOut: 3, hp: { stride: 2 } },
        {
          shape: [2, 3, 3, 4],
          f: [3, 2],
          cOut: 2,
          hp: { stride: [2, 1], pad: [1, 0, 0, 1], groups: 2, outputPadding: [1, 0] },
        },
        { shape: [1, 4, 3, 2], f: [3, 3], cOut: 2, hp: { dilation: 2, pad: "same" } },
      ] as const;
      for (const c of cases) {
        const what = JSON.stringify(c);
        const groups = (c.hp as { groups?: number }).groups ?? 1;
        const x = tensor(randArray(r, c.shape.reduce((p: number, v) => p * v, 1)), [...c.shape]);
        const w = tensor(randArray(r, c.f[0] * c.f[1] * (c.cOut / groups) * c.shape[3]), [
          c.f[0],
          c.f[1],
          c.cOut / groups,
          c.shape[3],
        ]);
        const b = randArray(r, c.cOut);
        const { z, cache } = convTransposeForward(x, w, b, c.hp);
        const g = randArray(r, z.data.length);
        const { dX, dW, db } = convTransposeBackward(tensor(g, z.shape), cache);
        const loss = () => dot(convTransposeForward(x, w, b, c.hp).z.data, g);
        assertGradient(x.data, dX.data, loss, `dX ${what}`, { tol: 2e-3 });
        assertGradient(w.data, dW.data, loss, `dW ${what}`, { tol: 2e-3 });
        assertGradient(b, db, loss, `db ${what}`, { tol: 2e-3 });
      }
    });
  });

  Deno.test(`[${backend}] poolBackward agrees with finite differences: padding, ceil mode, dilation, countIncludePad`, () => {
    withBackend(backend, () => {
      const r = rng(17);
      const cases = [
        { f: 3, stride: 2, pad: 1, ceilMode: true },
        { f: [2, 3], stride: [1, 2], pad: [1, 0, 0, 1] },
        { f: 2, stride: 1, dilation: [2, 1] },
        { f: 3, stride: 2, pad: 1, countIncludePad: true },
        { f: 2, stride: 2, pad: "same", ceilMode: true },
      ];
      for (const hp of cases) {
        const shape = [2, 7, 6, 3];
        const x = tensor(ramp(r, 2 * 7 * 6 * 3), shape);
        for (const mode of ["average", "max"] as const) {
          const { a, cache } = poolForward(x, hp as never, mode);
          const g = randArray(r, a.data.length);
          const dx = poolBackward(tensor(g, a.shape), cache);
          const loss = () => dot(poolForward(x, hp as never, mode).a.data, g);
          assertGradient(x.data, dx.data, loss, `${mode} ${JSON.stringify(hp)}`, { tol: 2e-3 });
        }
      }
    });
  });
}

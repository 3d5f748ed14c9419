/**
 * Every 2-D geometry of ONNX's Conv, ConvTranspose, MaxPool and AveragePool
 * (and PyTorch's), forward and backward, on every backend, against the
 * float64 oracle of `_oracle_general.ts`: random configurations exercise each
 * feature alone (per-axis stride, asymmetric padding, "same", dilation,
 * groups and depthwise, rectangular filters, ceil mode, countIncludePad,
 * outputPadding) and all of them mixed, on shapes that are rarely multiples
 * of any tile.
 */
import assert from "node:assert/strict";
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
import { assertClose, randArray, randInt, rng, withBackend } from "./_helpers.ts";
import { f64 } from "./_oracle.ts";
import {
  convBackwardG64,
  convForwardG64,
  type ConvHp,
  convTransposeBackwardG64,
  convTransposeForwardG64,
  poolBackwardG64,
  poolForwardG64,
  type PoolHp,
} from "./_oracle_general.ts";

type Four = [number, number, number, number];
const FEATURES = ["stride", "pad", "same", "dilation", "groups", "depthwise", "rect", "mixed"];
const PER_FEATURE = 12;

/** "same" padding by its definition: out = ceil(n / s), the odd zero at the end. */
function same(n: number, e: number, s: number): [number, number] {
  const total = Math.max((Math.ceil(n / s) - 1) * s + e - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

interface ConvCase {
  what: string;
  x: ReturnType<typeof tensor>;
  w: ReturnType<typeof tensor>;
  b: Float32Array;
  hp: Record<string, unknown>;
  o: ConvHp;
}

/** A random convolution case exercising `feature`, or null if its window does not fit. */
function convCase(r: () => number, feature: string): ConvCase | null {
  const on = (f: string) => feature === f || feature === "mixed";
  const m = randInt(r, 1, 2), H = randInt(r, 1, 9), W = randInt(r, 1, 9);
  const groups = on("depthwise") ? randInt(r, 1, 5) : on("groups") ? randInt(r, 2, 3) : 1;
  const cInG = feature === "depthwise" ? 1 : randInt(r, 1, 4);
  const cOutG = randInt(r, 1, 4);
  const fH = randInt(r, 1, 4), fW = on("rect") ? randInt(r, 1, 4) : fH;
  const stride: [number, number] = on("stride") ? [randInt(r, 1, 3), randInt(r, 1, 3)] : [1, 1];
  const dilation: [number, number] = on("dilation") ? [randInt(r, 1, 3), randInt(r, 1, 3)] : [1, 1];
  const eh = dilation[0] * (fH - 1) + 1, ew = dilation[1] * (fW - 1) + 1;
  let pad: unknown = 0, pads: Four = [0, 0, 0, 0];
  if (feature === "same" || (feature === "mixed" && r() < 0.3)) {
    pad = "same";
    pads = [...same(H, eh, stride[0]), ...same(W, ew, stride[1])] as Four;
  } else if (on("pad")) {
    const form = randInt(r, 0, 2);
    if (form === 0) {
      const p = randInt(r, 0, 2);
      pad = p;
      pads = [p, p, p, p];
    } else if (form === 1) {
      const ph = randInt(r, 0, 2), pw = randInt(r, 0, 2);
      pad = [ph, pw];
      pads = [ph, ph, pw, pw];
    } else {
      pads = [randInt(r, 0, 3), randInt(r, 0, 3), randInt(r, 0, 3), randInt(r, 0, 3)];
      pad = [...pads];
    }
  }
  if (eh > H + pads[0] + pads[1] || ew > W + pads[2] + pads[3]) return null;
  const cIn = cInG * groups, cOut = cOutG * groups;
  const x = tensor(randArray(r, m * H * W * cIn), [m, H, W, cIn]);
  const w = tensor(randArray(r, fH * fW * cInG * cOut), [fH, fW, cInG, cOut]);
  const hp: Record<string, unknown> = { pad };
  if (on("stride")) hp["stride"] = stride[0] === stride[1] && r() < 0.5 ? stride[0] : stride;
  if (on("dilation")) hp["dilation"] = dilation;
  if (groups > 1) hp["groups"] = groups;
  return {
    what: `${feature}: m${m} ${H}x${W} cIn${cIn} cOut${cOut} f${fH}x${fW} ${JSON.stringify(hp)}`,
    x,
    w,
    b: randArray(r, cOut),
    hp,
    o: { stride, pads, dilation, groups },
  };
}

for (const backend of availableBackends()) {
  Deno.test(`[${backend}] conv forward and backward, every geometry, match the float64 oracle`, () => {
    withBackend(backend, () => {
      const r = rng(2024);
      for (const feature of FEATURES) {
        for (let done = 0; done < PER_FEATURE;) {
          const c = convCase(r, feature);
          if (!c) continue;
          done++;
          const { z, cache } = convForward(c.x, c.w, c.b, c.hp);
          const z64 = convForwardG64(f64(c.x), f64(c.w), c.b, c.o);
          assert.deepEqual([...z.shape], z64.shape, c.what);
          assertClose(z.data, z64.data, 1e-5, `z ${c.what}`);
          const dZ = tensor(randArray(r, z.data.length), z.shape);
          const { dAPrev, dW, db } = convBackward(dZ, cache);
          const ref = convBackwardG64(f64(dZ), f64(c.x), f64(c.w), c.o);
          assertClose(dAPrev.data, ref.dA.data, 1e-5, `dAPrev ${c.what}`);
          assertClose(dW.data, ref.dW.data, 1e-5, `dW ${c.what}`);
          assertClose(db, ref.db, 1e-5, `db ${c.what}`);
        }
      }
    });
  });

  Deno.test(`[${backend}] transposed conv forward and backward match the float64 oracle`, () => {
    withBackend(backend, () => {
      const r = rng(77);
      for (let done = 0; done < 60;) {
        const m = randInt(r, 1, 2), H = randInt(r, 1, 6), W = randInt(r, 1, 6);
        const groups = r() < 0.3 ? 2 : 1, cIn = groups * randInt(r, 1, 3);
        const cOutG = randInt(r, 1, 3), cOut = cOutG * groups;
        const fH = randInt(r, 1, 4), fW = randInt(r, 1, 4);
        const stride: [number, number] = [randInt(r, 1, 3), randInt(r, 1, 3)];
        const dilation: [number, number] = [randInt(r, 1, 2), randInt(r, 1, 2)];
        const op: [number, number] = [randInt(r, 0, stride[0] - 1), randInt(r, 0, stride[1] - 1)];
        const pads: Four = [randInt(r, 0, 2), randInt(r, 0, 2), randInt(r, 0, 2), randInt(r, 0, 2)];
        const fullH = (H - 1) * stride[0] + dilation[0] * (fH - 1) + 1 + op[0];
        const fullW = (W - 1) * stride[1] + dilation[1] * (fW - 1) + 1 + op[1];
        if (fullH - pads[0] - pads[1] < 1 || fullW - pads[2] - pads[3] < 1) continue;
        done++;
        const hp = { stride, pad: pads, dilation, groups, outputPadding: op };
        const what = `m${m} ${H}x${W} cIn${cIn} cOut${cOut} f${fH}x${fW} ${JSON.stringify(hp)}`;
        const x = tensor(randArray(r, m * H * W * cIn), [m, H, W, cIn]);
        const w = tensor(randArray(r, fH * fW * cOutG * cIn), [fH, fW, cOutG, cIn]);
        const b = randArray(r, cOut);
        const o: ConvHp = { stride, pads, dilation, groups };
        const { z, cache } = convTransposeForward(x, w, b, hp);
        const z64 = convTransposeForwardG64(f64(x), f64(w), b, o, op);
        assert.deepEqual([...z.shape], z64.shape, what);
        assertClose(z.data, z64.data, 1e-5, `z ${what}`);
        const dZ = tensor(randArray(r, z.data.length), z.shape);
        const { dX, dW, db } = convTransposeBackward(dZ, cache);
        const ref = convTransposeBackwardG64(f64(dZ), f64(x), f64(w), o, op);
        assertClose(dX.data, ref.dX.data, 1e-5, `dX ${what}`);
        assertClose(dW.data, ref.dW.data, 1e-5, `dW ${what}`);
        assertClose(db, ref.db, 1e-5, `db ${what}`);
      }
    });
  });

  Deno.test(`[${backend}] pooling with padding, dilation, ceil mode and countIncludePad matches the oracle`, () => {
    withBackend(backend, () => {
      const r = rng(555);
      const features = ["rect", "stride", "pad", "dilation", "ceil", "countIncludePad", "mixed"];
      for (const feature of features) {
        for (let done = 0; done < PER_FEATURE * 2;) {
          const on = (f: string) => feature === f || feature === "mixed";
          const m = randInt(r, 1, 2),
            H = randInt(r, 1, 9),
            W = randInt(r, 1, 9),
            c = randInt(r, 1, 6);
          const fH = randInt(r, 1, 4), fW = on("rect") ? randInt(r, 1, 4) : fH;
          const stride: [number, number] = on("stride")
            ? [randInt(r, 1, 3), randInt(r, 1, 3)]
            : [fH, fW];
          const dilation: [number, number] = on("dilation")
            ? [randInt(r, 1, 3), randInt(r, 1, 2)]
            : [1, 1];
          const pads: Four = on("pad") || on("countIncludePad") || on("ceil")
            ? [randInt(r, 0, 2), randInt(r, 0, 2), randInt(r, 0, 2), randInt(r, 0, 2)]
            : [0, 0, 0, 0];
          const o: PoolHp = {
            f: [fH, fW],
            stride,
            pads,
            dilation,
            ceilMode: on("ceil") && r() < 0.8,
            countIncludePad: on("countIncludePad") && r() < 0.8,
          };
          // Windows must fit the padded input and hold at least one input pixel (PyTorch's
          // "pad at most half the kernel" is stricter; ONNX allows any).
          const eh = dilation[0] * (fH - 1) + 1, ew = dilation[1] * (fW - 1) + 1;
          if (eh > H + pads[0] + pads[1] || ew > W + pads[2] + pads[3]) continue;
          if (pads[0] >= eh || pads[2] >= ew || pads[1] >= eh || pads[3] >= ew) continue;
          const x = tensor(randArray(r, m * H * W * c, done % 2 ? -2 : -1, done % 2 ? -0.5 : 1), [
            m,
            H,
            W,
            c,
          ]);
          let a64;
          try {
            a64 = poolForwardG64(f64(x), o, "max");
          } catch {
            continue; // a window with no input pixel (Math.max of nothing); the library refuses those too
          }
          if (a64.data.some((v) => !Number.isFinite(v)) || a64.data.length === 0) continue;
          done++;
          const hp = {
            f: fH === fW ? fH : [fH, fW],
            stride,
            pad: pads,
            dilation,
            ceilMode: o.ceilMode,
            countIncludePad: o.countIncludePad,
          };
          for (const mode of ["max", "average"] as const) {
            const what = `${feature} ${mode} m${m} ${H}x${W} c${c} ${JSON.stringify(hp)}`;
            const { a, cache } = poolForward(x, hp as never, mode);
            const ref = poolForwardG64(f64(x), o, mode);
            assert.deepEqual([...a.shape], ref.shape, what);
            assertClose(a.data, ref.data, 1e-6, `a ${what}`);
            const dA = tensor(randArray(r, a.data.length), a.shape);
            assertClose(
              poolBackward(dA, cache).data,
              poolBackwardG64(f64(dA), f64(x), o, mode).data,
              1e-5,
              `dAPrev ${what}`,
            );
          }
        }
      }
    });
  });
}

Deno.test('output sizes: "same" is ceil(in / stride) for any filter; ceil mode adds a window only when it starts inside', () => {
  const x = tensor(new Float32Array(1 * 7 * 8 * 1), [1, 7, 8, 1]);
  for (const [f, s] of [[1, 1], [2, 1], [3, 2], [4, 3], [5, 2]] as const) {
    const w = tensor(new Float32Array(f * f), [f, f, 1, 1]);
    const z = convForward(x, w, new Float32Array(1), { stride: s, pad: "same" }).z;
    assert.deepEqual([...z.shape], [1, Math.ceil(7 / s), Math.ceil(8 / s), 1], `f${f} s${s}`);
  }
  // PyTorch: MaxPool2d(2, 2, ceil_mode=True) on 7 → 4; on 8 → 4.
  assert.deepEqual([...poolForward(x, { f: 2, ceilMode: true }).a.shape], [1, 4, 4, 1]);
  // MaxPool2d(3, 2, padding=1, ceil_mode=True) on 7: ceil((7 + 2 − 3) / 2) + 1 = 4, and the 4th
  // window starts at 6 − 1 = 5 < 7, so it stays.
  assert.deepEqual(
    [...poolForward(x, { f: 3, stride: 2, pad: 1, ceilMode: true }).a.shape].slice(1, 2),
    [4],
  );
  // f 2, stride 2, pad 1 on 8 columns, ceil: (8 + 2 − 2) / 2 + 1 = 5 windows; floor gives the same.
  assert.deepEqual([...poolForward(x, { f: 2, pad: 1, ceilMode: true }).a.shape], [1, 4, 5, 1]);
});

Deno.test("a window far larger than the input visits only its in-bounds taps (no hang), on every backend", () => {
  const x = tensor(randArray(rng(3), 2 * 7 * 5), [1, 2, 7, 5]);
  const hp = { f: 1e9, stride: 1, pad: 1e9, dilation: 2, ceilMode: true };
  const results = availableBackends().map((b) =>
    withBackend(b, () => {
      const { a, cache } = poolForward(x, hp, "average");
      return {
        a,
        dx: poolBackward(tensor(new Float32Array(a.data.length).fill(1), a.shape), cache),
      };
    })
  );
  for (const r of results) {
    assertClose(r.a.data, results[0]!.a.data, 1e-6, "forward");
    assertClose(r.dx.data, results[0]!.dx.data, 1e-6, "backward");
  }
  assert.ok(results[0]!.a.data.length > 0);
});

// This module is browser compatible.

/**
 * A dilated stride-1 convolution as undilated ones ("space to batch", as
 * TensorFlow runs atrous convolutions): with dilation d, output row
 * `q·d + r` reads padded input rows `(q + k)·d + r` only, so the padded
 * input's rows (and columns) of each phase `r` form an image on which the
 * filter runs undilated and unpadded. The d_h·d_w phase images go through
 * one call as a batch (where Winograd applies to them), and their outputs
 * are interleaved back.
 *
 * @module
 */

import type { ConvGeometry } from "./types.ts";

/** The batch-of-phases geometry for `g`, or null unless `g` is a dilated stride-1 convolution of one group. */
export function phaseGeometry(g: ConvGeometry): ConvGeometry | null {
  const dH = g.dilationH, dW = g.dilationW;
  if ((dH === 1 && dW === 1) || g.strideH !== 1 || g.strideW !== 1 || g.groups !== 1) return null;
  const Hp = g.inH + g.padTop + g.padBottom, Wp = g.inW + g.padLeft + g.padRight;
  const inH = Math.ceil(Hp / dH), inW = Math.ceil(Wp / dW);
  const outH = inH - g.fH + 1, outW = inW - g.fW + 1;
  if (outH < 1 || outW < 1) return null;
  return {
    ...g,
    m: g.m * dH * dW,
    inH,
    inW,
    padTop: 0,
    padBottom: 0,
    padLeft: 0,
    padRight: 0,
    dilationH: 1,
    dilationW: 1,
    outH,
    outW,
  };
}

/** The phase images of `x` ([m, inH, inW, c]) with the padding of `g`: [m·dH·dW, pg.inH, pg.inW, c], zeros beyond. */
export function toPhases(g: ConvGeometry, pg: ConvGeometry, x: Float32Array): Float32Array {
  const dH = g.dilationH, dW = g.dilationW, c = g.cIn;
  const out = new Float32Array(pg.m * pg.inH * pg.inW * c);
  for (let i = 0; i < g.m; i++) {
    for (let rh = 0; rh < dH; rh++) {
      for (let rw = 0; rw < dW; rw++) {
        const img = ((i * dH + rh) * dW + rw) * pg.inH;
        for (let j = 0; j < pg.inH; j++) {
          const y = j * dH + rh - g.padTop;
          if (y < 0 || y >= g.inH) continue;
          const src = (i * g.inH + y) * g.inW, dst = (img + j) * pg.inW;
          for (let k = 0; k < pg.inW; k++) {
            const xx = k * dW + rw - g.padLeft;
            if (xx < 0 || xx >= g.inW) continue;
            const s = (src + xx) * c, d = (dst + k) * c;
            for (let ch = 0; ch < c; ch++) out[d + ch] = x[s + ch]!;
          }
        }
      }
    }
  }
  return out;
}

/** The output of `g` ([m, outH, outW, cOut]) from the phases' outputs `z` ([m·dH·dW, pg.outH, pg.outW, cOut]). */
export function fromPhases(g: ConvGeometry, pg: ConvGeometry, z: Float32Array): Float32Array {
  const dH = g.dilationH, dW = g.dilationW, n = g.cOut;
  const out = new Float32Array(g.m * g.outH * g.outW * n);
  for (let i = 0; i < g.m; i++) {
    for (let oy = 0; oy < g.outH; oy++) {
      const rh = oy % dH, q = (oy - rh) / dH;
      for (let ox = 0; ox < g.outW; ox++) {
        const rw = ox % dW, q2 = (ox - rw) / dW;
        const s = ((((i * dH + rh) * dW + rw) * pg.outH + q) * pg.outW + q2) * n;
        out.set(z.subarray(s, s + n), ((i * g.outH + oy) * g.outW + ox) * n);
      }
    }
  }
  return out;
}

// Max and average pooling, forward and backward, SIMD over channels (NHWC
// keeps a pixel's channels contiguous). No padding; square windows.

let pM: i32 = 0, pInH: i32 = 0, pInW: i32 = 0, pC: i32 = 0, pF: i32 = 0;
let pStride: i32 = 0, pOutH: i32 = 0, pOutW: i32 = 0;

/** Records the geometry of the pooling the next calls work on. */
export function setPoolGeometry(
  m: i32, inH: i32, inW: i32, c: i32, f: i32, stride: i32, outH: i32, outW: i32,
): void {
  pM = m; pInH = inH; pInW = inW; pC = c; pF = f; pStride = stride; pOutH = outH; pOutW = outW;
}

/** Byte offset of the window corner of output pixel (i, oh, ow). */
// @ts-ignore: decorator
@inline function corner(i: i32, oh: i32, ow: i32): usize {
  return (<usize>(((i * pInH + oh * pStride) * pInW + ow * pStride) * pC)) << 2;
}

/** y = max (mode 0) or mean (mode 1) of each window. */
export function poolForward(x: usize, y: usize, mode: i32): void {
  const c = pC, c4 = c & ~3;
  const rowStep = (<usize>(pInW * c)) << 2;
  const colStep = <usize>c << 2;
  const scale: f32 = 1 / <f32>(pF * pF);
  const vscale = f32x4.splat(scale);
  for (let i = 0; i < pM; i++) {
    for (let oh = 0; oh < pOutH; oh++) {
      for (let ow = 0; ow < pOutW; ow++) {
        const base = x + corner(i, oh, ow);
        let ch = 0;
        for (; ch < c4; ch += 4) {
          const p0 = base + (<usize>ch << 2);
          let acc = mode == 0 ? v128.load(p0) : f32x4.splat(0);
          for (let kh = 0; kh < pF; kh++) {
            let p = p0 + <usize>kh * rowStep;
            for (let kw = 0; kw < pF; kw++) {
              acc = mode == 0 ? f32x4.max(acc, v128.load(p)) : f32x4.add(acc, v128.load(p));
              p += colStep;
            }
          }
          v128.store(y, mode == 0 ? acc : f32x4.mul(acc, vscale));
          y += 16;
        }
        for (; ch < c; ch++) {
          const p0 = base + (<usize>ch << 2);
          let acc: f32 = mode == 0 ? load<f32>(p0) : 0;
          for (let kh = 0; kh < pF; kh++) {
            let p = p0 + <usize>kh * rowStep;
            for (let kw = 0; kw < pF; kw++) {
              acc = mode == 0 ? max(acc, load<f32>(p)) : acc + load<f32>(p);
              p += colStep;
            }
          }
          store<f32>(y, mode == 0 ? acc : acc * scale);
          y += 4;
        }
      }
    }
  }
}

/**
 * dx from dy. Max (mode 0) gives each window's gradient to the first
 * position (row-major) equal to the window's maximum; a NaN maximum matches
 * nothing. Average (mode 1) spreads it evenly. Overlapping windows add.
 */
export function poolBackward(x: usize, dy: usize, dx: usize, mode: i32): void {
  const c = pC, c4 = c & ~3;
  const rowStep = (<usize>(pInW * c)) << 2;
  const colStep = <usize>c << 2;
  const scale: f32 = 1 / <f32>(pF * pF);
  const vscale = f32x4.splat(scale);
  memory.fill(dx, 0, (<usize>(pM * pInH * pInW * c)) << 2);
  for (let i = 0; i < pM; i++) {
    for (let oh = 0; oh < pOutH; oh++) {
      for (let ow = 0; ow < pOutW; ow++) {
        const off = corner(i, oh, ow);
        let ch = 0;
        for (; ch < c4; ch += 4) {
          const o0 = off + (<usize>ch << 2);
          const g = v128.load(dy);
          dy += 16;
          if (mode == 0) {
            let mx = v128.load(x + o0);
            for (let kh = 0; kh < pF; kh++) {
              let p = x + o0 + <usize>kh * rowStep;
              for (let kw = 0; kw < pF; kw++) {
                mx = f32x4.max(mx, v128.load(p));
                p += colStep;
              }
            }
            let taken = f32x4.splat(0);
            for (let kh = 0; kh < pF; kh++) {
              let o = o0 + <usize>kh * rowStep;
              for (let kw = 0; kw < pF; kw++) {
                const hit = f32x4.eq(v128.load(x + o), mx);
                const pick = v128.andnot(hit, taken);
                v128.store(dx + o, f32x4.add(v128.load(dx + o), v128.and(g, pick)));
                taken = v128.or(taken, hit);
                o += colStep;
              }
            }
          } else {
            const share = f32x4.mul(g, vscale);
            for (let kh = 0; kh < pF; kh++) {
              let o = dx + o0 + <usize>kh * rowStep;
              for (let kw = 0; kw < pF; kw++) {
                v128.store(o, f32x4.add(v128.load(o), share));
                o += colStep;
              }
            }
          }
        }
        for (; ch < c; ch++) {
          const o0 = off + (<usize>ch << 2);
          const g = load<f32>(dy);
          dy += 4;
          if (mode == 0) {
            let mx = load<f32>(x + o0);
            for (let kh = 0; kh < pF; kh++) {
              let p = x + o0 + <usize>kh * rowStep;
              for (let kw = 0; kw < pF; kw++) {
                mx = max(mx, load<f32>(p));
                p += colStep;
              }
            }
            let done = false;
            for (let kh = 0; kh < pF && !done; kh++) {
              let o = o0 + <usize>kh * rowStep;
              for (let kw = 0; kw < pF; kw++) {
                if (load<f32>(x + o) == mx) {
                  store<f32>(dx + o, load<f32>(dx + o) + g);
                  done = true;
                  break;
                }
                o += colStep;
              }
            }
          } else {
            const share = g * scale;
            for (let kh = 0; kh < pF; kh++) {
              let o = dx + o0 + <usize>kh * rowStep;
              for (let kw = 0; kw < pF; kw++) {
                store<f32>(o, load<f32>(o) + share);
                o += colStep;
              }
            }
          }
        }
      }
    }
  }
}

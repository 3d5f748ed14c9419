// A per-channel affine map in float64: BatchNorm at inference (and the
// normalisation step once training has its batch statistics). NHWC keeps a
// pixel's channels contiguous; the channel parameters are float64 [c].
//
// y = (x − mean[k]) · scale[k] + shift[k], each step in float64 as the
// TypeScript twin (src/backend/js.ts `channelAffine`) computes it, rounded
// to float32 once, then ReLU or ReLU6 (NaN stays NaN). So every backend gives
// the same bits.

import { EPILOGUE_RELU, EPILOGUE_RELU6 } from "./abi";

/** The affine map of `n` pixels of `c` channels from x to y; `act` is an epilogue code. */
export function channelAffine(
  x: usize, y: usize, mean: usize, scale: usize, shift: usize, n: i32, c: i32, act: i32,
): void {
  const zero = f32x4.splat(0), six = f32x4.splat(6);
  const rowBytes = <usize>c << 2;
  for (let i = 0; i < n; i++) {
    const xr = x + <usize>i * rowBytes, yr = y + <usize>i * rowBytes;
    let k = 0;
    for (; k + 2 <= c; k += 2) {
      const o = <usize>k << 3;
      const v = f64x2.promote_low_f32x4(v128.load64_zero(xr + (<usize>k << 2)));
      const r = f64x2.add(
        f64x2.mul(f64x2.sub(v, v128.load(mean + o)), v128.load(scale + o)),
        v128.load(shift + o),
      );
      let z = f32x4.demote_f64x2_zero(r);
      if (act >= EPILOGUE_RELU) z = f32x4.pmax(z, zero);
      if (act == EPILOGUE_RELU6) z = f32x4.pmin(z, six);
      v128.store64_lane(yr + (<usize>k << 2), z, 0);
    }
    if (k < c) {
      const o = <usize>k << 3;
      let z = <f32>(
        (<f64>load<f32>(xr + (<usize>k << 2)) - load<f64>(mean + o)) * load<f64>(scale + o) +
        load<f64>(shift + o)
      );
      if (act >= EPILOGUE_RELU) z = z < 0 ? 0 : z;
      if (act == EPILOGUE_RELU6) z = z > 6 ? 6 : z;
      store<f32>(yr + (<usize>k << 2), z);
    }
  }
}

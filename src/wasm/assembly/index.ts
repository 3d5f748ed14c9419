// The kernels module's exports. Build with `deno task build:wasm`.
export { convBackwardData, convBackwardFilter, convForward, padInput, setConvGeometry, tileRows, transposeOut } from "./conv";
export { poolBackward, poolForward, setPoolGeometry } from "./pool";

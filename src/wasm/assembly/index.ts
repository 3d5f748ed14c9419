// The kernels module's exports. Build with `deno task build:wasm`.
export {
  addPartials, columnSums, convBackwardData, convBackwardFilter, convForward, convForwardPanels, convGemv, padInput, tileRows,
} from "./conv";
export { dwBackwardData, dwBackwardFilter, dwForward } from "./dw";
export { poolBackward, poolForward } from "./pool";
export { activate } from "./act";
export { setScratch } from "./gemm";
export { allFinite, winoFilter, winoGradOut, winoGradTiles, winoTiles } from "./wino";

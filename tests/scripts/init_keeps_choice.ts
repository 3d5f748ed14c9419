// Run by tests/runtime_choice_test.ts in a fresh process: await initKernels() keeps an
// explicit setBackend() choice.
import { getBackend, initKernels, setBackend } from "../../mod.ts";

const name = Deno.args[0] as "js" | "wasm-simd";
setBackend(name);
const returned = await initKernels();
console.log(JSON.stringify({ returned, active: getBackend() }));

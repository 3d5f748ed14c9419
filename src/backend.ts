// This module is browser compatible.

/**
 * Which kernel backend the public functions use.
 *
 * @module
 */

import { jsKernels } from "./kernels/js.ts";
import type { Backend, Kernels } from "./kernels/types.ts";

export type { Backend } from "./kernels/types.ts";

let active: Kernels = jsKernels;

/** The kernels the public functions call. */
export function activeKernels(): Kernels {
  return active;
}

/**
 * The name of the active kernel backend.
 *
 * @example Usage
 * ```ts
 * import { getBackend } from "@convnet/wasm";
 * console.log(getBackend()); // e.g. "js"
 * ```
 *
 * @returns `"wasm-relaxed-simd"`, `"wasm-simd"` or `"js"`.
 */
export function getBackend(): Backend {
  return active.backend;
}

/**
 * Chooses the kernel backend.
 *
 * @example Usage
 * ```ts
 * import { setBackend } from "@convnet/wasm";
 * setBackend("js");
 * ```
 *
 * @param name The backend to use.
 * @throws {RangeError} If the backend is unknown or unavailable here.
 */
export function setBackend(name: Backend): void {
  if (name !== "js") {
    throw new RangeError(`setBackend: name must be "js", got ${JSON.stringify(name)}`);
  }
  active = jsKernels;
}

/**
 * The backends that can run here, fastest first.
 *
 * @example Usage
 * ```ts
 * import { availableBackends } from "@convnet/wasm";
 * availableBackends().includes("js"); // true
 * ```
 *
 * @returns The names of the usable backends.
 */
export function availableBackends(): Backend[] {
  return ["js"];
}

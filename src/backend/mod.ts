// This module is browser compatible.

/**
 * Which kernels run: WebAssembly with relaxed SIMD, plain SIMD, or plain
 * TypeScript, chosen on first use; `useKernels` for Cloudflare Workers,
 * `initKernels` for a browser's main thread, and the kernel memory ceiling.
 *
 * @example Usage
 * ```ts
 * import { availableBackends, getBackend } from "@convnet/wasm/backend";
 * availableBackends().includes(getBackend()); // true
 * ```
 *
 * @module
 */

export {
  availableBackends,
  type Backend,
  getBackend,
  getMemoryLimit,
  initKernels,
  KernelLoadError,
  kernelMemoryBytes,
  KernelMemoryError,
  setBackend,
  setMemoryLimit,
  useKernels,
} from "./select.ts";

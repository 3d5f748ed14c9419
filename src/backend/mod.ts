// This module is browser compatible.

/**
 * Which kernels run: WebAssembly with relaxed SIMD, plain SIMD, or plain
 * TypeScript, chosen on first use; `useKernels` for Cloudflare Workers,
 * `initKernels` for a browser's main thread, the kernel memory ceiling, and
 * how many threads the kernels use (`setThreads`, `getThreads`).
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
  getThreads,
  initKernels,
  KernelLoadError,
  kernelMemoryBytes,
  KernelMemoryError,
  type KernelMemoryStats,
  kernelMemoryStats,
  type KernelThreadStats,
  kernelThreadStats,
  setBackend,
  setMemoryLimit,
  setThreads,
  ThreadError,
  useKernels,
} from "./select.ts";

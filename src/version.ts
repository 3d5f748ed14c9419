// This module is browser compatible.

/**
 * This library's version (the `version` of deno.json; a test holds them
 * equal). Model files record it in their metadata as `libraryVersion`.
 *
 * @example Usage
 * ```ts
 * import { VERSION } from "@convnet/wasm";
 * VERSION; // "0.1.0"
 * ```
 */
export const VERSION = "0.1.0";

/**
 * Atomic file writes for the training scripts: the library's
 * `writeFileAtomic` (temporary file, then rename), for text too.
 *
 * @module
 */

import { writeFileAtomic as writeBytes } from "../src/model/checkpoint.ts";

/** Writes `data` to `path` atomically. */
export function writeFileAtomic(path: string | URL, data: Uint8Array | string): Promise<void> {
  writeBytes(path, typeof data === "string" ? new TextEncoder().encode(data) : data);
  return Promise.resolve();
}

/**
 * Atomic file writes for checkpoints (Deno and Node; a browser or a Worker
 * has no file system and gets a clear error).
 *
 * @module
 */

import { fail } from "../core/_validate.ts";

interface FileSystem {
  write(path: string, data: Uint8Array): void;
  rename(from: string, to: string): void;
  remove(path: string): void;
}

function fileSystem(): FileSystem | null {
  const g = globalThis as {
    Deno?: {
      writeFileSync(p: string, d: Uint8Array): void;
      renameSync(a: string, b: string): void;
      removeSync(p: string): void;
    };
    process?: { getBuiltinModule?: (n: string) => unknown };
  };
  if (g.Deno?.writeFileSync) {
    const D = g.Deno;
    return {
      write: (p, d) => D.writeFileSync(p, d),
      rename: (a, b) => D.renameSync(a, b),
      remove: (p) => D.removeSync(p),
    };
  }
  const fs = g.process?.getBuiltinModule?.("node:fs") as {
    writeFileSync(p: string, d: Uint8Array): void;
    renameSync(a: string, b: string): void;
    rmSync(p: string, o: { force: boolean }): void;
  } | undefined;
  if (fs) {
    return {
      write: (p, d) => fs.writeFileSync(p, d),
      rename: (a, b) => fs.renameSync(a, b),
      remove: (p) => fs.rmSync(p, { force: true }),
    };
  }
  return null;
}

/**
 * Writes `data` to `path` atomically: into a temporary file beside it, then
 * renamed over it, so a reader (or a crash) never sees half a file. Made
 * for checkpoints in `fit`'s `onEpoch`.
 *
 * @example Usage
 * ```ts ignore
 * import { fit, saveModel, writeFileAtomic } from "@convnet/wasm";
 * fit(model, data, {
 *   epochs: 30,
 *   onEpoch: (log) => writeFileAtomic(`checkpoint-${log.epoch}.safetensors`, saveModel(model)),
 * });
 * ```
 *
 * @param path The file to write (a path or a `file:` URL).
 * @param data Its new contents.
 * @throws {TypeError} If `data` is not a `Uint8Array`, or this runtime has no file system.
 */
export function writeFileAtomic(path: string | URL, data: Uint8Array): void {
  if (!(data instanceof Uint8Array)) {
    fail(TypeError, "writeFileAtomic", "data", "a Uint8Array", data);
  }
  const target = path instanceof URL ? decodeURIComponent(path.pathname) : path;
  if (typeof target !== "string" || target === "") {
    fail(TypeError, "writeFileAtomic", "path", "a file path or a file: URL", path);
  }
  const fs = fileSystem();
  if (!fs) {
    throw new TypeError("writeFileAtomic: this runtime has no file system (use Deno or Node)");
  }
  const tmp = `${target}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    fs.write(tmp, data);
    fs.rename(tmp, target);
  } catch (e) {
    try {
      fs.remove(tmp);
    } catch {
      // Never written.
    }
    throw e;
  }
}

/**
 * Atomic file writes: the data goes to a temporary file in the same folder,
 * which is then renamed over the target, so a reader never sees half a file.
 *
 * @module
 */

/** Writes `data` to `path` atomically. */
export async function writeFileAtomic(
  path: string | URL,
  data: Uint8Array | string,
): Promise<void> {
  const target = path instanceof URL ? path.pathname : path;
  const tmp = `${target}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, target);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Resolves wrangler.toml's `served-model` alias to the model file, as
 * wrangler does: the alias names either the model file itself or a module
 * whose one statement is `export { default } from "./file";` (comments
 * allowed anywhere around it).
 *
 * @module
 */

/** Removes `//` line comments and block comments from a small module's text. */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/(^|[^:])\/\/.*$/gm, "$1");
}

/**
 * The file a `served-model` module re-exports: the specifier of its
 * `export { default } from "…"` statement (comments are ignored, so a
 * comment that quotes an import does not count).
 *
 * @param src The module's text.
 * @param where The module's path, for the error.
 * @returns The specifier, relative to the module.
 * @throws {Error} If the module has no such statement, or more than one.
 */
export function reexportedDefault(src: string, where: string): string {
  const code = stripComments(src);
  const re = /\bexport\s*\{\s*default\s*\}\s*from\s*(["'])([^"'\n]+)\1/g;
  const found = [...code.matchAll(re)].map((m) => m[2]!);
  if (found.length !== 1) {
    throw new Error(
      `${where}: expected one \`export { default } from "./model-file";\` statement, found ${found.length}`,
    );
  }
  return found[0]!;
}

/**
 * The model file named by the alias `alias` of a config at `configUrl`.
 *
 * @param alias The `served-model` alias's value.
 * @param configUrl The wrangler.toml's URL.
 * @param read Reads a module's text.
 * @returns The model file's URL.
 */
export async function resolveServedModel(
  alias: string,
  configUrl: URL,
  read: (u: URL) => Promise<string> = Deno.readTextFile,
): Promise<URL> {
  const aliasUrl = new URL(alias, configUrl);
  if (!/\.[cm]?[jt]s$/.test(alias)) return aliasUrl;
  return new URL(reexportedDefault(await read(aliasUrl), aliasUrl.pathname), aliasUrl);
}

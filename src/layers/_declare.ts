// This module is browser compatible.

/**
 * Layer options as declarations (private). Each layer kind declares its
 * options once — type, default, description and the check that reads it —
 * and that one table drives construction ({@linkcode readOptions} refuses an
 * unknown key, naming it and the accepted ones), `config()`
 * ({@linkcode optionsConfig}: a model file stores exactly the declared
 * options), the model-file registry (a stored config is read back through
 * the same checks) and the README's option tables (`scripts/gen_docs.ts`).
 *
 * @module
 */

import { checkKeys } from "../core/_options.ts";
import { checkObject, checkString } from "../core/_validate.ts";
import type { ConfigValue, LayerConfig } from "./layer.ts";

/** One option of a layer kind. */
export interface OptionDecl<T = unknown> {
  /** Its type as the docs show it, e.g. `number | [h, w]`. */
  readonly type: string;
  /** Its default as the docs show it (`"required"` for a required option). */
  readonly default: string;
  /** What it does, one sentence for the docs. */
  readonly doc: string;
  /**
   * Checks and converts the given value (`undefined` when absent), throwing a
   * TypeError or RangeError that names `arg`. `all` is the whole options bag,
   * for options whose default depends on another (a pool's stride).
   */
  readonly read: (kind: string, arg: string, value: unknown, all: Record<string, unknown>) => T;
  /** The value as stored in a model file (`undefined` leaves it out); default: the value itself. */
  readonly save?: (value: T) => ConfigValue | undefined;
}

/** A layer kind's options, by key. */
// deno-lint-ignore no-explicit-any
export type OptionDecls = { readonly [key: string]: OptionDecl<any> };

/** The values read from a bag of options declared by `D`. */
export type OptionValues<D extends OptionDecls> = {
  readonly [K in keyof D]: ReturnType<D[K]["read"]>;
};

/** The `name` option every layer takes. */
export const NAME_OPTION: OptionDecl<string> = {
  type: "string",
  default: "`kind_N`",
  doc:
    "The layer's name, unique in a model; the model assigns `kind_N` (e.g. `conv2d_1`) if absent.",
  read: (kind, arg, v) => (v === undefined ? "" : checkString(kind, arg, v)),
};

/**
 * Reads a layer's options bag (`undefined` is an empty one) through its
 * declarations, after refusing any key that is neither declared nor `name`.
 */
export function readOptions<D extends OptionDecls>(
  kind: string,
  decls: D,
  options: unknown,
): OptionValues<D> & { readonly name: string } {
  const o = options === undefined ? {} : checkObject(kind, "options", options);
  checkKeys(kind, "options", o, [...Object.keys(decls), "name"]);
  const out: Record<string, unknown> = {
    name: NAME_OPTION.read(kind, "options.name", o["name"], o),
  };
  for (const [key, d] of Object.entries(decls)) {
    out[key] = d.read(kind, `options.${key}`, o[key], o);
  }
  return out as OptionValues<D> & { name: string };
}

/**
 * A layer's model-file description: its kind, name and each declared option,
 * read from the layer's property of the same name and stored through the
 * declaration's `save` (an `undefined` value is left out).
 */
export function optionsConfig(
  layer: { readonly kind: string; readonly name: string },
  decls: OptionDecls,
): LayerConfig {
  const out: Record<string, ConfigValue> = { kind: layer.kind, name: layer.name };
  for (const [key, d] of Object.entries(decls)) {
    const v = (layer as unknown as Record<string, unknown>)[key];
    if (v === undefined) continue;
    const s = d.save ? d.save(v) : (v as ConfigValue);
    if (s !== undefined) out[key] = Array.isArray(s) ? [...s] : s;
  }
  return out as unknown as LayerConfig;
}

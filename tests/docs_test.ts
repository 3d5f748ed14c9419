/** The README's layer option tables and ONNX operator list are the declarations' and the importer table's (scripts/gen_docs.ts). */
import assert from "node:assert/strict";
import { renderReadme } from "../scripts/gen_docs.ts";

/** deno fmt aligns markdown tables: compare without the padding. */
const normalize = (s: string) =>
  s.split("\n").map((l) => l.replace(/ {2,}/g, " ").replace(/-{3,}/g, "---").trimEnd()).join("\n");

Deno.test("the README's option tables and ONNX operator list equal the declarations and the importer's table (run scripts/gen_docs.ts if not)", () => {
  const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));
  assert.equal(normalize(readme), normalize(renderReadme(readme)));
});

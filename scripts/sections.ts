/**
 * Rewrites one generated section of a Markdown report (between
 * `<!-- NAME -->` and `<!-- /NAME -->`), then formats the file with
 * `deno fmt` so the report stays as CI expects it.
 *
 * @module
 */

/** Replaces the section `name` of `file` with `body` and formats the file. */
export async function replaceSection(file: URL, name: string, body: string): Promise<void> {
  const text = await Deno.readTextFile(file);
  const begin = `<!-- ${name} -->`, end = `<!-- /${name} -->`;
  const i = text.indexOf(begin), j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${file.pathname} lacks the markers ${begin} … ${end}`);
  await Deno.writeTextFile(
    file,
    text.slice(0, i + begin.length) + "\n" + body.trim() + "\n" + text.slice(j),
  );
  const fmt = await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", file.pathname] })
    .output();
  if (!fmt.success) throw new Error(`deno fmt ${file.pathname} failed`);
}

/**
 * The module layout holds: every entry point of deno.json loads only local
 * files under src/ (dependency-free), and no module imports itself through
 * others (no cycles, type-only imports included).
 */
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
const entries = Object.entries(config.exports as Record<string, string>);

interface Info {
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
  }[];
}

async function graph(entry: string): Promise<Map<string, string[]>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as Info;
  const g = new Map<string, string[]>();
  for (const m of info.modules) {
    const deps = (m.dependencies ?? []).flatMap((d) =>
      [d.code?.specifier, d.type?.specifier].filter((s): s is string => !!s)
    );
    g.set(m.specifier, [...new Set(deps)]);
  }
  return g;
}

function findCycle(g: Map<string, string[]>): string[] | null {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    state.set(n, 1);
    stack.push(n);
    for (const d of g.get(n) ?? []) {
      if (state.get(d) === 1) return [...stack.slice(stack.indexOf(d)), d];
      if (!state.has(d)) {
        const c = visit(d);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 2);
    return null;
  };
  for (const n of g.keys()) {
    if (!state.has(n)) {
      const c = visit(n);
      if (c) return c;
    }
  }
  return null;
}

for (const [name, path] of entries) {
  Deno.test(`layout: "${name}" (${path}) is dependency-free and has no import cycle`, async () => {
    const g = await graph(path);
    const src = new URL("src/", root).href;
    for (const spec of g.keys()) {
      const ok = spec === new URL(path, root).href || spec.startsWith(src);
      assert.ok(ok, `${path} reaches ${spec}, which is not a file under src/`);
    }
    const cycle = findCycle(g);
    assert.equal(
      cycle,
      null,
      `import cycle: ${cycle?.map((s) => s.replace(root.href, "")).join(" → ")}`,
    );
  });
}

Deno.test("layout: the cycle finder finds a cycle (so the test above can fail)", () => {
  const g = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", []]]);
  assert.deepEqual(findCycle(g), ["a", "b", "c", "a"]);
  assert.equal(findCycle(new Map([["a", ["b"]], ["b", []]])), null);
});

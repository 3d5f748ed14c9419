/**
 * `deno task build:worker [wrangler args]`: builds the Worker as a deploy
 * would (`wrangler deploy --dry-run --outdir dist`), then prints the
 * bundle's size against Cloudflare's limits and fails when it is past the
 * largest Worker Cloudflare accepts (64 MiB compressed, paid plans; the free
 * plan takes 3 MiB, reported as a warning). Extra arguments go to wrangler
 * (`--config models/wrangler.mobilenet_v2.toml`).
 *
 * @module
 */

/** Cloudflare's largest Worker, compressed (paid plans). */
export const WORKER_LIMIT_BYTES = 64 << 20;
/** The free plan's limit, compressed. */
export const FREE_PLAN_LIMIT_BYTES = 3 << 20;

/** A built bundle's files and sizes. */
export interface BundleSize {
  raw: number;
  gzip: number;
  files: { name: string; raw: number; gzip: number }[];
}

async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/**
 * Sizes the bundle wrangler wrote to `dir` (source maps and wrangler's README left out).
 *
 * @example
 * ```ts ignore
 * const size = await bundleSize("dist");
 * console.log(size.gzip);
 * ```
 */
export async function bundleSize(dir: string): Promise<BundleSize> {
  const files: BundleSize["files"] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || e.name.endsWith(".map") || e.name === "README.md") continue;
    const bytes = await Deno.readFile(`${dir}/${e.name}`);
    files.push({
      name: e.name.replace(/^[0-9a-f]{40}-/, ""),
      raw: bytes.length,
      gzip: await gzipSize(bytes),
    });
  }
  files.sort((a, b) => b.gzip - a.gzip);
  return {
    raw: files.reduce((s, f) => s + f.raw, 0),
    gzip: files.reduce((s, f) => s + f.gzip, 0),
    files,
  };
}

const mib = (n: number) => `${(n / (1 << 20)).toFixed(2)} MiB`;

/**
 * The report printed after a build, and whether the bundle fits `limit`.
 *
 * @example
 * ```ts
 * import { bundleReport } from "./build_worker.ts";
 * const r = bundleReport({ raw: 10, gzip: 5, files: [{ name: "index.js", raw: 10, gzip: 5 }] });
 * console.log(r.ok); // true
 * ```
 */
export function bundleReport(
  size: BundleSize,
  limit = WORKER_LIMIT_BYTES,
): { ok: boolean; text: string } {
  const lines = size.files.map((f) =>
    `  ${f.name.padEnd(36)} ${mib(f.raw).padStart(11)} ${mib(f.gzip).padStart(11)} gzip`
  );
  const ok = size.gzip <= limit;
  lines.push(
    `bundle: ${mib(size.raw)}, ${mib(size.gzip)} gzip of Cloudflare's ${mib(limit)} limit (${
      (100 * size.gzip / limit).toFixed(1)
    }%)`,
  );
  if (!ok) {
    lines.push(
      `error: the bundle is past the ${
        mib(limit)
      } limit; serve the model from R2 (MODEL_BUCKET, MODEL_KEY) instead of bundling it`,
    );
  } else if (size.gzip > FREE_PLAN_LIMIT_BYTES) {
    lines.push(
      `note: past the free plan's ${mib(FREE_PLAN_LIMIT_BYTES)}: deploying needs a paid plan`,
    );
  }
  return { ok, text: lines.join("\n") };
}

/**
 * Builds the Worker as a deploy would (`wrangler deploy --dry-run`) into
 * `out`, emptied first so that no stale file counts in its size.
 *
 * @example
 * ```ts ignore
 * const ok = await buildWorker("dist", ["--config", "wrangler.toml"]);
 * ```
 *
 * @param out The output folder.
 * @param args More wrangler arguments.
 * @param quiet Keep wrangler's output (it is thrown with the error when the build fails).
 * @returns Whether wrangler succeeded (its exit code).
 */
export async function buildWorker(
  out: string,
  args: string[] = [],
  quiet = false,
): Promise<number> {
  const root = new URL("../", import.meta.url).pathname;
  await Deno.remove(out, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  const res = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "npm:wrangler@4.164.0", "deploy", "--dry-run", "--outdir", out, ...args],
    cwd: root,
    env: {
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_HIDE_BANNER: "true",
      XDG_CONFIG_HOME: `${root}.config`,
    },
    stdout: quiet ? "null" : "inherit",
    stderr: quiet ? "piped" : "inherit",
  }).output();
  if (res.code !== 0 && quiet) {
    throw new Error(`wrangler deploy --dry-run failed: ${new TextDecoder().decode(res.stderr)}`);
  }
  return res.code;
}

if (import.meta.main) {
  const out = new URL("../dist", import.meta.url).pathname;
  const code = await buildWorker(out, Deno.args);
  if (code !== 0) Deno.exit(code);
  const report = bundleReport(await bundleSize(out));
  console.log(report.text);
  if (!report.ok) Deno.exit(1);
}

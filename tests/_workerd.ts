/**
 * Starts the Worker in real workerd through wrangler's `unstable_startWorker`
 * (offline: no metrics, no network lookups), bound to 127.0.0.1 on a free port.
 *
 * @module
 */

import { getPlatformProxy, unstable_startWorker } from "wrangler";

/** wrangler offline and quiet: no metrics, no lookups, its config kept in the project. */
function offline(root: URL): void {
  Deno.env.set("WRANGLER_SEND_METRICS", "false");
  Deno.env.set("CLOUDFLARE_CF_FETCH_ENABLED", "false");
  Deno.env.set("WRANGLER_HIDE_BANNER", "true");
  Deno.env.set("XDG_CONFIG_HOME", new URL(".config", root).pathname);
  Deno.env.set("WRANGLER_LOG", "error");
}

/**
 * Puts objects into the local R2 bucket bound as `binding` by `config`, in
 * the persistence directory `persist` (as `wrangler r2 object put --local
 * --persist-to` does), for {@linkcode startWorkerd} with the same `persist`.
 */
export async function putLocalR2(
  config: string,
  persist: string,
  binding: string,
  objects: Record<string, Uint8Array>,
): Promise<void> {
  const root = new URL("../", import.meta.url);
  offline(root);
  const proxy = await getPlatformProxy<Record<string, R2Put>>({
    configPath: new URL(config, root).pathname,
    persist: { path: `${persist}/v3` },
    remoteBindings: false,
  });
  try {
    const bucket = proxy.env[binding];
    if (!bucket) throw new Error(`${config} binds no R2 bucket ${binding}`);
    for (const [key, bytes] of Object.entries(objects)) await bucket.put(key, bytes);
  } finally {
    await proxy.dispose();
  }
}

interface R2Put {
  put(key: string, value: Uint8Array): Promise<unknown>;
}

/** A running Worker: its URL and how to stop it. */
export interface RunningWorker {
  url: URL;
  stop(): Promise<void>;
}

/**
 * Starts worker/index.ts from wrangler.toml (or another config, relative to the project root).
 * With `persist`, local bindings (R2) keep their data in that directory (wrangler's `--persist-to`;
 * {@linkcode putLocalR2} fills it); without, they start empty and nothing is written.
 */
export async function startWorkerd(
  config = "wrangler.toml",
  persist?: string,
): Promise<RunningWorker> {
  const root = new URL("../", import.meta.url);
  offline(root);
  const worker = await unstable_startWorker({
    config: new URL(config, root).pathname,
    dev: {
      server: { hostname: "127.0.0.1", port: 0 },
      inspector: false,
      watch: false,
      persist: persist ?? false,
      logLevel: "error",
    },
  });
  // A Worker that fails to build never becomes ready: fail the test instead of hanging it.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`workerd did not start within 90 s (${config}); try deno task build:worker`),
        ),
      90_000,
    );
  });
  try {
    await Promise.race([worker.ready, timeout]);
  } catch (e) {
    await worker.dispose().catch(() => {});
    throw e;
  } finally {
    clearTimeout(timer);
  }
  const url = await worker.url;
  return { url: new URL(url.href), stop: () => worker.dispose() };
}

/** workerd's resident memory (every workerd process), in bytes; NaN where /proc is absent. */
export function workerdRss(): number {
  let total = 0, found = false;
  try {
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      try {
        const status = Deno.readTextFileSync(`/proc/${e.name}/status`);
        if (!/^Name:\s*workerd\s*$/m.test(status)) continue;
        total += Number(status.match(/^VmRSS:\s*(\d+) kB/m)![1]) * 1024;
        found = true;
      } catch { /* gone */ }
    }
  } catch {
    return NaN;
  }
  return found ? total : NaN;
}

/**
 * workerd's resident memory once it stops moving: workerd keeps loading for
 * a second or more after wrangler says it is ready (an empty Worker's
 * processes grow from ~78 to ~199 MiB with no request), so a baseline taken
 * at ready counts its start-up as the requests' growth. Waits until two
 * readings `intervalMs` apart differ by under 1 MiB (at most `maxMs`).
 */
export async function settledWorkerdRss(intervalMs = 500, maxMs = 10_000): Promise<number> {
  const start = performance.now();
  let last = workerdRss();
  while (performance.now() - start < maxMs) {
    await new Promise((r) => setTimeout(r, intervalMs));
    const now = workerdRss();
    if (!(Math.abs(now - last) >= 1 << 20)) return now;
    last = now;
  }
  return last;
}

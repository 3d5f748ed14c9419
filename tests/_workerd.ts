/**
 * Starts the Worker in real workerd through wrangler's `unstable_startWorker`
 * (offline: no metrics, no network lookups), bound to 127.0.0.1 on a free port.
 *
 * @module
 */

import { unstable_startWorker } from "wrangler";

/** A running Worker: its URL and how to stop it. */
export interface RunningWorker {
  url: URL;
  stop(): Promise<void>;
}

/** Starts worker/index.ts from wrangler.toml (or another config, relative to the project root). */
export async function startWorkerd(config = "wrangler.toml"): Promise<RunningWorker> {
  const root = new URL("../", import.meta.url);
  Deno.env.set("WRANGLER_SEND_METRICS", "false");
  Deno.env.set("CLOUDFLARE_CF_FETCH_ENABLED", "false");
  Deno.env.set("WRANGLER_HIDE_BANNER", "true");
  Deno.env.set("XDG_CONFIG_HOME", new URL(".config", root).pathname);
  Deno.env.set("WRANGLER_LOG", "error");
  const worker = await unstable_startWorker({
    config: new URL(config, root).pathname,
    dev: {
      server: { hostname: "127.0.0.1", port: 0 },
      inspector: false,
      watch: false,
      persist: false,
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

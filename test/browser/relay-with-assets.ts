// Starts the Worker with its static assets (the demo page) in Miniflare on a random port, from
// the real wrangler.toml: the same bindings, vars and [assets] routing that `npm run dev` uses.
import { fileURLToPath } from "node:url";
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { BROWSER_BUNDLE } from "./global-setup.ts";

const CONFIG = fileURLToPath(new URL("../../wrangler.toml", import.meta.url));

/** A running relay that also serves public/. */
export interface AssetRelay {
  /** http://127.0.0.1:PORT */
  url: string;
  dispose(): Promise<void>;
}

/** The parts of wrangler's translation of wrangler.toml that the relay takes over. */
type FromConfig = Pick<
  V4WorkerOptions,
  "compatibilityDate" | "compatibilityFlags" | "durableObjects" | "assets" | "bindings"
>;

/**
 * Starts the relay. `vars` override wrangler.toml's [vars]; secrets from .dev.vars are not read,
 * so a developer's own keys or tokens never leak into these tests.
 */
export async function startRelayWithAssets(vars: Record<string, string> = {}): Promise<AssetRelay> {
  // The translation wrangler itself (and the Cloudflare vitest plugin) makes from the config:
  // assets with `has_user_worker`, so paths that are not files reach the Worker.
  // Wrangler types these options with an Omit over miniflare's union, which loses the field
  // types; the object itself is miniflare's V4 worker options, as the Cloudflare vitest plugin uses.
  const fromConfig = unstable_getMiniflareWorkerOptions(CONFIG).workerOptions as FromConfig;
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      workers: [
        {
          name: "sluice",
          modules: true,
          scriptPath: BROWSER_BUNDLE,
          compatibilityDate: fromConfig.compatibilityDate,
          compatibilityFlags: fromConfig.compatibilityFlags,
          durableObjects: fromConfig.durableObjects,
          // A browser test sends more than the per-minute default allows one client.
          ratelimits: {
            REQUEST_LIMITER: { namespace_id: "4201", simple: { limit: 10_000, period: 60 } },
          },
          assets: fromConfig.assets,
          bindings: { ...fromConfig.bindings, ...vars },
        },
      ],
    }),
  );
  const ready = await mf.ready;
  return { url: ready.origin, dispose: () => mf.dispose() };
}

/**
 * Bundles and serves the minimal relay (bench/minimal-relay-worker.ts) on Miniflare. Its own
 * small set-up rather than startRelay's: startRelay binds wrangler.toml's objects (ChatSession,
 * its Account object, the rate limiter), which the minimal relay does not have. The runtime is the
 * same: wrangler.toml's compatibility date and flags, 127.0.0.1, one workerd process.
 */
import { fileURLToPath } from "node:url";
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { bundleWorker } from "../test/helpers/bundle.ts";
import { MEMORY_LIMITER, type Relay } from "../test/helpers/relay.ts";

const CONFIG = fileURLToPath(new URL("../wrangler.toml", import.meta.url));
const BUNDLE = fileURLToPath(new URL("../dist/bench/minimal-relay-worker.js", import.meta.url));

/** Bundles the minimal relay as the tests bundle the Worker. */
export function buildMinimalRelay(): Promise<void> {
  return bundleWorker(fileURLToPath(new URL("./minimal-relay-worker.ts", import.meta.url)), BUNDLE);
}

type Runtime = Pick<V4WorkerOptions, "compatibilityDate" | "compatibilityFlags">;

/**
 * The per-client limits of the `limited` relay: Sluice's Account class and an in-memory rate
 * limiter, both as Sluice's benchmarks run them (test/helpers/relay.ts, `services: "lean"`).
 */
export interface MinimalLimits {
  requestsPerMinute: number;
  /** Answers a client may stream at once (Sluice's MAX_CONCURRENT_GENERATIONS). */
  concurrent: number;
}

/**
 * Starts the minimal relay in front of the OpenAI-compatible upstream at `upstreamBaseUrl`;
 * with `limits`, the `limited` relay (bench/minimal-relay-worker.ts says what it adds).
 */
export async function startMinimalRelay(
  upstreamBaseUrl: string,
  limits?: MinimalLimits,
): Promise<Relay> {
  // As in test/helpers/relay.ts: wrangler's types lose the fields; the object is V4 options.
  const config = unstable_getMiniflareWorkerOptions(CONFIG).workerOptions as Runtime;
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      workers: [
        {
          name: "minimal-relay",
          modules: true,
          scriptPath: BUNDLE,
          compatibilityDate: config.compatibilityDate,
          compatibilityFlags: config.compatibilityFlags,
          durableObjects: {
            RELAY: "MinimalRelay",
            ...(limits ? { ACCOUNTS: { className: "Account", useSQLite: true } } : {}),
          },
          bindings: {
            UPSTREAM_URL: upstreamBaseUrl,
            ...(limits ? { MAX_CONCURRENT_GENERATIONS: String(limits.concurrent) } : {}),
          },
          ...(limits ? { serviceBindings: { REQUEST_LIMITER: "memory-limiter" } } : {}),
        },
        ...(limits
          ? [
              {
                name: "memory-limiter",
                modules: true,
                script: MEMORY_LIMITER,
                compatibilityDate: config.compatibilityDate,
                bindings: { LIMIT: limits.requestsPerMinute, PERIOD: 60 },
              },
            ]
          : []),
      ],
    }),
  );
  const url = (await mf.ready).origin;
  return { url, wsUrl: url.replace(/^http/, "ws"), mf, logs: [], dispose: () => mf.dispose() };
}

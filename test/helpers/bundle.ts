// Bundles a Worker entry for Miniflare the way wrangler does: ESM, workerd conditions,
// `cloudflare:*` left to the runtime. The e2e and browser tests and the benchmarks share it.
import { build } from "esbuild";

/** Bundles `entry` (a path) into the single module `outfile`. */
export async function bundleWorker(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    target: "es2024",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*"],
    logLevel: "warning",
  });
}

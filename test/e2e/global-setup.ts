// Bundles the Worker once per run, as wrangler would, for the Miniflare instances of e2e tests.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export const BUNDLE = fileURLToPath(new URL("../../dist/test/index.js", import.meta.url));

export default async function setup(): Promise<void> {
  await build({
    entryPoints: [fileURLToPath(new URL("../../src/index.ts", import.meta.url))],
    outfile: BUNDLE,
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

// Builds what the browser tests serve: the Worker bundle and public/client.js.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The Worker, bundled as test/e2e/global-setup.ts does it but to a path of its own: e2e runs
 * may be going on at the same time, and must not read a bundle while this run rewrites it.
 */
export const BROWSER_BUNDLE = `${root}dist/test-browser/index.js`;

export default async function setup(): Promise<void> {
  await build({
    entryPoints: [`${root}src/index.ts`],
    outfile: BROWSER_BUNDLE,
    bundle: true,
    format: "esm",
    target: "es2024",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*"],
    logLevel: "warning",
  });
  // The same command `npm run dev` runs first (predev), so the page is tested as served.
  execFileSync("npm", ["run", "--silent", "build:client"], { cwd: root, stdio: "inherit" });
}

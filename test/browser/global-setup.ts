// Builds what the browser tests serve: the Worker bundle and public/client.js.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../helpers/bundle.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The Worker, bundled as test/e2e/global-setup.ts does it but to a path of its own: e2e runs
 * may be going on at the same time, and must not read a bundle while this run rewrites it.
 */
export const BROWSER_BUNDLE = `${root}dist/test-browser/index.js`;

export default async function setup(): Promise<void> {
  await bundleWorker(`${root}src/index.ts`, BROWSER_BUNDLE);
  // The same command wrangler runs before `dev` and `deploy` ([build]), so the page is tested as served.
  execFileSync("npm", ["run", "--silent", "build:client"], { cwd: root, stdio: "inherit" });
}

/** What the browser tests serve: this bundle and public/, as `npm run dev` does. */
export const SERVED = { script: BROWSER_BUNDLE, assets: true } as const;

// Browser end-to-end tests: real Chromium (playwright-core, the system's /usr/bin/chromium)
// against the Worker and its demo page served by Miniflare. Run with `npm run test:browser`.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("../..", import.meta.url));

export default defineConfig({
  test: {
    root,
    name: "browser",
    environment: "node",
    include: ["test/browser/**/*.test.ts"],
    globalSetup: ["test/browser/global-setup.ts"],
    // One browser at a time: these tests measure timing-sensitive streams on a small machine.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

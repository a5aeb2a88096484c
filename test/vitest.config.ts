// Two projects: `workers` runs inside workerd through the Cloudflare plugin; `e2e` runs in Node
// against the Worker served by Miniflare, with real sockets and local upstream servers.
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("..", import.meta.url));

export default defineConfig({
  test: {
    root,
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: `${root}/wrangler.toml` },
            miniflare: {
              bindings: { PROVIDER: "demo", DEMO_DELAY_MS: "0" },
              // The tests send far more than a client would; limits have their own e2e tests.
              ratelimits: {
                REQUEST_LIMITER: { namespace_id: "4201", simple: { limit: 100_000, period: 60 } },
              },
            },
          }),
        ],
        test: {
          name: "workers",
          root,
          include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "e2e",
          root,
          environment: "node",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["test/e2e/global-setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});

// Two projects: `workers` runs inside workerd through the Cloudflare plugin; `e2e` runs in Node
// against the Worker served by Miniflare, with real sockets and local upstream servers.
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("..", import.meta.url));
const E2E_WORKERS = Number(process.env.SLUICE_E2E_WORKERS ?? 2);
/** `npm run test:heavy`: the randomized sweeps at their full counts (test/helpers/sweep.ts). */
const HEAVY = process.env.SLUICE_HEAVY === "1";
/** The files whose sweeps run fewer rounds in `npm test`; the heavy run runs only these. */
const SWEEPS = [
  "test/unit/providers/fixtures.test.ts",
  "test/integration/chats.test.ts",
  "test/e2e/resume.test.ts",
  "test/e2e/parts-resume.test.ts",
  "test/e2e/ai-sdk-ws-parts-resume.test.ts",
];
/** A project's test files: all of them, or in the heavy run its sweep files. */
function files(globs: string[], folders: string[]): string[] {
  return HEAVY ? SWEEPS.filter((file) => folders.some((folder) => file.startsWith(folder))) : globs;
}

export default defineConfig({
  test: {
    root,
    provide: { heavy: HEAVY },
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
          include: files(
            ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
            ["test/unit/", "test/integration/"],
          ),
        },
      },
      {
        test: {
          name: "e2e",
          root,
          environment: "node",
          include: files(["test/e2e/**/*.test.ts"], ["test/e2e/"]),
          globalSetup: ["test/e2e/global-setup.ts"],
          // Most of an e2e test's time is spent waiting (on sockets, timers, workerd), so two
          // files run at once (Vitest's default on two cores is one); more only adds CPU
          // contention, which the tests with short TTLs and timeouts feel. One process serves
          // many files (no test file changes a global), so Miniflare and wrangler are imported
          // once per worker, not once per file. SLUICE_E2E_WORKERS overrides the count.
          isolate: false,
          maxWorkers: E2E_WORKERS,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});

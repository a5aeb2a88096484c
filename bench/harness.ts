/**
 * The harness Worker (bench/harness-worker.ts: the Worker plus bench-only routes), bundled and
 * served by Miniflare the way test/helpers/relay.ts serves the Worker itself.
 */
import { fileURLToPath } from "node:url";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { bundleWorker } from "../test/helpers/bundle.ts";
import { record } from "../test/helpers/record.ts";

export const HARNESS_BUNDLE = fileURLToPath(
  new URL("../dist/bench/harness-worker.js", import.meta.url),
);

/** Bundles the harness Worker as the e2e tests bundle the Worker. */
export function buildHarness(): Promise<void> {
  return bundleWorker(
    fileURLToPath(new URL("./harness-worker.ts", import.meta.url)),
    HARNESS_BUNDLE,
  );
}

export interface Harness {
  url: string;
  mf: Miniflare;
  dispose(): Promise<void>;
}

export async function startHarness(vars: Record<string, string>): Promise<Harness> {
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      // Into the e2e secrets scan's records, as startRelay does, rather than onto the report
      // (Miniflare 5 reports runtime output here; its per-worker stdio hook is gone).
      handleStructuredLogs: ({ message }) => record(message),
      workers: [
        {
          name: "sluice",
          modules: true,
          scriptPath: HARNESS_BUNDLE,
          compatibilityDate: "2026-10-01",
          durableObjects: {
            SESSIONS: { className: "ChatSession", useSQLite: true },
            USAGE: { className: "UsageLedger", useSQLite: true },
          },
          bindings: { PROVIDER: "demo", DEMO_DELAY_MS: "0", ...vars },
        },
      ],
    }),
  );
  const url = (await mf.ready).origin;
  return { url, mf, dispose: () => mf.dispose() };
}

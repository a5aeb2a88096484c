/**
 * The harness Worker (bench/harness-worker.ts: the Worker plus bench-only routes), bundled and
 * served by the same Miniflare set-up as the tests (test/helpers/relay.ts).
 */
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../test/helpers/bundle.ts";
import { type Relay, startRelay } from "../test/helpers/relay.ts";

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

/** Starts the harness Worker with the bindings of wrangler.toml, through the tests' one harness. */
export function startHarness(vars: Record<string, string>): Promise<Relay> {
  return startRelay(vars, { script: HARNESS_BUNDLE });
}

// The one way to start the bundled Worker in Miniflare on a real port, for the e2e tests, the
// browser tests and the benchmarks. Bindings come from wrangler.toml (as `wrangler dev` and the
// vitest plugin read it), so a binding added there cannot be forgotten in any of them.

import { fileURLToPath } from "node:url";
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { BUNDLE } from "../e2e/global-setup.ts";
import { record } from "./record.ts";

const CONFIG = fileURLToPath(new URL("../../wrangler.toml", import.meta.url));

export interface Relay {
  /** http://127.0.0.1:PORT */
  url: string;
  /** ws://127.0.0.1:PORT */
  wsUrl: string;
  mf: Miniflare;
  /** Every line the runtime printed so far (stdout and stderr), in order. */
  logs: string[];
  dispose(): Promise<void>;
}

/** A fake Workers AI binding: `run` streams the documented SSE format, word by word (at most `max_tokens`). */
const FAKE_AI = `
import { WorkerEntrypoint } from "cloudflare:workers";
export default class FakeAi extends WorkerEntrypoint {
  async run(model, inputs) {
    const last = inputs.messages.at(-1).content;
    // max_tokens, when sent, caps the answer's words, as the real models cap their tokens.
    const words = ("Workers AI (" + model + ") heard: " + last).split(" ").slice(0, inputs.max_tokens);
    const encoder = new TextEncoder();
    return new ReadableStream({
      start(controller) {
        for (const [i, word] of words.entries()) {
          const response = i === 0 ? word : " " + word;
          controller.enqueue(encoder.encode("data: " + JSON.stringify({ response, p: "abc" }) + "\\n\\n"));
        }
        const usage = { prompt_tokens: 7, completion_tokens: words.length, total_tokens: 7 + words.length };
        controller.enqueue(encoder.encode("data: " + JSON.stringify({ response: "", usage }) + "\\n\\n"));
        controller.enqueue(encoder.encode("data: [DONE]\\n\\n"));
        controller.close();
      },
    });
  }
}`;

/**
 * A stand-in for the METRICS Analytics Engine dataset (Miniflare's own discards the points):
 * each data point is logged as one `metrics-datapoint {json}` line, which the relay records.
 */
const FAKE_METRICS = `
import { WorkerEntrypoint } from "cloudflare:workers";
export default class FakeMetrics extends WorkerEntrypoint {
  writeDataPoint(point) {
    console.log("metrics-datapoint " + JSON.stringify(point));
  }
}`;

/**
 * An in-memory stand-in for a rate-limit binding, as production's is: a counter per key and
 * window in the isolate, no storage. Miniflare's own counts in a Durable Object that commits a
 * SQLite row per request, work production's binding does not do (see `RelayOptions.services`).
 */
export const MEMORY_LIMITER = `
import { WorkerEntrypoint } from "cloudflare:workers";
const counts = new Map();
export default class MemoryLimiter extends WorkerEntrypoint {
  limit({ key }) {
    const window = Math.floor(Date.now() / (this.env.PERIOD * 1000));
    const slot = window + ":" + key;
    if (!counts.has(slot)) {
      for (const old of counts.keys()) if (!old.startsWith(window + ":")) counts.delete(old);
    }
    const count = (counts.get(slot) ?? 0) + 1;
    counts.set(slot, count);
    return { success: count <= this.env.LIMIT };
  }
}`;

export interface RelayOptions {
  /** Requests per minute per client (the REQUEST_LIMITER binding); default 10,000. */
  requestsPerMinute?: number;
  /**
   * The platform's services. `recording` (the tests): Miniflare's rate limiter, and a METRICS
   * that logs each data point for the tests to read. `lean` (the benchmarks): an in-memory rate
   * limiter (`MEMORY_LIMITER`) and Miniflare's own Analytics Engine dataset, which drops the
   * points; both cost about what production's bindings do, not a storage commit or a log line
   * per call (bench/README.md "Platform services").
   */
  services?: "recording" | "lean";
  /** The bundled Worker to serve; default the e2e bundle of src/index.ts. */
  script?: string;
  /** Serve public/ as static assets, as `npm run dev` does (the browser tests). */
  assets?: boolean;
  /**
   * Keep Durable Object state in this directory (as `wrangler dev --persist-to`), so a
   * restarted relay finds it again.
   */
  persist?: string;
  /** Called when Miniflare has restarted a workerd process that died. */
  onRuntimeRestart?: () => void;
}

/** The parts of wrangler's translation of wrangler.toml that the relay takes over. */
type FromConfig = Pick<
  V4WorkerOptions,
  | "compatibilityDate"
  | "compatibilityFlags"
  | "durableObjects"
  | "assets"
  | "bindings"
  | "ratelimits"
  | "analyticsEngineDatasets"
>;

/**
 * Starts the relay. `vars` override wrangler.toml's [vars] (whose DEMO_DELAY_MS is set to 0 here,
 * for speed); secrets from .dev.vars are not read, so a developer's own keys or tokens never
 * leak into tests. Every line the runtime prints goes to the secrets scan's records.
 */
export async function startRelay(
  vars: Record<string, string> = {},
  options: RelayOptions = {},
): Promise<Relay> {
  // Wrangler types these options with an Omit over miniflare's union, which loses the field
  // types; the object itself is miniflare's V4 worker options, as the vitest plugin uses.
  const config = unstable_getMiniflareWorkerOptions(CONFIG).workerOptions as FromConfig;
  // Tests send far more than one client would; the limit has its own tests.
  const simple = { limit: options.requestsPerMinute ?? 10_000, period: 60 as const };
  const limiters = Object.entries(config.ratelimits ?? {});
  const lean = options.services === "lean";
  const ratelimits = lean
    ? {}
    : Object.fromEntries(limiters.map(([name, limit]) => [name, { ...limit, simple }]));
  // The in-memory stand-ins, one worker per binding, served as service bindings of its name.
  const memoryLimiters = lean
    ? limiters.map(([name]) => ({
        name: `memory-limiter-${name.toLowerCase()}`,
        modules: true,
        script: MEMORY_LIMITER,
        compatibilityDate: config.compatibilityDate,
        bindings: { LIMIT: simple.limit, PERIOD: simple.period },
        binding: name,
      }))
    : [];
  const logs: string[] = [];
  // Miniflare 5 takes a new options shape; the classic (v4) one is converted, and reads better.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      // Miniflare 5's name for it; the v4 `durableObjectsPersist` is dropped by its converter.
      resourcePersistencePath: options.persist,
      unsafeHandleRuntimeRestart: options.onRuntimeRestart,
      // Every line the runtime prints, for the secrets scan and the tests that read logs.
      // (Miniflare 5 reports runtime output here; its per-worker stdio hook is gone.)
      handleStructuredLogs({ level, message }) {
        record(message);
        logs.push(...message.split("\n").filter((line) => line !== ""));
        if (level === "error" || level === "warn") console.error(message);
      },
      workers: [
        {
          name: "sluice",
          modules: true,
          scriptPath: options.script ?? BUNDLE,
          compatibilityDate: config.compatibilityDate,
          compatibilityFlags: config.compatibilityFlags,
          durableObjects: config.durableObjects,
          ratelimits,
          ...(options.assets ? { assets: config.assets } : {}),
          bindings: { ...config.bindings, PROVIDER: "demo", DEMO_DELAY_MS: "0", ...vars },
          // Lean: Miniflare's own dataset. Recording: a fake that keeps the data points, for
          // the tests to read.
          ...(lean ? { analyticsEngineDatasets: config.analyticsEngineDatasets } : {}),
          serviceBindings: {
            AI: "fake-ai",
            ...(lean ? {} : { METRICS: "fake-metrics" }),
            ...Object.fromEntries(memoryLimiters.map(({ binding, name }) => [binding, name])),
          },
        },
        ...memoryLimiters.map(({ binding: _, ...worker }) => worker),
        {
          name: "fake-ai",
          modules: true,
          script: FAKE_AI,
          compatibilityDate: config.compatibilityDate,
        },
        {
          name: "fake-metrics",
          modules: true,
          script: FAKE_METRICS,
          compatibilityDate: config.compatibilityDate,
        },
      ],
    }),
  );
  const ready = await mf.ready;
  const url = ready.origin;
  return {
    url,
    wsUrl: url.replace(/^http/, "ws"),
    mf,
    logs,
    dispose: () => mf.dispose(),
  };
}

// Starts the bundled Worker in Miniflare on a real port, with the bindings a test chooses.

import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { BUNDLE } from "../e2e/global-setup.ts";
import { record } from "./record.ts";

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

export interface RelayOptions {
  /** Requests per minute per client (the REQUEST_LIMITER binding); default 10,000. */
  requestsPerMinute?: number;
}

export async function startRelay(
  vars: Record<string, string> = {},
  options: RelayOptions = {},
): Promise<Relay> {
  const logs: string[] = [];
  // Miniflare 5 takes a new options shape; the classic (v4) one is converted, and reads better.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
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
          scriptPath: BUNDLE,
          compatibilityDate: "2026-10-01",
          durableObjects: {
            SESSIONS: { className: "ChatSession", useSQLite: true },
            CLIENT_LIMITS: { className: "ClientLimiter", useSQLite: true },
            USAGE: { className: "UsageLedger", useSQLite: true },
          },
          ratelimits: {
            REQUEST_LIMITER: {
              namespace_id: "4201",
              simple: { limit: options.requestsPerMinute ?? 10_000, period: 60 },
            },
          },
          bindings: { PROVIDER: "demo", DEMO_DELAY_MS: "0", ...vars },
          serviceBindings: { AI: "fake-ai", METRICS: "fake-metrics" },
        },
        { name: "fake-ai", modules: true, script: FAKE_AI, compatibilityDate: "2026-10-01" },
        {
          name: "fake-metrics",
          modules: true,
          script: FAKE_METRICS,
          compatibilityDate: "2026-10-01",
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

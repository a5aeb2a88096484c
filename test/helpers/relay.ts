// Starts the bundled Worker in Miniflare on a real port, with the bindings a test chooses.

import type { Readable } from "node:stream";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { BUNDLE } from "../e2e/global-setup.ts";
import { record } from "./record.ts";

export interface Relay {
  /** http://127.0.0.1:PORT */
  url: string;
  /** ws://127.0.0.1:PORT */
  wsUrl: string;
  mf: Miniflare;
  dispose(): Promise<void>;
}

/** A fake Workers AI binding: `run` streams the documented SSE format, word by word. */
const FAKE_AI = `
import { WorkerEntrypoint } from "cloudflare:workers";
export default class FakeAi extends WorkerEntrypoint {
  async run(model, inputs) {
    const last = inputs.messages.at(-1).content;
    const words = ("Workers AI (" + model + ") heard: " + last).split(" ");
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

export interface RelayOptions {
  /** Requests per minute per client (the REQUEST_LIMITER binding); default 10,000. */
  requestsPerMinute?: number;
  /** A directory to keep the Durable Objects' SQLite files in, so a test can read them. */
  persistTo?: string;
}

export async function startRelay(
  vars: Record<string, string> = {},
  options: RelayOptions = {},
): Promise<Relay> {
  // Miniflare 5 takes a new options shape; the classic (v4) one is converted, and reads better.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      ...(options.persistTo ? { resourcePersistencePath: options.persistTo } : {}),
      workers: [
        {
          name: "sluice",
          modules: true,
          scriptPath: BUNDLE,
          compatibilityDate: "2026-10-01",
          durableObjects: {
            SESSIONS: { className: "ChatSession", useSQLite: true },
            CLIENT_LIMITS: { className: "ClientLimiter", useSQLite: true },
            CHATS: { className: "ChatDirectory", useSQLite: true },
          },
          ratelimits: {
            REQUEST_LIMITER: {
              namespace_id: "4201",
              simple: { limit: options.requestsPerMinute ?? 10_000, period: 60 },
            },
          },
          bindings: { PROVIDER: "demo", DEMO_DELAY_MS: "0", ...vars },
          serviceBindings: { AI: "fake-ai" },
          handleRuntimeStdio(stdout: Readable, stderr: Readable) {
            for (const stream of [stdout, stderr])
              stream.on("data", (data) => record(String(data)));
          },
        },
        { name: "fake-ai", modules: true, script: FAKE_AI, compatibilityDate: "2026-10-01" },
      ],
    }),
  );
  const ready = await mf.ready;
  const url = ready.origin;
  return {
    url,
    wsUrl: url.replace(/^http/, "ws"),
    mf,
    dispose: () => mf.dispose(),
  };
}

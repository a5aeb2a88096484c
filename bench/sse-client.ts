/**
 * A minimal SSE client for the load generator, on node:http rather than fetch: at 500 streams
 * fetch's web streams cost the client more CPU than it can spare, and a busy client delays
 * every receipt time. The same cheap reader serves the relay and the direct baseline, so the
 * client's cost is equal on both sides. Handles the `event:` and `data:` fields only.
 */
import { request } from "node:http";

export interface SseMessage {
  event: string;
  data: string;
  /** When the bytes that completed this message were read (monotonic ms). */
  receivedAt: number;
}

/** Longest message the reader buffers; a server that never ends one is an error, not a hang. */
const MAX_MESSAGE = 1024 * 1024;

function parseMessage(text: string): { event: string; data: string } {
  let event = "message";
  const data: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
  }
  return { event, data: data.join("\n") };
}

/** How to make the request; `body`, if any, goes as JSON. */
export interface SseRequest {
  method: "GET" | "POST";
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal;
  clock: () => number;
}

/**
 * Requests `url` and calls `onMessage` for each SSE message of the answer. Resolves with
 * `undefined` when the answer ended cleanly, else with a short failure label (`http_500`,
 * `timeout`, `aborted`, `connection_failed`, `oversized`).
 */
export function streamSse(
  url: string,
  options: SseRequest,
  onMessage: (message: SseMessage) => void,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener("abort", abort);
      resolve(outcome);
    };
    const payload =
      options.body === undefined
        ? undefined
        : new TextEncoder().encode(JSON.stringify(options.body));
    const headers: Record<string, string> = { ...options.headers };
    if (payload) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(payload.length);
    }
    const call = request(url, { method: options.method, headers });
    const fail = (outcome: string) => {
      settle(outcome);
      call.destroy();
    };
    const timer = setTimeout(() => fail("timeout"), options.timeoutMs);
    const abort = () => fail("aborted");
    if (options.signal.aborted) return fail("aborted");
    options.signal.addEventListener("abort", abort, { once: true });
    call.on("error", () => settle("connection_failed"));
    call.on("response", (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        return fail(`http_${response.statusCode}`);
      }
      const decoder = new TextDecoder();
      let buffer = "";
      response.on("data", (chunk) => {
        const receivedAt = options.clock();
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf("\n\n");
        while (end !== -1 && !settled) {
          onMessage({ ...parseMessage(buffer.slice(0, end)), receivedAt });
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
        }
        if (buffer.length > MAX_MESSAGE) fail("oversized");
      });
      response.on("end", () => settle(undefined));
      response.on("error", () => settle("connection_failed"));
    });
    call.end(payload);
  });
}

/** POSTs `body` as JSON to `url`; otherwise as `streamSse`. */
export function postSse(
  url: string,
  body: unknown,
  options: { timeoutMs: number; signal: AbortSignal; clock: () => number },
  onMessage: (message: SseMessage) => void,
): Promise<string | undefined> {
  return streamSse(url, { method: "POST", body, ...options }, onMessage);
}

// A real node:http upstream whose every request is answered by the next step of a script, so a
// test can stage any fault in order: `chaos.script({ status: 429, retryAfter: 1 }, { ok: ["Hi"] })`.
// It speaks the OpenAI Chat Completions stream on /chat/completions and the Anthropic Messages
// stream on /messages, and echoes the API key it received into every error body, as careless
// upstreams do, so tests can prove the relay never passes it on.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** How one request is answered. With neither `status`, `reset` nor `ok`, it is `{ ok: [] }`. */
export interface Step {
  /** Answer this HTTP status with a JSON error body instead of a stream. */
  status?: number;
  /** The Retry-After header to send with `status`: seconds, or an HTTP date. */
  retryAfter?: number | string;
  /** Destroy the connection as soon as the request is read, before any byte of the answer. */
  reset?: boolean;
  /** Wait this long before the response headers (a slow connect). */
  headersDelayMs?: number;
  /** Stream these text tokens after the headers and the opening (text-less) event. */
  ok?: string[];
  /** Milliseconds between tokens. */
  delayMs?: number;
  /** What follows the tokens; default `finish`: the proper ending and close. */
  end?: Ending;
}

/**
 * - `finish`: finish reason, usage and the end marker (`[DONE]`, `message_stop`).
 * - `drop`: destroy the connection (a connection lost mid-stream).
 * - `stall`: send nothing more, keep the connection open.
 * - `keep-alive`: send only keep-alives (an SSE comment or an Anthropic `ping`), every 50 ms.
 * - `malformed`: a data line that is not JSON, then more tokens and a proper ending.
 * - `error`: the upstream's in-stream error object, then close.
 * - `no-end`: close cleanly with neither a finish reason nor the end marker.
 */
export type Ending = "finish" | "drop" | "stall" | "keep-alive" | "malformed" | "error" | "no-end";

/** Tokens the `malformed` ending sends after its bad line; a relay must never show them. */
export const AFTER_MALFORMED = ["never ", "shown"];

export interface ChaosRequest {
  path: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
  /** When the request arrived (Date.now()). */
  at: number;
  /** Resolves when the connection of this request closed, whoever closed it. */
  closed: Promise<void>;
}

export interface ChaosUpstream {
  /** Base URL up to /v1, for OPENAI_BASE_URL or ANTHROPIC_BASE_URL. */
  baseUrl: string;
  /** Every request since the last `script()`, in order. */
  readonly requests: ChaosRequest[];
  /** Requests that found no step left; they were answered 500. Tests expect none. */
  readonly unscripted: number;
  /** Replaces the script and forgets earlier requests. */
  script(...steps: Step[]): void;
  /** Resolves once `count` requests have arrived. */
  waitForRequests(count: number, ms?: number): Promise<void>;
  close(): Promise<void>;
}

type Wire = "openai" | "anthropic";

/** The bytes of each part of an answer, in the format of `wire`. */
function framesOf(wire: Wire) {
  if (wire === "openai") {
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id: "chaos", object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    return {
      head: chunk({ role: "assistant", content: "" }, null),
      token: (text: string) => chunk({ content: text }, null),
      tail: (count: number) =>
        chunk({}, "stop") +
        `data: ${JSON.stringify({ id: "chaos", choices: [], usage: { prompt_tokens: 5, completion_tokens: count } })}\n\n` +
        "data: [DONE]\n\n",
      keepAlive: ": keep-alive\n\n",
      malformed: 'data: {"choices": [{"delta": {"content": "oops"\n\n',
      error: `data: ${JSON.stringify({ error: { message: "Upstream overloaded mid-stream", code: 502 } })}\n\n`,
    };
  }
  const event = (type: string, data: object = {}) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  return {
    head:
      event("message_start", {
        message: { id: "chaos", role: "assistant", usage: { input_tokens: 5, output_tokens: 1 } },
      }) + event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    token: (text: string) =>
      event("content_block_delta", { index: 0, delta: { type: "text_delta", text } }),
    tail: (count: number) =>
      event("content_block_stop", { index: 0 }) +
      event("message_delta", {
        delta: { stop_reason: "end_turn" },
        usage: { output_tokens: count },
      }) +
      event("message_stop"),
    keepAlive: event("ping"),
    malformed: "event: content_block_delta\ndata: {not json\n\n",
    error: event("error", { error: { type: "overloaded_error", message: "Overloaded" } }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startChaosUpstream(): Promise<ChaosUpstream> {
  let steps: Step[] = [];
  let requests: ChaosRequest[] = [];
  let unscripted = 0;
  let arrived = () => {};

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = "";
    for await (const part of req) raw += part;
    let gone = false;
    const closed = new Promise<void>((resolve) =>
      res.on("close", () => {
        gone = true;
        resolve();
      }),
    );
    requests.push({
      path: req.url ?? "",
      headers: req.headers,
      body: JSON.parse(raw),
      at: Date.now(),
      closed,
    });
    arrived();
    const step = steps.shift();
    if (!step) unscripted += 1;
    const { status, retryAfter, reset, headersDelayMs, ok = [], delayMs, end } = step ?? {};
    if (reset) {
      req.socket.destroy();
      return;
    }
    if (headersDelayMs) await sleep(headersDelayMs);
    if (gone) return;
    if (status || !step) {
      const key = req.headers.authorization ?? req.headers["x-api-key"] ?? "none";
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
      res.writeHead(status ?? 500, headers);
      const message = step ? `chaos ${status} for key ${key}` : "chaos: no step scripted";
      res.end(JSON.stringify({ error: { type: "chaos_error", message } }));
      return;
    }
    const frames = framesOf(req.url?.endsWith("/messages") ? "anthropic" : "openai");
    // The headers go out with the first write, as a real server flushes them with its first event.
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(frames.head);
    for (const token of ok) {
      if (gone) return;
      res.write(frames.token(token));
      if (delayMs) await sleep(delayMs);
    }
    switch (end ?? "finish") {
      case "finish":
        res.end(frames.tail(ok.length));
        return;
      case "drop":
        // Destroy only after the tokens left, so the relay surely saw them before the loss.
        res.write("", () => res.destroy());
        return;
      case "stall":
        return;
      case "keep-alive":
        while (!gone) {
          res.write(frames.keepAlive);
          await sleep(50);
        }
        return;
      case "malformed":
        res.write(frames.malformed);
        for (const token of AFTER_MALFORMED) res.write(frames.token(token));
        res.end(frames.tail(ok.length + AFTER_MALFORMED.length));
        return;
      case "error":
        res.end(frames.error);
        return;
      case "no-end":
        res.end();
        return;
    }
  }

  const server = createServer((req, res) => {
    answer(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return requests;
    },
    get unscripted() {
      return unscripted;
    },
    script(...next) {
      steps = [...next];
      requests = [];
      unscripted = 0;
    },
    waitForRequests(count, ms = 5_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${requests.length} of ${count} requests after ${ms} ms`)),
          ms,
        );
        const check = () => {
          if (requests.length < count) return;
          clearTimeout(timer);
          arrived = () => {};
          resolve();
        };
        arrived = check;
        check();
      });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

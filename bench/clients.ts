/**
 * The load generator's clients. One stream reads an answer over the relay's WebSocket (`ws`),
 * over its SSE route (`sse`), or straight from the upstream (`direct`, the baseline); every
 * token's latency is its receipt time minus the emission time written in its text.
 */
import { now } from "./clock.ts";
import { streamSse } from "./sse-client.ts";
import { type Plan, planPrompt, readStamps } from "./upstream.ts";
import { isRecord, parseRecord } from "./wire-readers.ts";

export type Transport = "direct" | "ws" | "sse";

export interface Endpoints {
  /** The relay, http://127.0.0.1:PORT. */
  relay: string;
  /** The upstream's base URL, /v1 included. */
  upstream: string;
}

export interface StreamResult {
  /** Receipt minus emission of each token received, in ms. */
  lags: number[];
  /** Prompt sent to first token received, in ms; undefined when none came. */
  ttfcMs: number | undefined;
  tokens: number;
  /** Receipt time (monotonic ms) of each chunk that carried tokens, in order. */
  arrivals: number[];
  /** Why the stream failed (an error code, `timeout`, `closed`, `short`...), if it did. */
  error: string | undefined;
}

/** A stream whose connection is set up; `start` sends the prompt and reads the whole answer. */
export interface ReadyStream {
  /** The relay's session id, for the transports that have one. */
  session: string | undefined;
  /** Resolves when the first token arrives, or when the stream ends without one. */
  firstToken: Promise<void>;
  start(): Promise<StreamResult>;
  close(): void;
}

const text = (value: unknown) => (typeof value === "string" ? value : undefined);

/** Rejects with `label` if `promise` takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(label)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Counts tokens and latencies of one answer. */
class Tally {
  readonly result: StreamResult = {
    lags: [],
    ttfcMs: undefined,
    tokens: 0,
    arrivals: [],
    error: undefined,
  };
  readonly firstToken: Promise<void>;
  private readonly expected: number;
  private sentAt = 0;
  private first: () => void = () => {};

  // No parameter properties: Node's type stripping cannot run them.
  constructor(expected: number) {
    this.expected = expected;
    this.firstToken = new Promise((resolve) => {
      this.first = resolve;
    });
  }

  sent(): void {
    this.sentAt = now();
  }

  content(content: string, receivedAt: number): void {
    const stamps = readStamps(content);
    for (const stamp of stamps) {
      this.result.lags.push(receivedAt - stamp);
      this.result.tokens += 1;
    }
    if (stamps.length > 0) this.result.arrivals.push(receivedAt);
    if (this.result.ttfcMs === undefined && this.result.tokens > 0) {
      this.result.ttfcMs = receivedAt - this.sentAt;
      this.first();
    }
  }

  fail(error: string): void {
    this.result.error ??= error;
  }

  finish(error?: string): StreamResult {
    if (error) this.fail(error);
    if (this.result.tokens !== this.expected) this.fail("short");
    this.first();
    return this.result;
  }
}

/** The subprotocols that carry `token` to the relay (browsers cannot set headers on sockets). */
export function tokenProtocols(token: string | undefined): string[] | undefined {
  return token === undefined ? undefined : ["sluice", `sluice.token.${token}`];
}

async function connectWs(endpoints: Endpoints, plan: Plan, timeoutMs: number, token?: string) {
  const url = `${endpoints.relay.replace(/^http/, "ws")}/chat`;
  const ws = new WebSocket(url, tokenProtocols(token));
  const tally = new Tally(plan.tokens);
  let onSession: (session: string) => void = () => {};
  let onEnd: (error?: string) => void = () => {};
  ws.addEventListener("message", (event) => {
    const receivedAt = now();
    const frame = parseRecord(event.data);
    if (frame === undefined) return onEnd("bad_frame");
    if (frame.type === "session") onSession(text(frame.session) ?? "");
    else if (frame.type === "chunk") tally.content(text(frame.content) ?? "", receivedAt);
    else if (frame.type === "done") onEnd(frame.status === "complete" ? undefined : "incomplete");
    else if (frame.type === "error") {
      tally.fail(text(frame.code) ?? "error");
      // A connection-level error (no messageId) refused the prompt: no `done` follows.
      if (frame.messageId === undefined) onEnd();
    }
  });
  ws.addEventListener("close", () => onEnd("closed"));
  ws.addEventListener("error", () => onEnd("socket_error"));
  const opened = new Promise<string>((resolve, reject) => {
    onSession = resolve;
    onEnd = (error) => reject(new Error(error ?? "closed"));
  });
  const session = await within(opened, timeoutMs, "connect_timeout").catch((error) => {
    ws.close();
    throw error;
  });
  onEnd = () => {};
  return {
    session,
    firstToken: tally.firstToken,
    close: () => ws.close(),
    start: () =>
      new Promise<StreamResult>((resolve) => {
        const timer = setTimeout(() => onEnd("timeout"), timeoutMs);
        onEnd = (error) => {
          onEnd = () => {};
          clearTimeout(timer);
          ws.close();
          resolve(tally.finish(error));
        };
        tally.sent();
        ws.send(JSON.stringify({ prompt: planPrompt(plan) }));
      }),
  } satisfies ReadyStream;
}

/** POSTs `body` and reads the SSE answer into `onMessage`; resolves with an error label or none. */
function readAnswer(
  url: string,
  body: unknown,
  timeoutMs: number,
  controller: AbortController,
  headers: Record<string, string>,
  onMessage: (event: string, data: string, receivedAt: number) => void,
): Promise<string | undefined> {
  const options = { method: "POST", body, headers, timeoutMs, signal: controller.signal } as const;
  return streamSse(url, { ...options, clock: now }, (message) =>
    onMessage(message.event, message.data, message.receivedAt),
  );
}

async function connectSse(endpoints: Endpoints, plan: Plan, timeoutMs: number, token?: string) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const created = await within(
    fetch(`${endpoints.relay}/sessions`, { method: "POST", headers }),
    timeoutMs,
    "connect_timeout",
  );
  const session = text(parseRecord(await created.text())?.session);
  if (created.status !== 201 || session === undefined) throw new Error(`http_${created.status}`);
  const tally = new Tally(plan.tokens);
  const controller = new AbortController();
  return {
    session,
    firstToken: tally.firstToken,
    close: () => controller.abort(),
    async start() {
      let ending: string | undefined = "no_done";
      tally.sent();
      const failed = await readAnswer(
        `${endpoints.relay}/sessions/${session}/messages`,
        { content: planPrompt(plan) },
        timeoutMs,
        controller,
        headers,
        (event, data, receivedAt) => {
          const frame = parseRecord(data);
          if (event === "chunk") tally.content(text(frame?.content) ?? "", receivedAt);
          else if (event === "error") tally.fail(text(frame?.code) ?? "error");
          else if (event === "done")
            ending = frame?.status === "complete" ? undefined : "incomplete";
        },
      );
      return tally.finish(failed ?? ending);
    },
  } satisfies ReadyStream;
}

function connectDirect(endpoints: Endpoints, plan: Plan, timeoutMs: number): ReadyStream {
  const tally = new Tally(plan.tokens);
  const controller = new AbortController();
  return {
    session: undefined,
    firstToken: tally.firstToken,
    close: () => controller.abort(),
    async start() {
      let ending: string | undefined = "no_done";
      tally.sent();
      const body = {
        model: "bench",
        stream: true,
        messages: [{ role: "user", content: planPrompt(plan) }],
      };
      const failed = await readAnswer(
        `${endpoints.upstream}/chat/completions`,
        body,
        timeoutMs,
        controller,
        {},
        (_event, data, receivedAt) => {
          if (data === "[DONE]") {
            ending = undefined;
            return;
          }
          const choices = parseRecord(data)?.choices;
          const choice: unknown = Array.isArray(choices) ? choices[0] : undefined;
          const delta = isRecord(choice) ? choice.delta : undefined;
          tally.content((isRecord(delta) && text(delta.content)) || "", receivedAt);
        },
      );
      return tally.finish(failed ?? ending);
    },
  };
}

/**
 * Sets up one stream of `transport`; rejects (with the reason as message) if it cannot.
 * `token`, if given, identifies the stream's user to the relay (`Authorization: Bearer`, or the
 * WebSocket subprotocols `sluice` + `sluice.token.<token>`).
 */
export async function connect(
  transport: Transport,
  endpoints: Endpoints,
  plan: Plan,
  timeoutMs: number,
  token?: string,
): Promise<ReadyStream> {
  switch (transport) {
    case "ws":
      return connectWs(endpoints, plan, timeoutMs, token);
    case "sse":
      return connectSse(endpoints, plan, timeoutMs, token);
    case "direct":
      return connectDirect(endpoints, plan, timeoutMs);
  }
}

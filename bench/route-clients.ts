/**
 * Clients for one answer on each of the relay's public routes, timed from the request to the
 * answer's last event: asking on the native SSE route, the OpenAI-compatible route and the two
 * AI SDK routes, and replaying an answer in progress to a new client on each protocol.
 */
import { now } from "./clock.ts";
import { streamSse } from "./sse-client.ts";
import { type Plan, planPrompt, readStamps } from "./upstream.ts";
import {
  parseRecord,
  type Reading,
  readAiSdkWsFrame,
  readChatFrame,
  readNativeSse,
  readOpenAiSse,
  readUiSse,
} from "./wire-readers.ts";

/** The routes a prompt can be asked on. */
export const ASK_ROUTES = ["messages", "completions", "ai-sdk", "ai-sdk-ws"] as const;
export type AskRoute = (typeof ASK_ROUTES)[number];

/** The ways a new client replays an answer in progress. */
export const REPLAY_ROUTES = ["chat-ws", "events", "ai-sdk-stream", "ai-sdk-ws"] as const;
export type ReplayRoute = (typeof REPLAY_ROUTES)[number];

/** What each route is, as the reports name it. */
export const ROUTE_NAMES: Record<AskRoute | `replay:${ReplayRoute}`, string> = {
  messages: "POST /sessions/:id/messages",
  completions: "POST /v1/chat/completions",
  "ai-sdk": "POST /api/chat",
  "ai-sdk-ws": "/api/chat/ws (send)",
  "replay:chat-ws": "/chat?session=&after=0",
  "replay:events": "GET /sessions/:id/events (Last-Event-ID: 0)",
  "replay:ai-sdk-stream": "GET /api/chat/:id/stream",
  "replay:ai-sdk-ws": "/api/chat/ws (resume)",
};

/** One answer, timed. */
export interface TimedAnswer {
  /** Request sent to the last event received, ms. */
  lastEventMs: number;
  /** Request sent to the first token received, ms (NaN when none came). */
  firstTokenMs: number;
  tokens: number;
  /** SSE messages or frames received. */
  messages: number;
  error: string | undefined;
}

/** Calls back with each message; `true` from the callback stops reading (not a failure). */
type Source = (
  onMessage: (reading: Reading, receivedAt: number) => boolean,
) => Promise<string | undefined>;

/**
 * Reads `source` until its answer ends (`until: "end"`) or `until` tokens have come, whichever
 * the caller wants, and times it from `startedAt`.
 */
async function follow(
  startedAt: number,
  source: Source,
  until: "end" | number,
  expected: number,
): Promise<TimedAnswer> {
  const answer: TimedAnswer = {
    lastEventMs: Number.NaN,
    firstTokenMs: Number.NaN,
    tokens: 0,
    messages: 0,
    error: undefined,
  };
  let finished = false;
  const failure = await source((reading, receivedAt) => {
    answer.messages += 1;
    answer.lastEventMs = receivedAt - startedAt;
    if (reading.text) {
      const stamps = readStamps(reading.text).length;
      if (stamps > 0 && answer.tokens === 0) answer.firstTokenMs = receivedAt - startedAt;
      answer.tokens += stamps;
    }
    if (reading.error !== undefined) answer.error ??= reading.error;
    finished =
      reading.error !== undefined ||
      (until === "end" ? reading.end === true : answer.tokens >= until);
    return finished;
  });
  if (!finished) answer.error ??= failure ?? "no_end";
  if (answer.tokens !== expected) answer.error ??= "short";
  return answer;
}

function sseSource(
  url: string,
  method: "GET" | "POST",
  body: unknown,
  headers: Record<string, string>,
  timeoutMs: number,
  read: (event: string, data: string) => Reading,
): Source {
  return async (onMessage) => {
    const controller = new AbortController();
    let stopped = false;
    const outcome = await streamSse(
      url,
      { method, body, headers, timeoutMs, signal: controller.signal, clock: now },
      (message) => {
        if (stopped) return;
        stopped = onMessage(read(message.event, message.data), message.receivedAt);
        if (stopped) controller.abort();
      },
    );
    return stopped ? undefined : outcome;
  };
}

/** A WebSocket to `url`, open (rejects with a label on failure or after `timeoutMs`). */
export function openSocket(
  url: string,
  protocols: string[] | undefined,
  timeoutMs: number,
): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error("connect_timeout"));
    }, timeoutMs);
    ws.addEventListener("open", () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.addEventListener("error", () => {
      clearTimeout(timer);
      reject(new Error("socket_error"));
    });
  });
}

/** Reads `ws` (already open or opening); `first`, if given, is sent once it is open. */
function socketSource(
  ws: WebSocket,
  first: string | undefined,
  timeoutMs: number,
  read: (data: unknown) => Reading,
): Source {
  return (onMessage) =>
    new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: string | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.close();
        resolve(outcome);
      };
      const timer = setTimeout(() => settle("timeout"), timeoutMs);
      ws.addEventListener("message", (event) => {
        if (settled) return;
        if (onMessage(read(event.data), now())) settle(undefined);
      });
      ws.addEventListener("close", () => settle("closed"));
      ws.addEventListener("error", () => settle("socket_error"));
      if (first === undefined) return;
      if (ws.readyState === WebSocket.OPEN) ws.send(first);
      else ws.addEventListener("open", () => ws.send(first));
    });
}

const wsUrl = (relay: string) => relay.replace(/^http/, "ws");

/** Creates a session (`POST /sessions`) and returns its id. */
export async function createSession(relay: string, token?: string): Promise<string> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const response = await fetch(`${relay}/sessions`, { method: "POST", headers });
  const session = parseRecord(await response.text())?.session;
  if (response.status !== 201 || typeof session !== "string") {
    throw new Error(`POST /sessions: http_${response.status}`);
  }
  return session;
}

let requests = 0;
/** A request id as the AI SDK's transport makes them: 16 characters. */
function requestId(): string {
  requests += 1;
  return `bench${String(requests).padStart(11, "0")}`;
}

/** The user message the AI SDK's transports send for `text`. */
function uiMessage(text: string) {
  return { id: requestId(), role: "user", parts: [{ type: "text", text }] };
}

/** The body DefaultChatTransport POSTs to /api/chat (JSON drops the undefined messageId). */
export function defaultTransportBody(chatId: string, text: string) {
  return { id: chatId, messages: [uiMessage(text)], trigger: "submit-message" };
}

/** The `send` frame WebSocketChatTransport writes for one new user message. */
export function wsSendFrame(id: string, chatId: string, text: string) {
  return {
    type: "send",
    requestId: id,
    id: chatId,
    trigger: "submit-message",
    messages: [uiMessage(text)],
    headers: {},
    body: {},
  };
}

/**
 * Asks `plan` on `route` of `relay` and reads the whole answer. Setting up (creating the
 * session, opening the socket) is not timed: the clock starts with the prompt's request.
 */
export async function askOnRoute(
  route: AskRoute,
  relay: string,
  plan: Plan,
  timeoutMs: number,
): Promise<TimedAnswer> {
  const prompt = planPrompt(plan);
  switch (route) {
    case "messages": {
      const session = await createSession(relay);
      const url = `${relay}/sessions/${session}/messages`;
      const source = sseSource(url, "POST", { content: prompt }, {}, timeoutMs, readNativeSse);
      return follow(now(), source, "end", plan.tokens);
    }
    case "completions": {
      const body = {
        model: "bench",
        stream: true,
        messages: [{ role: "user", content: prompt }],
      };
      const url = `${relay}/v1/chat/completions`;
      const source = sseSource(url, "POST", body, {}, timeoutMs, (_, data) => readOpenAiSse(data));
      return follow(now(), source, "end", plan.tokens);
    }
    case "ai-sdk": {
      const session = await createSession(relay);
      const body = defaultTransportBody(session, prompt);
      const source = sseSource(`${relay}/api/chat`, "POST", body, {}, timeoutMs, (_, data) =>
        readUiSse(data),
      );
      return follow(now(), source, "end", plan.tokens);
    }
    case "ai-sdk-ws": {
      const session = await createSession(relay);
      const ws = await openSocket(`${wsUrl(relay)}/api/chat/ws`, undefined, timeoutMs);
      const id = requestId();
      const frame = JSON.stringify(wsSendFrame(id, session, prompt));
      const source = socketSource(ws, frame, timeoutMs, (data) => readAiSdkWsFrame(data, id));
      return follow(now(), source, "end", plan.tokens);
    }
  }
}

/**
 * A new client replays the answer streaming in `session` on `route` until `tokens` tokens
 * have come (everything but the held-back tail). Timed from the request that opens the
 * client (the socket's creation, for the WebSocket ones).
 */
export function replayOnRoute(
  route: ReplayRoute,
  relay: string,
  session: string,
  tokens: number,
  timeoutMs: number,
): Promise<TimedAnswer> {
  const startedAt = now();
  switch (route) {
    case "chat-ws": {
      const ws = new WebSocket(`${wsUrl(relay)}/chat?session=${session}&after=0`);
      return follow(
        startedAt,
        socketSource(ws, undefined, timeoutMs, readChatFrame),
        tokens,
        tokens,
      );
    }
    case "events": {
      const url = `${relay}/sessions/${session}/events`;
      const headers = { "last-event-id": "0" };
      const source = sseSource(url, "GET", undefined, headers, timeoutMs, readNativeSse);
      return follow(startedAt, source, tokens, tokens);
    }
    case "ai-sdk-stream": {
      const url = `${relay}/api/chat/${session}/stream`;
      const source = sseSource(url, "GET", undefined, {}, timeoutMs, (_, data) => readUiSse(data));
      return follow(startedAt, source, tokens, tokens);
    }
    case "ai-sdk-ws": {
      const ws = new WebSocket(`${wsUrl(relay)}/api/chat/ws`);
      const id = requestId();
      // What WebSocketChatTransport.reconnectToStream writes (its undefined fields dropped).
      const frame = JSON.stringify({
        type: "resume",
        requestId: id,
        id: session,
        headers: {},
        body: {},
      });
      const source = socketSource(ws, frame, timeoutMs, (data) => readAiSdkWsFrame(data, id));
      return follow(startedAt, source, tokens, tokens);
    }
  }
}

// GET /api/chat/ws, driven by the `ai` package's own WebSocketChatTransport (on Node's global
// WebSocket): answers assemble, chats share one socket, abort cancels, reconnects resume.
import type { UIMessageChunk, WebSocketChatTransportResponse } from "ai";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import type { WsChatResponse } from "../../src/routes/ai-sdk-ws-wire.ts";
import { record } from "../helpers/record.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { startUpstream, type Upstream } from "../helpers/upstreams.ts";
import {
  ask,
  assemble,
  chatTransport,
  demoTokens,
  eventually,
  newSession,
  RecordingWebSocket,
  readAll,
  startedMessageId,
  storedMessages,
  textOf,
} from "../helpers/ws-chat.ts";

/** What the local upstream streams for the abort test: 400 words, 5 ms apart. */
const WORDS = Array.from({ length: 400 }, (_, i) => `w${i} `);

let demo: Relay;
let relay: Relay;
let upstream: Upstream;

beforeAll(async () => {
  upstream = await startUpstream("openai", { tokens: ["A"] });
  [demo, relay] = await Promise.all([
    startRelay({ DEMO_DELAY_MS: "3" }),
    startRelay({
      PROVIDER: "openai",
      OPENAI_BASE_URL: upstream.baseUrl,
      OPENAI_API_KEY: SECRETS.openaiKey,
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([demo.dispose(), relay.dispose()]);
  await upstream.close();
});

/** Reads `count` chunks from `stream` and leaves the rest unread. */
async function readSome(stream: ReadableStream<UIMessageChunk>, count: number) {
  const reader = stream.getReader();
  const chunks: UIMessageChunk[] = [];
  while (chunks.length < count) {
    const next = await reader.read();
    if (next.done) break;
    chunks.push(next.value);
  }
  reader.releaseLock();
  return chunks;
}

it("sends only frames the SDK's WebSocketChatTransportResponse type allows", () => {
  expectTypeOf<WsChatResponse>().toExtend<WebSocketChatTransportResponse>();
});

describe("WebSocketChatTransport on /api/chat/ws", () => {
  it("streams an answer the SDK assembles, stored in the chat's session", async () => {
    const session = await newSession(demo);
    const transport = chatTransport(demo);
    const chunks = await readAll(await ask(transport, session, "/tokens 5"));
    const message = await assemble(chunks);
    expect(textOf(message)).toBe("t0 t1 t2 t3 t4 ");
    expect(message?.parts.map((part) => part.type)).toEqual(["step-start", "text"]);
    const types = "start start-step text-start text-delta text-delta text-delta text-delta";
    expect(chunks.map((chunk) => chunk.type)).toEqual([
      ...types.split(" "),
      ...["text-delta", "text-end", "finish-step", "finish"],
    ]);
    const stored = await storedMessages(demo, session);
    expect(stored.map((m) => [m.role, m.content, m.status])).toEqual([
      ["user", "/tokens 5", "complete"],
      ["assistant", "t0 t1 t2 t3 t4 ", "complete"],
    ]);
    expect(stored[1]?.id).toBe(message?.id);
    transport.close();
  });

  it("maps a chat id to the same session as POST /api/chat", async () => {
    const transport = chatTransport(demo);
    await readAll(await ask(transport, "shared-chat-id", "/tokens 1"));
    transport.close();
    const message = { role: "user", parts: [{ type: "text", text: "/tokens 2" }] };
    const body = JSON.stringify({ id: "shared-chat-id", message });
    const http = await fetch(`${demo.url}/api/chat`, { method: "POST", body });
    record(await http.text());
    const stored = await storedMessages(demo, http.headers.get("x-sluice-session") ?? "");
    expect(stored.map((m) => m.content)).toEqual(["/tokens 1", "t0 ", "/tokens 2", "t0 t1 "]);
  });

  it("streams two chats side by side over one socket", async () => {
    const opened = RecordingWebSocket.opened;
    const transport = chatTransport(demo);
    const arrivals: Array<{ chat: string; at: number }> = [];
    const follow = async (chat: string) => {
      const chunks: UIMessageChunk[] = [];
      for await (const chunk of await ask(transport, chat, "/tokens 120")) {
        chunks.push(chunk);
        arrivals.push({ chat, at: performance.now() });
      }
      return textOf(await assemble(chunks));
    };
    expect(await Promise.all([follow("side-a"), follow("side-b")])).toEqual([
      demoTokens(120),
      demoTokens(120),
    ]);
    expect(RecordingWebSocket.opened - opened).toBe(1);
    // Interleaved: each chat's first chunk came before the other's last.
    const first = (chat: string) => arrivals.findIndex((arrival) => arrival.chat === chat);
    const last = (chat: string) => arrivals.findLastIndex((arrival) => arrival.chat === chat);
    expect(first("side-a")).toBeLessThan(last("side-b"));
    expect(first("side-b")).toBeLessThan(last("side-a"));
    transport.close();
  });

  it("aborts one chat: the upstream closes at once, the answer is stored cancelled, the rest goes on", async () => {
    upstream.script = { tokens: WORDS, delayMs: 5 };
    const transport = chatTransport(relay);
    const other = await ask(transport, "keeps-going", "tell me more");
    const otherText = readAll(other).then(async (chunks) => textOf(await assemble(chunks)));
    await eventually(async () => upstream.requests.length > 0 && upstream.sent() > 0);

    // Started second, so `upstream.closed()` and `sent()` follow this chat's upstream call.
    const session = await newSession(relay);
    const stop = new AbortController();
    const stream = await ask(transport, session, "stop me", stop.signal);
    const seen = await readSome(stream, 12);
    expect(seen).toHaveLength(12);
    const abortedAt = Date.now();
    stop.abort();
    const closed = await upstream.closed();
    expect(closed.finished).toBe(false);
    expect(closed.at - abortedAt).toBeLessThan(1_000);
    expect(upstream.sent()).toBeLessThan(400);

    await eventually(
      async () => (await storedMessages(relay, session)).at(-1)?.status === "cancelled",
    );
    const answer = (await storedMessages(relay, session)).at(-1);
    expect(answer?.content).toMatch(/^w0 w1 w2 w3 w4 w5 w6 w7 w8 /);
    expect(answer?.content.length).toBeLessThan(WORDS.join("").length);

    expect(await otherText).toBe(WORDS.join(""));
    upstream.script = { tokens: ["after ", "the ", "abort"] };
    const next = await assemble(await readAll(await ask(transport, session, "again")));
    expect(textOf(next)).toBe("after the abort");
    expect((await storedMessages(relay, session)).map((m) => m.status)).toEqual([
      "complete",
      "cancelled",
      "complete",
      "complete",
    ]);
    transport.close();
  });

  it("refuses a second question while the chat answers (busy) and keeps the first", async () => {
    const transport = chatTransport(demo);
    const first = await ask(transport, "busy-chat", "/tokens 80");
    const refused = await ask(transport, "busy-chat", "/tokens 1");
    const [chunks, failure] = await Promise.all([
      readAll(first),
      readAll(refused).then(
        () => "no error",
        (error: Error) => error.message,
      ),
    ]);
    expect(failure).toMatch(/^busy: An answer is already streaming in this session/);
    expect(textOf(await assemble(chunks))).toBe(demoTokens(80));
    expect(startedMessageId(chunks[0])).toMatch(/^msg_/);
    transport.close();
  });
});

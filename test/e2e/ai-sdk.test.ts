// The AI SDK routes, read by the `ai` package's own client code: DefaultChatTransport sends and
// reconnects, readUIMessageStream assembles the message. Chats are Sluice sessions.
import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from "ai";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { ERROR_STATUS, type ErrorCode } from "../../src/errors.ts";
import type { UIChunk } from "../../src/streams/ui-message-wire.ts";
import { record } from "../helpers/record.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { startUpstream, type Upstream } from "../helpers/upstreams.ts";

const TOKENS = 300;
const LONG_ANSWER = Array.from({ length: TOKENS }, (_, i) => `t${i} `).join("");

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

/** `fetch` that also records every response body for the suite's secrets scan. */
const recordingFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const copy = response.clone();
  copy.text().then(record, () => {});
  return response;
};

const transport = (target: Relay) =>
  new DefaultChatTransport<UIMessage>({ api: `${target.url}/api/chat`, fetch: recordingFetch });

let counter = 0;
function userMessage(text: string): UIMessage {
  counter += 1;
  return { id: `user-${counter}`, role: "user", parts: [{ type: "text", text }] };
}

function textOf(message: UIMessage | undefined): string {
  return (message?.parts ?? []).map((part) => (part.type === "text" ? part.text : "")).join("");
}

/** Reads a chunk stream with the SDK and returns the last snapshot of the message. */
async function assemble(stream: ReadableStream<UIMessageChunk>, errors: unknown[] = []) {
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream({ stream, onError: (e) => errors.push(e) })) {
    last = message;
  }
  return last;
}

function send(target: Relay, chatId: string, messages: UIMessage[], signal?: AbortSignal) {
  return transport(target).sendMessages({
    chatId,
    messages,
    trigger: "submit-message",
    messageId: undefined,
    abortSignal: signal,
  });
}

async function history(target: Relay, session: string) {
  const response = await fetch(`${target.url}/sessions/${session}`);
  const { messages } = (await response.json()) as {
    messages: Array<{ id: string; role: string; content: string; status: string }>;
  };
  return messages;
}

it("emits only chunk shapes the SDK's UIMessageChunk type allows", () => {
  expectTypeOf<UIChunk>().toExtend<UIMessageChunk>();
});

describe("POST /api/chat", () => {
  it("streams a UI message the SDK assembles into the answer, stored in the chat's session", async () => {
    const chatId = "nanoidLikeChat01";
    const message = await assemble(await send(demo, chatId, [userMessage("/tokens 5")]));
    expect(message?.role).toBe("assistant");
    expect(textOf(message)).toBe("t0 t1 t2 t3 t4 ");
    expect(message?.parts.map((part) => part.type)).toEqual(["step-start", "text"]);

    const raw = await fetch(`${demo.url}/api/chat`, {
      method: "POST",
      body: JSON.stringify({ id: chatId, messages: [userMessage("/tokens 2")] }),
    });
    expect(raw.headers.get("x-vercel-ai-ui-message-stream")).toBe("v1");
    expect(raw.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const session = raw.headers.get("x-sluice-session") ?? "";
    expect(session).toMatch(/^[0-9a-f]{32}$/);
    const frames = (await raw.text()).trim().split("\n\n");
    expect(frames.at(-1)).toBe("data: [DONE]");
    const chunks = frames.slice(0, -1).map((frame) => JSON.parse(frame.slice("data: ".length)));
    const types = "start start-step text-start text-delta text-delta text-end finish-step finish";
    expect(chunks.map((chunk) => chunk.type)).toEqual(types.split(" "));
    expect(chunks.at(-1)).toEqual({ type: "finish", finishReason: "stop" });

    // The derived session is a real one: its history holds both turns, under the same ids.
    const stored = await history(demo, session);
    expect(stored.map((m) => [m.role, m.content])).toEqual([
      ["user", "/tokens 5"],
      ["assistant", "t0 t1 t2 t3 t4 "],
      ["user", "/tokens 2"],
      ["assistant", "t0 t1 "],
    ]);
    expect(stored[1]?.id).toBe(message?.id);
    expect(chunks[0]).toEqual({ type: "start", messageId: stored[3]?.id });
  });

  it("uses a 32-hex chat id as the session of that id, and keeps chats of other ids apart", async () => {
    const created = await fetch(`${demo.url}/sessions`, { method: "POST" });
    const { session } = (await created.json()) as { session: string };
    await assemble(await send(demo, session, [userMessage("/tokens 1")]));
    expect((await history(demo, session)).map((m) => m.content)).toEqual(["/tokens 1", "t0 "]);

    await assemble(await send(demo, "another-chat", [userMessage("/tokens 1")]));
    expect(await history(demo, session)).toHaveLength(2);
  });

  it("sends only the last user message upstream, with the history from the session", async () => {
    upstream.script = { tokens: ["first"] };
    const first = userMessage("one");
    const answer = await assemble(await send(relay, "context-chat", [first]));
    upstream.script = { tokens: ["second"] };
    const messages = [first, answer as UIMessage, userMessage("two")];
    expect(textOf(await assemble(await send(relay, "context-chat", messages)))).toBe("second");
    // The AI SDK guide's way to send only the new message: `{ id, message }`.
    const body = JSON.stringify({ id: "context-chat", message: userMessage("three") });
    await (await fetch(`${relay.url}/api/chat`, { method: "POST", body })).text();
    expect(upstream.requests.at(-1)?.body.messages).toEqual([
      { role: "user", content: "one" },
      { role: "assistant", content: "first" },
      { role: "user", content: "two" },
      { role: "assistant", content: "second" },
      { role: "user", content: "three" },
    ]);
  });

  it("reports an upstream failure as an error chunk the SDK raises", async () => {
    upstream.script = { tokens: [], status: 500 };
    const errors: unknown[] = [];
    await assemble(await send(relay, "failing-chat", [userMessage("hi")]), errors);
    expect(errors.map(String).join()).toMatch(/HTTP 500/);
  });
});

describe("GET /api/chat/:id/stream", () => {
  it("resumes a dropped answer: the reconnected stream assembles the whole message", async () => {
    const chatId = "resumable-chat";
    const drop = new AbortController();
    const first = await send(demo, chatId, [userMessage(`/tokens ${TOKENS}`)], drop.signal);
    let partial: UIMessage | undefined;
    for await (const message of readUIMessageStream({ stream: first, onError: () => {} })) {
      partial = message;
      if (textOf(message).includes("t40 ")) {
        drop.abort();
        break;
      }
    }
    expect(textOf(partial)).toContain("t40 ");
    expect(textOf(partial).length).toBeLessThan(LONG_ANSWER.length);

    const resumed = await transport(demo).reconnectToStream({ chatId });
    expect(resumed).not.toBeNull();
    const whole = await assemble(resumed as ReadableStream<UIMessageChunk>);
    expect(textOf(whole)).toBe(LONG_ANSWER);
    expect(whole?.id).toBe(partial?.id);

    expect(await transport(demo).reconnectToStream({ chatId })).toBeNull();
  });

  it("answers 204, which the SDK reads as nothing to resume, for idle and unknown chats", async () => {
    expect(await transport(demo).reconnectToStream({ chatId: "never-used" })).toBeNull();
    const response = await fetch(`${demo.url}/api/chat/never-used/stream`);
    expect(response.status).toBe(204);
  });

  it("stops an answer at POST /api/chat/:id/stop: a resumed reader gets abort", async () => {
    const chatId = "stopped-chat";
    const raw = await fetch(`${demo.url}/api/chat`, {
      method: "POST",
      body: JSON.stringify({ id: chatId, messages: [userMessage(`/tokens ${TOKENS}`)] }),
    });
    await raw.body?.cancel();
    const resumed = await fetch(`${demo.url}/api/chat/${chatId}/stream`);
    expect(resumed.status).toBe(200);
    const stop = () => fetch(`${demo.url}/api/chat/${chatId}/stop`, { method: "POST" });
    expect(await (await stop()).json()).toEqual({ success: true, cancelled: true });
    const frames = (await resumed.text()).trim().split("\n\n");
    expect(frames.slice(-2)).toEqual([
      'data: {"type":"abort","reason":"cancelled"}',
      "data: [DONE]",
    ]);
    expect(await (await stop()).json()).toEqual({ success: true, cancelled: false });
  });
});

const OK = [{ id: "u1", role: "user", parts: [{ type: "text", text: "hi" }] }];
const chat = (extra: object) => ({ id: "c", messages: OK, ...extra });
const asked = (messages: unknown) => ({ id: "c", messages });
const text = (value: string) => [{ role: "user", parts: [{ type: "text", text: value }] }];

/** Bad requests and the code of the error each gets (a string body is sent as it is). */
const MALFORMED: Array<[string, unknown, ErrorCode]> = [
  ["text that is not JSON", "{nope", "invalid_json"],
  ["a JSON array", [], "invalid_request"],
  ["no chat id", { messages: OK }, "invalid_request"],
  ["a chat id with spaces", chat({ id: "a b" }), "invalid_request"],
  ["a chat id too long", chat({ id: "x".repeat(65) }), "invalid_request"],
  ["a numeric chat id", chat({ id: 7 }), "invalid_request"],
  ["no messages", { id: "c" }, "invalid_request"],
  ["an empty messages array", asked([]), "invalid_request"],
  ["a message without parts", asked([{ role: "user", content: "hi" }]), "invalid_request"],
  ["an unknown role", asked([{ role: "tool", parts: [] }]), "invalid_request"],
  ["no user message", asked([{ role: "assistant", parts: [] }]), "invalid_request"],
  ["no text", asked([{ role: "user", parts: [{ type: "file", url: "x" }] }]), "prompt_empty"],
  ["a prompt over the limit", asked(text("x".repeat(32_001))), "prompt_too_large"],
  ["an unknown trigger", chat({ trigger: "resume" }), "invalid_request"],
  ["a numeric messageId", chat({ messageId: 5 }), "invalid_request"],
  ["a body over the limit", "x".repeat(1024 * 1024 + 1), "frame_too_large"],
];

describe("malformed requests", () => {
  it.each(MALFORMED)("refuses %s", async (_what, body, code) => {
    const init = { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) };
    const response = await fetch(`${demo.url}/api/chat`, init);
    expect(response.status).toBe(ERROR_STATUS[code]);
    expect(await response.json()).toMatchObject({ error: { code } });
  });

  it("surfaces a refusal through the SDK's transport as an error with our code", async () => {
    const failure = await send(demo, "bad id!", [userMessage("hi")]).catch((error) => error);
    expect(String(failure)).toContain("invalid_request");
  });

  it("refuses wrong methods and malformed ids on the resume route", async () => {
    expect((await fetch(`${demo.url}/api/chat`)).status).toBe(405);
    const post = await fetch(`${demo.url}/api/chat/c/stream`, { method: "POST" });
    expect(post.status).toBe(405);
    const bad = await fetch(`${demo.url}/api/chat/bad%20id/stream`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_request" } });
  });
});

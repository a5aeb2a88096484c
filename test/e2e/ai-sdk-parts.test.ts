// /api/chat and /api/chat/ws relay the recorded upstream streams (test/fixtures, OpenAI-compatible
// and Anthropic) with every part: read by the `ai` package's own readUIMessageStream and
// WebSocketChatTransport, each recording arrives with index.json's text, reasoning and tool
// calls, and the assembled message equals the one the session stored.
import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  FIXTURE_INDEX,
  type FixtureEntry,
  type FixtureUpstream,
  startFixtureUpstream,
} from "../helpers/fixture-upstream.ts";
import { joined, storedParts, toolCalls, uiParts } from "../helpers/parts-shape.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { ask, chatTransport, newSession, readAll } from "../helpers/ws-chat.ts";

let upstreams: Record<FixtureEntry["provider"], FixtureUpstream>;
const relays: Partial<Record<FixtureEntry["provider"], Relay>> = {};

beforeAll(async () => {
  const [openai, anthropic] = await Promise.all([startFixtureUpstream(), startFixtureUpstream()]);
  upstreams = { openai, anthropic };
  [relays.openai, relays.anthropic] = await Promise.all([
    startRelay({
      PROVIDER: "openai",
      MODEL: "gpt-test",
      OPENAI_BASE_URL: openai.baseUrl,
      OPENAI_API_KEY: SECRETS.openaiKey,
    }),
    startRelay({
      PROVIDER: "anthropic",
      MODEL: "claude-test",
      ANTHROPIC_BASE_URL: anthropic.baseUrl,
      ANTHROPIC_API_KEY: SECRETS.anthropicKey,
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([relays.openai?.dispose(), relays.anthropic?.dispose()]);
  await Promise.all([upstreams.openai.close(), upstreams.anthropic.close()]);
});

const COMPLETE = FIXTURE_INDEX.filter((entry) => entry.error === null);

function relayFor(entry: FixtureEntry): Relay {
  upstreams[entry.provider].serve = entry.file;
  const relay = relays[entry.provider];
  if (!relay) throw new Error("relay not started");
  return relay;
}

async function assemble(stream: ReadableStream<UIMessageChunk>): Promise<UIMessage | undefined> {
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream({ stream, terminateOnError: true })) {
    last = message;
  }
  return last;
}

async function storedAnswer(relay: Relay, session: string) {
  const response = await fetch(`${relay.url}/sessions/${session}`);
  const { messages } = (await response.json()) as {
    messages: Array<{ role: string; parts: Array<Record<string, unknown>> }>;
  };
  return messages.filter((message) => message.role === "assistant").at(-1);
}

const expectedCalls = (entry: FixtureEntry) =>
  entry.expected_tool_calls.map((call) => ({
    id: call.id,
    name: call.name,
    input: call.arguments === "" ? {} : JSON.parse(call.arguments),
  }));

describe.each(COMPLETE)("$file", (entry) => {
  it("over POST /api/chat, read by readUIMessageStream: its parts, as stored", async () => {
    const relay = relayFor(entry);
    const session = await newSession(relay);
    const stream = await new DefaultChatTransport<UIMessage>({
      api: `${relay.url}/api/chat`,
    }).sendMessages({
      chatId: session,
      messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: "go" }] }],
      trigger: "submit-message",
      messageId: undefined,
      abortSignal: undefined,
    });
    const parts = uiParts(await assemble(stream));
    expect(joined(parts, "text")).toBe(entry.expected_text);
    expect(joined(parts, "reasoning")).toBe(entry.expected_reasoning);
    expect(toolCalls(parts)).toEqual(expectedCalls(entry));
    const stored = await storedAnswer(relay, session);
    expect(parts).toEqual(storedParts(stored?.parts ?? []));
  });

  it("over /api/chat/ws, read by WebSocketChatTransport: its parts, as stored", async () => {
    const relay = relayFor(entry);
    const session = await newSession(relay);
    const transport = chatTransport(relay);
    const chunks = await readAll(await ask(transport, session, "go"));
    transport.close();
    const stream = new ReadableStream<UIMessageChunk>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        controller.close();
      },
    });
    const parts = uiParts(await assemble(stream));
    expect(joined(parts, "text")).toBe(entry.expected_text);
    expect(joined(parts, "reasoning")).toBe(entry.expected_reasoning);
    expect(toolCalls(parts)).toEqual(expectedCalls(entry));
    const stored = await storedAnswer(relay, session);
    expect(parts).toEqual(storedParts(stored?.parts ?? []));
  });
});

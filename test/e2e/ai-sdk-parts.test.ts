// /api/chat and /api/chat/ws relay the recorded upstream streams (test/fixtures, OpenAI-compatible
// and Anthropic) with every part: read by the `ai` package's own readUIMessageStream and
// WebSocketChatTransport, each recording arrives with index.json's text, reasoning and tool
// calls, and the assembled message equals the one the session stored.
import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  COMPLETE_FIXTURES,
  expectedCalls,
  type FixtureRelays,
  startFixtureRelays,
  storedAnswer,
} from "../helpers/fixture-relays.ts";
import type { FixtureEntry } from "../helpers/fixture-upstream.ts";
import { joined, storedParts, toolCalls, uiParts } from "../helpers/parts-shape.ts";
import { ask, chatTransport, newSession, readAll } from "../helpers/ws-chat.ts";

let fixtures: FixtureRelays;
beforeAll(async () => {
  fixtures = await startFixtureRelays();
});
afterAll(() => fixtures.dispose());

const COMPLETE = COMPLETE_FIXTURES;
const relayFor = (entry: FixtureEntry) => fixtures.relayFor(entry);

async function assemble(stream: ReadableStream<UIMessageChunk>): Promise<UIMessage | undefined> {
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream({ stream, terminateOnError: true })) {
    last = message;
  }
  return last;
}

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

// The native protocols relay the recorded upstream streams (test/fixtures, OpenAI-compatible and
// Anthropic) with every part: over WebSocket /chat and over SSE, the session events assembled by
// the browser client's own PartsAssembler give index.json's text, reasoning and tool calls, and
// equal the message the session stored. The seed frames (`chunk`) carry exactly the text.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PartsAssembler } from "../../src/client/parts.ts";
import {
  COMPLETE_FIXTURES,
  expectedCalls,
  type FixtureRelays,
  startFixtureRelays,
  storedAnswer,
} from "../helpers/fixture-relays.ts";
import type { FixtureEntry } from "../helpers/fixture-upstream.ts";
import { joined, storedParts, toolCalls } from "../helpers/parts-shape.ts";
import type { Relay } from "../helpers/relay.ts";
import { TestSocket } from "../helpers/socket.ts";
import { openSse, readAll } from "../helpers/sse.ts";

let fixtures: FixtureRelays;
beforeAll(async () => {
  fixtures = await startFixtureRelays();
});
afterAll(() => fixtures.dispose());

const COMPLETE = COMPLETE_FIXTURES;
const relayFor = (entry: FixtureEntry) => fixtures.relayFor(entry);

/** The answer's session events (those with a seq), assembled as a browser client would. */
function assemble(events: Array<Record<string, unknown>>) {
  const assembler = new PartsAssembler();
  for (const event of events) {
    // Frames of our own relay, checked by the assertions that follow.
    if (typeof event.seq === "number") assembler.apply(event as never);
  }
  return storedParts(assembler.parts as unknown as Array<Record<string, unknown>>);
}

async function check(
  entry: FixtureEntry,
  relay: Relay,
  session: string,
  events: Array<Record<string, unknown>>,
) {
  const parts = assemble(events);
  expect(joined(parts, "text")).toBe(entry.expected_text);
  expect(joined(parts, "reasoning")).toBe(entry.expected_reasoning);
  expect(toolCalls(parts)).toEqual(expectedCalls(entry));
  const seedText = events
    .filter((event) => event.type === "chunk")
    .map((event) => String(event.content))
    .join("");
  expect(seedText).toBe(entry.expected_text);
  const stored = await storedAnswer(relay, session);
  expect(stored?.content).toBe(entry.expected_text);
  expect(parts).toEqual(storedParts(stored?.parts ?? []));
}

describe.each(COMPLETE)("$file", (entry) => {
  it("over WebSocket /chat: its parts, as stored, and the seed frames carry exactly its text", async () => {
    const relay = relayFor(entry);
    const socket = await TestSocket.open(`${relay.wsUrl}/chat`);
    const session = String((await socket.waitFor("session")).session);
    socket.send({ prompt: "go" });
    await socket.waitFor("done");
    await socket.close();
    await check(entry, relay, session, socket.frames);
  });

  it("over SSE (POST /sessions/:id/messages): its parts, as stored", async () => {
    const relay = relayFor(entry);
    const created = await fetch(`${relay.url}/sessions`, { method: "POST" });
    const { session } = (await created.json()) as { session: string };
    const answer = await openSse(`${relay.url}/sessions/${session}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ content: "go" }),
    });
    const events = (await readAll(answer)).map((event) => event.data);
    await check(entry, relay, session, events);
  });
});

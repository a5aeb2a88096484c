// Exact resume across parts on /chat and SSE: from seeded random resume points (inside
// reasoning, inside a tool call's arguments, between steps, during the tool wait), what a
// client had plus what it was replayed assembles to exactly the stored message's parts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PartsAssembler } from "../../src/client/parts.ts";
import type { MessagePart, SessionEvent, StoredMessage } from "../../src/protocol.ts";
import { mulberry32 } from "../helpers/rechunk.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { type Frame, TestSocket } from "../helpers/socket.ts";
import { openSse } from "../helpers/sse.ts";
import { sweep } from "../helpers/sweep.ts";

const WS_POINTS = sweep(30, 120);
const SSE_POINTS = sweep(25, 100);

let relay: Relay;
let session: string;
/** Every sequenced event of the session, in order. */
let events: Frame[];
let stored: StoredMessage[];

function assemble(frames: readonly Frame[], messageId: string): MessagePart[] {
  const assembler = new PartsAssembler();
  for (const frame of frames) {
    // Frames the relay sent, parsed from JSON; their shape is what this test checks.
    if (frame.messageId === messageId) assembler.apply(frame as unknown as SessionEvent);
  }
  return assembler.parts;
}

beforeAll(async () => {
  relay = await startRelay();
  const socket = await TestSocket.open(`${relay.wsUrl}/chat`);
  session = String((await socket.waitFor("session")).session);
  socket.send({ prompt: "/tool weather Paris\n/tool time Paris\n/tokens 30" });
  await socket.waitFor("done");
  const calls = socket.frames.filter((frame) => frame.type === "tool-call");
  socket.send({
    type: "tool-results",
    results: [
      { toolCallId: calls[0]?.toolCallId, output: { temp: "21 °C ☀️" } },
      { toolCallId: calls[1]?.toolCallId, errorText: "clock unavailable" },
    ],
  });
  await socket.until(() => socket.frames.filter((frame) => frame.type === "done").length === 2);
  socket.send({ prompt: "Tell me about streams." });
  await socket.until(() => socket.frames.filter((frame) => frame.type === "done").length === 3);
  events = socket.frames.filter((frame) => typeof frame.seq === "number");
  await socket.close();
  const snapshot = await fetch(`${relay.url}/sessions/${session}`);
  stored = ((await snapshot.json()) as { messages: StoredMessage[] }).messages;
});

afterAll(async () => {
  await relay.dispose();
});

/** `count` seeded resume points over every sequence number of the session (0 to the last). */
function resumePoints(seed: number, count: number): number[] {
  const random = mulberry32(seed);
  const last = Number(events.at(-1)?.seq);
  return Array.from({ length: count }, () => Math.floor(random() * (last + 1)));
}

function expectExact(had: readonly Frame[], replayed: readonly Frame[], after: number): void {
  const all = [...had, ...replayed];
  expect(all.map((frame) => frame.seq)).toEqual(events.map((frame) => frame.seq));
  for (const message of stored.filter((m) => m.role === "assistant")) {
    expect(assemble(all, message.id), `after ${after}`).toEqual(message.parts);
  }
}

describe("exact resume across parts", () => {
  it("the stored answers hold reasoning, tool calls with results and errors, and steps", () => {
    const kinds = new Set(events.map((frame) => frame.type));
    for (const kind of [
      "reasoning-start",
      "reasoning-delta",
      "tool-call-delta",
      "tool-call",
      "tool-result",
      "step",
    ]) {
      expect(kinds.has(kind), kind).toBe(true);
    }
    const [, first] = stored;
    expect(
      first?.parts
        ?.filter((part) => part.type === "tool-call")
        .map((part) => "state" in part && part.state),
    ).toEqual(["output-available", "output-error"]);
  });

  it(`over /chat, from ${WS_POINTS} random points`, async () => {
    for (const after of resumePoints(12, WS_POINTS)) {
      const socket = await TestSocket.open(`${relay.wsUrl}/chat?session=${session}&after=${after}`);
      const last = Number(events.at(-1)?.seq);
      await socket.until(() => socket.frames.some((frame) => frame.seq === last) || after === last);
      const replayed = socket.frames.filter((frame) => typeof frame.seq === "number");
      expectExact(
        events.filter((frame) => Number(frame.seq) <= after),
        replayed,
        after,
      );
      await socket.close();
    }
  });

  it(`over SSE (Last-Event-ID), from ${SSE_POINTS} random points`, async () => {
    const last = Number(events.at(-1)?.seq);
    for (const after of resumePoints(34, SSE_POINTS)) {
      const stream = await openSse(`${relay.url}/sessions/${session}/events`, {
        headers: { "last-event-id": String(after) },
      });
      const replayed: Frame[] = [];
      while (after < last) {
        const event = await stream.next();
        if (!event) break;
        if (typeof event.data.seq === "number")
          replayed.push({ ...event.data, type: String(event.data.type) });
        if (event.data.seq === last) break;
      }
      stream.drop();
      expectExact(
        events.filter((frame) => Number(frame.seq) <= after),
        replayed,
        after,
      );
    }
  });
});

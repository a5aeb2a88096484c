// The client's edge: every well-formed server frame parses to itself; anything else is skipped.
import { describe, expect, it } from "vitest";
import { parseServerEvent, parseSnapshot } from "../../../src/client/parse.ts";
import type { ServerEvent } from "../../../src/protocol.ts";

const VALID: ServerEvent[] = [
  { type: "session", session: "s1", lastSeq: 0, generating: false },
  { type: "pong" },
  { type: "error", code: "busy", message: "wait" },
  {
    type: "error",
    code: "quota_exceeded",
    message: "used",
    retryAfter: 60,
    resetAt: "2026-12-02T00:00:00.000Z",
  },
  { type: "start", seq: 1, messageId: "m", userMessageId: "u", prompt: "hi" },
  { type: "chunk", seq: 2, messageId: "m", content: "<b>text</b>" },
  { type: "error", seq: 3, messageId: "m", code: "upstream_dropped", message: "gone" },
  {
    type: "done",
    seq: 4,
    messageId: "m",
    status: "complete",
    finish: "stop",
    usage: { inputTokens: 1, outputTokens: 2 },
  },
  {
    type: "history",
    session: "s1",
    messages: [{ id: "u", role: "user", content: "hi", status: "complete", createdAt: 5 }],
  },
];

const MALFORMED: Array<[string, string]> = [
  ["not JSON", "{"],
  ["an array", "[]"],
  ["null", "null"],
  ["an unknown type", '{"type":"telemetry"}'],
  ["a chunk without content", '{"type":"chunk","seq":1,"messageId":"m"}'],
  ["a chunk with numeric content", '{"type":"chunk","seq":1,"messageId":"m","content":5}'],
  ["a seq that is text", '{"type":"chunk","seq":"1","messageId":"m","content":"x"}'],
  ["a fractional seq", '{"type":"chunk","seq":1.5,"messageId":"m","content":"x"}'],
  ["a start without prompt", '{"type":"start","seq":1,"messageId":"m","userMessageId":"u"}'],
  ["done still streaming", '{"type":"done","seq":1,"messageId":"m","status":"streaming"}'],
  ["done with a made-up status", '{"type":"done","seq":1,"messageId":"m","status":"fine"}'],
  ["a session without id", '{"type":"session","lastSeq":1,"generating":true}'],
  ["an error without message", '{"type":"error","code":"busy"}'],
  ["history with a bad message", '{"type":"history","session":"s","messages":[{"id":1}]}'],
];

describe("parseServerEvent", () => {
  it.each(VALID.map((event) => [event.type, event] as const))(
    "keeps a valid %s frame",
    (_, event) => {
      expect(parseServerEvent(JSON.stringify(event))).toEqual(event);
    },
  );

  it.each(MALFORMED)("skips %s", (_, text) => {
    expect(parseServerEvent(text)).toBeUndefined();
  });

  it("drops fields it does not know and malformed optional ones", () => {
    const text =
      '{"type":"done","seq":4,"messageId":"m","status":"error","usage":{"inputTokens":"1"},"x":1}';
    expect(parseServerEvent(text)).toEqual({
      type: "done",
      seq: 4,
      messageId: "m",
      status: "error",
    });
  });
});

describe("parseSnapshot", () => {
  it("reads GET /sessions/:id and refuses a body that is not one", () => {
    const body = { session: "s", onAbandon: "cancel", lastSeq: 3, generating: true, messages: [] };
    expect(parseSnapshot(body)).toEqual(body);
    expect(parseSnapshot({ ...body, messages: "none" })).toBeUndefined();
    expect(parseSnapshot({ error: { code: "x" } })).toBeUndefined();
  });
});

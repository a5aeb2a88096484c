// The client's edge: every well-formed server frame parses to itself; anything else is skipped.
import { describe, expect, it } from "vitest";
import { parseChatPage, parseServerEvent, parseSnapshot } from "../../../src/client/parse.ts";
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
    messages: [
      {
        id: "u",
        role: "user",
        content: "hi",
        parts: [{ type: "text", text: "hi" }],
        status: "complete",
        createdAt: 5,
      },
      {
        id: "a",
        role: "assistant",
        content: "Sunny.",
        parts: [
          { type: "step-start" },
          { type: "reasoning", text: "Checking.", signature: "sig" },
          {
            type: "tool-call",
            toolCallId: "c1",
            toolName: "weather",
            state: "output-available",
            input: { city: "Paris" },
            output: { temp: 21 },
          },
          { type: "step-start" },
          { type: "text", text: "Sunny." },
        ],
        status: "complete",
        createdAt: 6,
      },
    ],
  },
  { type: "reasoning-start", seq: 3, messageId: "a", partId: "s0-reasoning-0" },
  { type: "reasoning-delta", seq: 4, messageId: "a", partId: "s0-reasoning-0", content: "Hm" },
  { type: "reasoning-end", seq: 5, messageId: "a", partId: "s0-reasoning-0", signature: "sig" },
  { type: "tool-call-start", seq: 6, messageId: "a", toolCallId: "c1", toolName: "weather" },
  { type: "tool-call-delta", seq: 7, messageId: "a", toolCallId: "c1", inputDelta: '{"ci' },
  {
    type: "tool-call",
    seq: 8,
    messageId: "a",
    toolCallId: "c1",
    toolName: "weather",
    input: { city: "Paris" },
  },
  {
    type: "tool-call-error",
    seq: 9,
    messageId: "a",
    toolCallId: "c2",
    toolName: "weather",
    inputText: "{",
    message: "not JSON",
  },
  { type: "tool-result", seq: 10, messageId: "a", toolCallId: "c1", output: { temp: 21 } },
  { type: "tool-result", seq: 11, messageId: "a", toolCallId: "c2", errorText: "bad input" },
  { type: "step", seq: 12, messageId: "a", step: 1 },
  { type: "renamed", session: "s1", title: "Trip" },
  { type: "deleted", session: "s1", reason: "deleted" },
  { type: "deleted", session: "s1", reason: "expired" },
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
  ["renamed without a title", '{"type":"renamed","session":"s"}'],
  ["renamed with a numeric title", '{"type":"renamed","session":"s","title":1}'],
  ["deleted without a session", '{"type":"deleted","reason":"deleted"}'],
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
    expect(parseSnapshot(body)).toEqual({ ...body, title: null });
    expect(parseSnapshot({ ...body, title: "Trip" })).toEqual({ ...body, title: "Trip" });
    expect(parseSnapshot({ ...body, messages: "none" })).toBeUndefined();
    expect(parseSnapshot({ error: { code: "x" } })).toBeUndefined();
  });
});

describe("parseChatPage", () => {
  const chat = {
    session: "s",
    title: "Trip",
    createdAt: 1,
    lastActivity: 2,
    messages: 4,
    preview: "last words",
    streaming: false,
  };

  it("reads GET /sessions", () => {
    expect(parseChatPage({ chats: [chat], cursor: "abc" })).toEqual({
      chats: [chat],
      cursor: "abc",
    });
    const untitled = { ...chat, title: null, streaming: true };
    expect(parseChatPage({ chats: [untitled], cursor: null })).toEqual({
      chats: [untitled],
      cursor: null,
    });
  });

  it.each([
    ["an error body", { error: { code: "identity_required" } }],
    ["chats that are not a list", { chats: {}, cursor: null }],
    ["a missing cursor", { chats: [] }],
    ["a numeric cursor", { chats: [], cursor: 5 }],
    ["a chat without a session", { chats: [{ ...chat, session: 1 }], cursor: null }],
    ["a chat with a text count", { chats: [{ ...chat, messages: "4" }], cursor: null }],
    ["a chat without a preview", { chats: [{ ...chat, preview: undefined }], cursor: null }],
  ])("refuses %s", (_, body) => {
    expect(parseChatPage(body)).toBeUndefined();
  });
});

// The event encoders of Sluice's own streams (SSE and `frames`) and of data-only SSE: exact text.
import { describe, expect, it } from "vitest";
import type { ServerEvent } from "../../../src/protocol.ts";
import { encodeFrame } from "../../../src/session/sse-listener.ts";
import { DONE_FRAME, jsonFrame } from "../../../src/streams/json-sse.ts";
import { encodeSse, sseComment } from "../../../src/streams/sse.ts";

const chunk = (content: string, seq = 3): ServerEvent => ({
  type: "chunk",
  seq,
  messageId: "m",
  content,
});

describe("encodeSse", () => {
  it.each<[string, ServerEvent, string]>([
    [
      "plain text",
      chunk("hi"),
      'event: chunk\nid: 3\ndata: {"type":"chunk","seq":3,"messageId":"m","content":"hi"}\n\n',
    ],
    [
      "empty text",
      chunk(""),
      'event: chunk\nid: 3\ndata: {"type":"chunk","seq":3,"messageId":"m","content":""}\n\n',
    ],
    [
      "unicode",
      chunk("é🌍\u2028"),
      'event: chunk\nid: 3\ndata: {"type":"chunk","seq":3,"messageId":"m","content":"é🌍\u2028"}\n\n',
    ],
    [
      "multi-line text stays on one data line",
      chunk("a\nb\r\n\nevent: x"),
      'event: chunk\nid: 3\ndata: {"type":"chunk","seq":3,"messageId":"m","content":"a\\nb\\r\\n\\nevent: x"}\n\n',
    ],
    [
      "seq 0 is still an id",
      chunk("x", 0),
      'event: chunk\nid: 0\ndata: {"type":"chunk","seq":0,"messageId":"m","content":"x"}\n\n',
    ],
    ["a frame without seq has no id", { type: "pong" }, 'event: pong\ndata: {"type":"pong"}\n\n'],
  ])("%s", (_name, event, text) => {
    expect(encodeSse(event)).toBe(text);
    expect(encodeSse(event, JSON.stringify(event))).toBe(text);
  });

  it.each([
    ["a keep-alive", "keep-alive", ": keep-alive\n\n"],
    ["line breaks become spaces", "a\nb\r\nc\rd", ": a b c d\n\n"],
    ["empty", "", ": \n\n"],
  ])("comments: %s", (_name, text, wire) => {
    expect(sseComment(text)).toBe(wire);
  });
});

describe("encodeFrame", () => {
  it.each<[string, ServerEvent, string]>([
    ["one JSON line", chunk("hi"), '{"type":"chunk","seq":3,"messageId":"m","content":"hi"}\n'],
    [
      "line breaks escaped",
      chunk("a\nb"),
      '{"type":"chunk","seq":3,"messageId":"m","content":"a\\nb"}\n',
    ],
    ["a connection frame", { type: "pong" }, '{"type":"pong"}\n'],
  ])("%s", (_name, event, text) => {
    expect(encodeFrame(event)).toBe(text);
    expect(encodeFrame(event).split("\n")).toHaveLength(2);
  });
});

describe("jsonFrame", () => {
  it.each<[string, unknown, string]>([
    ["an object", { a: 1 }, 'data: {"a":1}\n\n'],
    ["a string with line breaks", "x\ny", 'data: "x\\ny"\n\n'],
    ["null", null, "data: null\n\n"],
  ])("%s", (_name, value, text) => {
    expect(jsonFrame(value)).toBe(text);
  });

  it("ends a stream with [DONE]", () => {
    expect(DONE_FRAME).toBe("data: [DONE]\n\n");
  });
});

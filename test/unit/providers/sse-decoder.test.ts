// SseDecoder against the WHATWG "Parsing an event stream" rules, whole and cut at every byte.
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import { SseDecoder, type SseMessage, SseOverflow } from "../../../src/providers/sse-decoder.ts";

/** Every event `pieces` make, fed one after another. */
function decode(...pieces: string[]): SseMessage[] {
  const messages: SseMessage[] = [];
  const decoder = new SseDecoder((message) => messages.push(message));
  for (const piece of pieces) decoder.feed(piece);
  return messages;
}

const message = (data: string, event?: string, id?: string): SseMessage => ({ event, id, data });

describe("SseDecoder", () => {
  it.each<[string, string, SseMessage[]]>([
    ["one event", "data: hi\n\n", [message("hi")]],
    ["no space after the colon", "data:hi\n\n", [message("hi")]],
    ["only one leading space is dropped", "data:  hi \n\n", [message(" hi ")]],
    ["multi-line data joined with LF", "data: a\ndata: b\ndata:\n\n", [message("a\nb\n")]],
    ["an empty data line is an empty event", "data\n\n", [message("")]],
    ["a field name alone, no colon", "data\ndata\n\n", [message("\n")]],
    ["a colon in the value", 'data: {"a":"b:c"}\n\n', [message('{"a":"b:c"}')]],
    ["CR line ends", "data: a\rdata: b\r\r", [message("a\nb")]],
    ["CRLF line ends", "data: a\r\ndata: b\r\n\r\n", [message("a\nb")]],
    [
      "mixed line ends",
      "data: a\r\n\ndata: b\r\rdata: c\n\r\n",
      [message("a"), message("b"), message("c")],
    ],
    ["a comment is ignored", ": keep-alive\ndata: x\n: more\n\n", [message("x")]],
    ["a comment alone dispatches nothing", ": ping\n\n", []],
    ["no data, no event", "event: foo\nid: 1\n\n", []],
    ["the event type", "event: delta\ndata: x\n\n", [message("x", "delta")]],
    ["an empty event type is a plain message", "event:\ndata: x\n\n", [message("x")]],
    [
      "the event type is reset after each event",
      "event: a\ndata: 1\n\ndata: 2\n\n",
      [message("1", "a"), message("2")],
    ],
    ["an event type without data is dropped with it", "event: a\n\ndata: 2\n\n", [message("2")]],
    [
      "the id persists across events",
      "id: 7\ndata: 1\n\ndata: 2\n\n",
      [message("1", undefined, "7"), message("2", undefined, "7")],
    ],
    [
      "an id with NUL is ignored",
      "id: 1\ndata: a\n\nid: x\0y\ndata: b\n\n",
      [message("a", undefined, "1"), message("b", undefined, "1")],
    ],
    [
      "an empty id resets it",
      "id: 1\ndata: a\n\nid\ndata: b\n\n",
      [message("a", undefined, "1"), message("b", undefined, "")],
    ],
    ["unknown fields are ignored", "foo: bar\nDATA: no\ndata: yes\n\n", [message("yes")]],
    ["a leading BOM is dropped", "\uFEFFdata: x\n\n", [message("x")]],
    ["a BOM later is a field name character", "data: a\n\n\uFEFFdata: b\n\n", [message("a")]],
    ["a final event without a blank line is dropped", "data: a\n\ndata: b\n", [message("a")]],
    ["a final line without an end is dropped", "data: a\n\ndata: b", [message("a")]],
    ["several blank lines dispatch once", "data: a\n\n\n\n", [message("a")]],
    ["unicode passes through", "data: héllo 🌍\n\n", [message("héllo 🌍")]],
  ])("%s", (_name, text, expected) => {
    expect(decode(text)).toEqual(expected);
  });

  it.each([
    ["digits", "retry: 1500\n", 1500],
    ["not digits (ignored)", "retry: 1.5\n", undefined],
    ["empty (ignored)", "retry:\n", undefined],
  ])("reads retry: %s", (_name, text, retry) => {
    const decoder = new SseDecoder(() => {});
    decoder.feed(text);
    expect(decoder.retry).toBe(retry);
  });

  const SAMPLE =
    '\uFEFF: hello\r\nevent: a\r\ndata: {"x":"é🌍"}\r\n\r\ndata: one\rdata: two\r\rid: 9\n' +
    "data: three\n\n:c\ndata\n\nretry: 10\nevent: z\ndata: last\r\n\r\n";
  const WHOLE = decode(SAMPLE);

  it("decodes the sample as the spec says", () => {
    expect(WHOLE).toEqual([
      message('{"x":"é🌍"}', "a"),
      message("one\ntwo"),
      message("three", undefined, "9"),
      message("", undefined, "9"),
      message("last", "z", "9"),
    ]);
  });

  it("gives the same events wherever the text is cut in two", () => {
    for (let at = 0; at <= SAMPLE.length; at++) {
      expect(decode(SAMPLE.slice(0, at), SAMPLE.slice(at)), `cut at ${at}`).toEqual(WHOLE);
    }
  });

  it("gives the same events fed one character at a time, with empty pieces between", () => {
    expect(decode(...[...SAMPLE].flatMap((char) => [char, ""]))).toEqual(WHOLE);
  });

  it("gives the same events wherever the bytes are cut, decoded as sseEvents decodes", () => {
    const bytes = new TextEncoder().encode(SAMPLE);
    for (let at = 0; at <= bytes.length; at++) {
      const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
      const text = [
        decoder.decode(bytes.slice(0, at), { stream: true }),
        decoder.decode(bytes.slice(at), { stream: true }),
        decoder.decode(),
      ];
      expect(decode(...text), `cut at byte ${at}`).toEqual(WHOLE);
    }
  });

  it("agrees with eventsource-parser on the sample's data and event types", () => {
    const theirs: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (event) => theirs.push(event) });
    parser.feed(SAMPLE);
    expect(WHOLE.map(({ event, data }) => ({ event, data }))).toEqual(
      theirs.map(({ event, data }) => ({ event, data })),
    );
  });

  it.each([
    ["a line that never ends", ["data: ", "x".repeat(20)]],
    ["an event that never ends", ["data: 12345678\n", "data: 12345678\n", "data: 12345678\n"]],
  ])("throws SseOverflow for %s over its bound", (_name, pieces) => {
    const decoder = new SseDecoder(() => {}, 16);
    expect(() => {
      for (const piece of pieces) decoder.feed(piece);
    }).toThrow(SseOverflow);
  });

  it("holds a long line under its bound", () => {
    const messages: SseMessage[] = [];
    const decoder = new SseDecoder((m) => messages.push(m), 16);
    decoder.feed("data: 0123");
    decoder.feed("456789\n\n");
    expect(messages).toEqual([message("0123456789")]);
  });
});

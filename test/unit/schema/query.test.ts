// The parsers of URL parameters and of the /sessions bodies, fed good and bad input.
import { describe, expect, it } from "vitest";
import { encodeCursor } from "../../../src/directory/cursor.ts";
import { parseUsageQuery } from "../../../src/routes/usage.ts";
import { parseListRequest, parseOnAbandon, parseSeq } from "../../../src/schema/query.ts";
import {
  parseMessageRequest,
  parseRenameBody,
  parseSessionBody,
  parseToolResultsBody,
} from "../../../src/schema/session-bodies.ts";
import { refusal } from "./refusal.ts";

const SESSION = "0123456789abcdef0123456789abcdef";
const cursor = encodeCursor({ at: 1_700_000_000_000, session: SESSION });
const SEQ = "must be a sequence number (an integer >= 0).";

describe("parseSeq", () => {
  it.each([
    ["0", 0],
    ["17", 17],
    ["000123", 123],
    ["999999999999999", 999_999_999_999_999],
  ])("reads %s", (text, seq) => {
    expect(parseSeq(text, "after")).toBe(seq);
  });

  it.each(["", "-1", "1.5", "abc", "12abc", " 1", "1e3", "0x10", "1234567890123456"])(
    "refuses %j, naming the field",
    (text) => {
      expect(refusal(() => parseSeq(text, "Last-Event-ID"))).toEqual({
        code: "invalid_request",
        message: `"Last-Event-ID" ${SEQ}`,
      });
    },
  );
});

describe("parseListRequest", () => {
  it.each<[string | number | undefined, string | undefined, object]>([
    [undefined, undefined, { limit: 20 }],
    ["1", undefined, { limit: 1 }],
    ["100", undefined, { limit: 100 }],
    [50, undefined, { limit: 50 }],
    ["5", cursor, { limit: 5, cursor: { at: 1_700_000_000_000, session: SESSION } }],
  ])("reads limit %j cursor %j", (limit, after, request) => {
    expect(parseListRequest(limit, after)).toEqual(request);
  });

  const CURSOR =
    '"cursor" is not one this relay handed out; pass the previous page\'s cursor unchanged.';
  it.each<[string | number | undefined, string | undefined, string]>([
    ["0", undefined, '"limit" must be an integer >= 1.'],
    ["-1", undefined, '"limit" must be an integer >= 1.'],
    ["abc", undefined, '"limit" must be an integer >= 1.'],
    ["", undefined, '"limit" must be an integer >= 1.'],
    ["1234567", undefined, '"limit" must be an integer >= 1.'],
    ["101", undefined, '"limit" is 101; the most is 100.'],
    [0, undefined, '"limit" must be an integer >= 1.'],
    [2.5, undefined, '"limit" must be an integer >= 1.'],
    [1000, undefined, '"limit" is 1000; the most is 100.'],
    [undefined, "nope!", CURSOR],
    [undefined, "", CURSOR],
    [undefined, btoa("1.xyz"), CURSOR],
  ])("refuses limit %j cursor %j", (limit, after, message) => {
    expect(refusal(() => parseListRequest(limit, after))).toEqual({
      code: "invalid_request",
      message,
    });
  });
});

describe("parseOnAbandon and parseSessionBody", () => {
  it.each<[unknown, string]>([
    [undefined, "continue"],
    [null, "continue"],
    ["continue", "continue"],
    ["cancel", "cancel"],
  ])("reads %j", (value, onAbandon) => {
    expect(parseOnAbandon(value)).toEqual({ onAbandon });
  });

  it.each(["maybe", "", 1, true, {}])("refuses %j", (value) => {
    expect(refusal(() => parseOnAbandon(value))).toEqual({
      code: "invalid_request",
      message: '"onAbandon" must be "continue" or "cancel".',
    });
  });

  it.each([
    ["", "continue"],
    ["  ", "continue"],
    ["{}", "continue"],
    ['{"onAbandon":"cancel"}', "cancel"],
  ])("reads the body %j", (body, onAbandon) => {
    expect(parseSessionBody(body)).toEqual({ onAbandon });
  });

  it.each([
    ["{", "invalid_json"],
    ["[]", "invalid_request"],
    ['{"onAbandon":"never"}', "invalid_request"],
  ])("refuses the body %j with %s", (body, code) => {
    expect(refusal(() => parseSessionBody(body)).code).toBe(code);
  });
});

describe("the /sessions bodies", () => {
  const tool = { name: "t", inputSchema: { type: "object" } };
  it("reads a message with tools and options, tool results and a rename", () => {
    expect(parseMessageRequest('{"content":"hi"}')).toEqual({ prompt: "hi" });
    expect(
      parseMessageRequest(JSON.stringify({ content: "hi", tools: [tool], options: { seed: 1 } })),
    ).toEqual({ prompt: "hi", tools: [tool], options: { seed: 1 } });
    expect(parseToolResultsBody('{"results":[{"toolCallId":"c","output":1}]}')).toEqual([
      { toolCallId: "c", output: 1 },
    ]);
    expect(parseRenameBody('{"title":" Plans "}')).toBe("Plans");
  });

  it.each<[string, () => unknown, string, string]>([
    [
      "a message without content",
      () => parseMessageRequest('{"prompt":"hi"}'),
      "invalid_request",
      '"content" must be a string.',
    ],
    [
      "a numeric content",
      () => parseMessageRequest('{"content":5}'),
      "invalid_request",
      '"content" must be a string.',
    ],
    [
      "a blank content",
      () => parseMessageRequest('{"content":" \\n "}'),
      "prompt_empty",
      '"content" is empty.',
    ],
    [
      "an oversized message",
      () => parseMessageRequest(JSON.stringify({ content: "x", pad: "y".repeat(70_000) })),
      "frame_too_large",
      "Bodies are limited to 65536 characters.",
    ],
    [
      "a message with bad tools",
      () => parseMessageRequest('{"content":"hi","tools":[{"name":"t"}]}'),
      "invalid_tools",
      '"tools[0].inputSchema" must be a JSON Schema object with "type": "object".',
    ],
    [
      "a message with a bad option",
      () => parseMessageRequest('{"content":"hi","options":{"top_p":2}}'),
      "invalid_option",
      '"options.top_p" must be a number from 0 to 1.',
    ],
    [
      "results that are not a list",
      () => parseToolResultsBody('{"results":{}}'),
      "invalid_request",
      '"results" must be a non-empty array of tool results.',
    ],
    [
      "results over 512 KiB",
      () => parseToolResultsBody(JSON.stringify({ results: "x".repeat(530_000) })),
      "frame_too_large",
      "Bodies are limited to 524288 characters.",
    ],
    [
      "a rename to a number",
      () => parseRenameBody('{"title":7}'),
      "invalid_request",
      '"title" must be a string.',
    ],
    [
      "a rename with a control character",
      () => parseRenameBody('{"title":"a\\u0007b"}'),
      "invalid_request",
      '"title" holds a control character.',
    ],
    [
      "a rename of an array",
      () => parseRenameBody("[]"),
      "invalid_request",
      "The body must be a JSON object.",
    ],
  ])("refuses %s", (_name, run, code, message) => {
    expect(refusal(run)).toEqual({ code, message });
  });
});

describe("parseUsageQuery", () => {
  const url = (query: string) => new URL(`https://relay.test/usage${query}`);
  it.each([
    ["", 30],
    ["?days=7", 7],
    ["?days=90&token=t", 90],
  ])("reads %j", (query, days) => {
    expect(parseUsageQuery(url(query))).toBe(days);
  });

  it.each([
    ["?days=0", '"days" must be a whole number from 1 to 90.'],
    ["?days=1e1", '"days" must be a whole number from 1 to 90.'],
    ["?days=9999", '"days" must be a whole number from 1 to 90.'],
    ["?limit=3", 'Unknown query parameter "limit"; GET /usage takes only "days".'],
  ])("refuses %j", (query, message) => {
    expect(refusal(() => parseUsageQuery(url(query)))).toEqual({
      code: "invalid_request",
      message,
    });
  });
});

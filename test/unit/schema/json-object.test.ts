// readJsonObject, the one reader of a frame or body, and the adapter from valibot issues.
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { coded, parseWith, pathOf, whole } from "../../../src/schema/issues.ts";
import { isRecord, readJsonObject } from "../../../src/schema/json-object.ts";
import { refusal } from "./refusal.ts";

describe("readJsonObject", () => {
  it.each([
    ["an object", '{"a":1}', { a: 1 }],
    ["an empty object", "{}", {}],
    ["an object at the limit", `{"a":"${"x".repeat(12)}"}`, { a: "x".repeat(12) }],
    ["an object with spaces around it", ' \n{"a":[1]} ', { a: [1] }],
  ])("reads %s", (_name, text, value) => {
    expect(readJsonObject(text, 20, "body")).toEqual(value);
  });

  it.each<[string, string | ArrayBuffer, "frame" | "body", string, string | RegExp]>([
    [
      "a binary frame",
      new ArrayBuffer(2),
      "frame",
      "invalid_request",
      "Binary frames are not supported; send JSON text.",
    ],
    [
      "a frame over the limit",
      `{"a":"${"x".repeat(20)}"}`,
      "frame",
      "frame_too_large",
      "Frames are limited to 20 characters.",
    ],
    [
      "a body over the limit",
      " ".repeat(21),
      "body",
      "frame_too_large",
      "Bodies are limited to 20 characters.",
    ],
    ["text that is not JSON", "{nope", "body", "invalid_json", /^The body is not valid JSON: ./],
    ["an empty text", "", "frame", "invalid_json", /^The frame is not valid JSON: ./],
    ["a JSON array", "[1]", "body", "invalid_request", "The body must be a JSON object."],
    ["a JSON string", '"hi"', "frame", "invalid_request", "The frame must be a JSON object."],
    ["JSON null", "null", "body", "invalid_request", "The body must be a JSON object."],
    ["a JSON number", "7", "body", "invalid_request", "The body must be a JSON object."],
  ])("refuses %s", (_name, raw, what, code, message) => {
    const { code: got, message: text } = refusal(() => readJsonObject(raw, 20, what));
    expect(got).toBe(code);
    if (typeof message === "string") expect(text).toBe(message);
    else expect(text).toMatch(message);
  });

  it.each([
    [{}, true],
    [{ a: 1 }, true],
    [[], false],
    [null, false],
    ["x", false],
    [1, false],
  ])("isRecord(%j) is %s", (value, expected) => {
    expect(isRecord(value)).toBe(expected);
  });
});

describe("the issue adapter", () => {
  const schema = v.object({
    tools: v.array(
      v.object({
        function: v.object({ name: v.string("must be a string.") }),
        size: v.optional(v.number(coded("invalid_tools", "must be a number."))),
        id: v.optional(v.string(whole('The "id" must be a string.'))),
      }),
    ),
  });

  it.each([
    [
      "a nested field",
      { tools: [{ function: { name: 1 } }] },
      "invalid_request",
      '"tools[0].function.name" must be a string.',
    ],
    [
      "a later entry",
      { tools: [{ function: { name: "a" } }, { function: { name: null } }] },
      "invalid_request",
      '"tools[1].function.name" must be a string.',
    ],
    [
      "a coded message",
      { tools: [{ function: { name: "a" }, size: "x" }] },
      "invalid_tools",
      '"tools[0].size" must be a number.',
    ],
    [
      "a whole message",
      { tools: [{ function: { name: "a" }, id: 1 }] },
      "invalid_request",
      'The "id" must be a string.',
    ],
  ])("names %s", (_name, input, code, message) => {
    expect(refusal(() => parseWith(schema, input, "invalid_request"))).toEqual({ code, message });
  });

  it("puts the root before the path, and returns the output when the input is valid", () => {
    const input = { tools: [{ function: { name: 5 } }] };
    expect(refusal(() => parseWith(schema, input, "invalid_request", "body"))).toEqual({
      code: "invalid_request",
      message: '"body.tools[0].function.name" must be a string.',
    });
    const valid = { tools: [{ function: { name: "a" } }] };
    expect(parseWith(schema, valid, "invalid_request")).toEqual(valid);
  });

  it("writes paths as a client does", () => {
    const result = v.safeParse(v.array(v.object({ a: v.string() })), [{ a: "x" }, { a: 1 }]);
    expect(result.issues && pathOf(result.issues[0])).toBe("[1].a");
    expect(result.issues && pathOf(result.issues[0], "list")).toBe("list[1].a");
  });
});

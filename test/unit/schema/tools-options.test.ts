// The parsers of tool definitions, tool results and request options, fed good and bad input.
import { describe, expect, it } from "vitest";
import { parseRequestOptions } from "../../../src/schema/options.ts";
import { parseToolDefinitions, parseToolResults } from "../../../src/schema/tools.ts";
import { refusal } from "./refusal.ts";

const schema = { type: "object", properties: { city: { type: "string" } } };
const tool = (name: string, extra: object = {}) => ({ name, inputSchema: schema, ...extra });
const policy = { models: ["model-a", "model-b"], maxOutputTokens: 4000 };
const NAME = "must match /^[A-Za-z0-9_-]{1,64}$/.";
const SCHEMA = 'must be a JSON Schema object with "type": "object".';

describe("parseToolDefinitions", () => {
  it.each([
    ["one tool", [tool("weather")]],
    ["a description", [tool("get-weather_2", { description: "Looks it up." })]],
    ["a schema without properties", [{ name: "now", inputSchema: { type: "object" } }]],
    ["128 tools", Array.from({ length: 128 }, (_, i) => tool(`t${i}`))],
    ["none", []],
  ])("keeps %s as given", (_name, tools) => {
    expect(parseToolDefinitions(tools, "tools")).toEqual(tools);
  });

  it("passes undefined and drops unknown fields of a definition", () => {
    expect(parseToolDefinitions(undefined, "tools")).toBeUndefined();
    expect(parseToolDefinitions([tool("a", { strict: true })], "tools")).toEqual([tool("a")]);
  });

  it.each<[string, unknown, string]>([
    ["an object", {}, '"tools" must be an array of tool definitions.'],
    ["a string", "weather", '"tools" must be an array of tool definitions.'],
    ["a number entry", [5], '"tools[0]" must be an object.'],
    ["an array entry", [[]], '"tools[0]" must be an object.'],
    ["no name", [{ inputSchema: schema }], `"tools[0].name" ${NAME}`],
    ["a name with a space", [tool("a b")], `"tools[0].name" ${NAME}`],
    ["a name of 65 characters", [tool("n".repeat(65))], `"tools[0].name" ${NAME}`],
    [
      "a repeated name",
      [tool("a"), tool("b"), tool("a")],
      '"tools[2].name" repeats the tool name "a".',
    ],
    [
      "a numeric description",
      [tool("a", { description: 1 })],
      '"tools[0].description" must be a string.',
    ],
    ["no inputSchema", [{ name: "a" }], `"tools[0].inputSchema" ${SCHEMA}`],
    [
      "an inputSchema of another type",
      [{ name: "a", inputSchema: { type: "string" } }],
      '"tools[0].inputSchema.type" must be "object".',
    ],
    ["an array inputSchema", [{ name: "a", inputSchema: [] }], `"tools[0].inputSchema" ${SCHEMA}`],
    [
      "array properties",
      [{ name: "a", inputSchema: { type: "object", properties: [] } }],
      '"tools[0].inputSchema.properties" must be an object.',
    ],
    [
      "129 tools",
      Array.from({ length: 129 }, (_, i) => tool(`t${i}`)),
      '"tools" has 129 tools; the most is 128.',
    ],
  ])("refuses %s with invalid_tools", (_name, tools, message) => {
    expect(refusal(() => parseToolDefinitions(tools, "tools"))).toEqual({
      code: "invalid_tools",
      message,
    });
  });

  it("refuses definitions over 64 KiB of JSON, named under the caller's field", () => {
    const { code, message } = refusal(() =>
      parseToolDefinitions([tool("a", { description: "d".repeat(70_000) })], "body.tools"),
    );
    expect(code).toBe("invalid_tools");
    expect(message).toMatch(/^"body\.tools" is \d+ characters as JSON; the most is 65536\.$/);
  });
});

describe("parseToolResults", () => {
  it.each([
    ["an output", [{ toolCallId: "c", output: { a: 1 } }], [{ toolCallId: "c", output: { a: 1 } }]],
    [
      "an errorText",
      [{ toolCallId: "c", errorText: "failed" }],
      [{ toolCallId: "c", errorText: "failed" }],
    ],
    ["a text output", [{ toolCallId: "c", output: "21 C" }], [{ toolCallId: "c", output: "21 C" }]],
    [
      "extra fields, dropped",
      [{ toolCallId: "c", output: 1, extra: 2 }],
      [{ toolCallId: "c", output: 1 }],
    ],
  ])("reads %s", (_name, results, parsed) => {
    expect(parseToolResults(results, "results")).toEqual(parsed);
  });

  it.each<[string, unknown, string, string]>([
    [
      "undefined",
      undefined,
      "invalid_request",
      '"results" must be a non-empty array of tool results.',
    ],
    [
      "an empty list",
      [],
      "invalid_request",
      '"results" must be a non-empty array of tool results.',
    ],
    [
      "an object",
      { toolCallId: "c" },
      "invalid_request",
      '"results" must be a non-empty array of tool results.',
    ],
    [
      "an empty toolCallId",
      [{ toolCallId: "", output: 1 }],
      "invalid_request",
      '"results[0].toolCallId" must be a non-empty string.',
    ],
    [
      "a numeric toolCallId",
      [{ toolCallId: 1, output: 1 }],
      "invalid_request",
      '"results[0].toolCallId" must be a non-empty string.',
    ],
    [
      "a bad second entry",
      [{ toolCallId: "c", output: 1 }, null],
      "invalid_request",
      '"results[1]" must be an object with a "toolCallId" string.',
    ],
    [
      "both",
      [{ toolCallId: "c", output: 1, errorText: "e" }],
      "invalid_request",
      '"results[0]" must have exactly one of "output" and "errorText".',
    ],
    [
      "an output over 64 KiB",
      [{ toolCallId: "c", output: ["x".repeat(65_535)] }],
      "tool_input_too_large",
      '"results[0]" is 65539 characters as JSON; the most is 65536.',
    ],
  ])("refuses %s", (_name, results, code, message) => {
    expect(refusal(() => parseToolResults(results, "results"))).toEqual({ code, message });
  });
});

describe("parseRequestOptions", () => {
  it.each<[string, Record<string, unknown>]>([
    [
      "every option",
      {
        model: "model-b",
        temperature: 2,
        top_p: 0,
        max_tokens: 4000,
        stop: ["a", "b"],
        seed: -3,
        reasoning_effort: "high",
        thinking_budget: 1024,
        tool_choice: "required",
      },
    ],
    ["no options", {}],
    ["a named tool choice", { tool_choice: { name: "weather" } }],
    ["tool choice none", { tool_choice: "none" }],
    ["four stops", { stop: ["a", "b", "c", "d"] }],
  ])("keeps %s", (_name, options) => {
    expect(parseRequestOptions(options, "options", policy)).toEqual(options);
  });

  it("reads one stop as a list of one, and passes undefined", () => {
    expect(parseRequestOptions({ stop: "END" }, "options", policy)).toEqual({ stop: ["END"] });
    expect(parseRequestOptions(undefined, "options", policy)).toBeUndefined();
  });

  const STOP = "must be a string or up to 4 non-empty strings.";
  const CHOICE = 'must be "auto", "none", "required" or {"name": "<tool>"}.';
  it.each<[string, unknown, string, string]>([
    ["an array", [], "invalid_option", '"options" must be an object.'],
    ["a string", "fast", "invalid_option", '"options" must be an object.'],
    [
      "an unknown option",
      { n: 2 },
      "invalid_option",
      '"options.n" is not an option; expected model, temperature, top_p, max_tokens, stop, seed, reasoning_effort, thinking_budget or tool_choice.',
    ],
    [
      "a model not allowed",
      { model: "model-c" },
      "model_not_allowed",
      '"options.model" "model-c" is not allowed; allowed: model-a, model-b.',
    ],
    [
      "a numeric model",
      { model: 4 },
      "model_not_allowed",
      '"options.model" 4 is not allowed; allowed: model-a, model-b.',
    ],
    [
      "a temperature over 2",
      { temperature: 2.5 },
      "invalid_option",
      '"options.temperature" must be a number from 0 to 2.',
    ],
    [
      "a text temperature",
      { temperature: "1" },
      "invalid_option",
      '"options.temperature" must be a number from 0 to 2.',
    ],
    [
      "a negative top_p",
      { top_p: -0.1 },
      "invalid_option",
      '"options.top_p" must be a number from 0 to 1.',
    ],
    [
      "max_tokens of 0",
      { max_tokens: 0 },
      "invalid_option",
      '"options.max_tokens" must be an integer from 1 to 4000.',
    ],
    [
      "max_tokens over the cap",
      { max_tokens: 4001 },
      "invalid_option",
      '"options.max_tokens" must be an integer from 1 to 4000.',
    ],
    [
      "fractional max_tokens",
      { max_tokens: 10.5 },
      "invalid_option",
      '"options.max_tokens" must be an integer from 1 to 4000.',
    ],
    [
      "a small thinking budget",
      { thinking_budget: 1023 },
      "invalid_option",
      '"options.thinking_budget" must be an integer from 1024 to 4000.',
    ],
    ["a fractional seed", { seed: 1.5 }, "invalid_option", '"options.seed" must be an integer.'],
    [
      "an unknown effort",
      { reasoning_effort: "minimal" },
      "invalid_option",
      '"options.reasoning_effort" must be "low", "medium" or "high".',
    ],
    ["an empty stop", { stop: "" }, "invalid_option", `"options.stop" ${STOP}`],
    ["five stops", { stop: ["a", "b", "c", "d", "e"] }, "invalid_option", `"options.stop" ${STOP}`],
    ["no stops", { stop: [] }, "invalid_option", `"options.stop" ${STOP}`],
    ["a numeric stop", { stop: [1] }, "invalid_option", `"options.stop" ${STOP}`],
    [
      "an unknown tool choice",
      { tool_choice: "any" },
      "invalid_option",
      `"options.tool_choice" ${CHOICE}`,
    ],
    [
      "a tool choice with a bad name",
      { tool_choice: { name: "a b" } },
      "invalid_option",
      `"options.tool_choice" ${CHOICE}`,
    ],
    [
      "a tool choice array",
      { tool_choice: ["weather"] },
      "invalid_option",
      `"options.tool_choice" ${CHOICE}`,
    ],
  ])("refuses %s", (_name, options, code, message) => {
    expect(refusal(() => parseRequestOptions(options, "options", policy))).toEqual({
      code,
      message,
    });
  });

  it("has no cap on max_tokens without MAX_OUTPUT_TOKENS, and no models without a policy", () => {
    expect(parseRequestOptions({ max_tokens: 1_000_000 }, "options", { models: [] })).toEqual({
      max_tokens: 1_000_000,
    });
    expect(
      refusal(() => parseRequestOptions({ max_tokens: 0 }, "options", { models: [] })),
    ).toEqual({
      code: "invalid_option",
      message: '"options.max_tokens" must be an integer >= 1.',
    });
    expect(refusal(() => parseRequestOptions({ model: "model-a" }, "options")).code).toBe(
      "model_not_allowed",
    );
  });
});

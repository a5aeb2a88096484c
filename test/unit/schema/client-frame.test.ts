// parseClientFrame: every frame type of /chat, and the malformed frames we can think of.
import { describe, expect, it } from "vitest";
import type { ClientFrame } from "../../../src/protocol.ts";
import { parseClientFrame } from "../../../src/schema/client-frame.ts";
import { refusal } from "./refusal.ts";

const policy = { models: ["model-a"], maxOutputTokens: 1000 };
const tool = { name: "weather", inputSchema: { type: "object", properties: {} } };
const FRAME_TYPES = "prompt, tool-results, cancel, resume, history, ping, rename, delete or list";

describe("parseClientFrame reads", () => {
  it.each<[string, unknown, ClientFrame]>([
    ["the seed frame", { prompt: "hi" }, { type: "prompt", prompt: "hi" }],
    ["a typed prompt", { type: "prompt", prompt: "hi" }, { type: "prompt", prompt: "hi" }],
    [
      "a prompt with tools and options",
      { prompt: "hi", tools: [tool], options: { model: "model-a", temperature: 0.5 } },
      {
        type: "prompt",
        prompt: "hi",
        tools: [tool],
        options: { model: "model-a", temperature: 0.5 },
      },
    ],
    [
      "tool-results",
      {
        type: "tool-results",
        results: [
          { toolCallId: "c1", output: { t: 21 } },
          { toolCallId: "c2", errorText: "no" },
        ],
      },
      {
        type: "tool-results",
        results: [
          { toolCallId: "c1", output: { t: 21 } },
          { toolCallId: "c2", errorText: "no" },
        ],
      },
    ],
    [
      "a null output",
      { type: "tool-results", results: [{ toolCallId: "c", output: null }] },
      { type: "tool-results", results: [{ toolCallId: "c", output: null }] },
    ],
    ["cancel", { type: "cancel" }, { type: "cancel" }],
    ["history", { type: "history" }, { type: "history" }],
    ["ping", { type: "ping" }, { type: "ping" }],
    ["delete", { type: "delete" }, { type: "delete" }],
    ["a ping with extra fields, dropped", { type: "ping", extra: 1 }, { type: "ping" }],
    [
      "rename, on one line",
      { type: "rename", title: "  Trip\n plans " },
      { type: "rename", title: "Trip plans" },
    ],
    ["list", { type: "list" }, { type: "list" }],
    [
      "list with a page",
      { type: "list", limit: 100, cursor: "abc" },
      { type: "list", limit: 100, cursor: "abc" },
    ],
    ["resume", { type: "resume", after: 0 }, { type: "resume", after: 0 }],
    ["resume far on", { type: "resume", after: 2 ** 40 }, { type: "resume", after: 2 ** 40 }],
  ])("%s", (_name, frame, parsed) => {
    expect(parseClientFrame(JSON.stringify(frame), policy)).toEqual(parsed);
  });

  it("reads tool-results up to 512 KiB, other frames up to 64 KiB", () => {
    const big = {
      type: "tool-results",
      results: [
        { toolCallId: "c", output: "x".repeat(60_000) },
        { toolCallId: "d", output: "y".repeat(60_000) },
      ],
    };
    expect(parseClientFrame(JSON.stringify(big)).type).toBe("tool-results");
  });
});

type Row = [string, string | ArrayBuffer, string, string];
const json = (value: unknown) => JSON.stringify(value);
const SEQ = '"after" must be a sequence number (an integer >= 0).';

describe("parseClientFrame refuses", () => {
  it.each<Row>([
    [
      "a binary frame",
      new ArrayBuffer(4),
      "invalid_request",
      "Binary frames are not supported; send JSON text.",
    ],
    ["a JSON array", "[]", "invalid_request", "The frame must be a JSON object."],
    ["a JSON string", '"prompt"', "invalid_request", "The frame must be a JSON object."],
    [
      "a prompt over 64 KiB",
      json({ prompt: "x".repeat(70_000) }),
      "frame_too_large",
      "Frames are limited to 65536 characters (tool-results: 524288).",
    ],
    [
      "any frame over 512 KiB",
      json({ type: "tool-results", results: "x".repeat(530_000) }),
      "frame_too_large",
      "Frames are limited to 524288 characters.",
    ],
    [
      "an unknown type",
      json({ type: "subscribe" }),
      "invalid_request",
      `"type" is "subscribe", not a frame type; expected ${FRAME_TYPES}.`,
    ],
    [
      "a numeric type",
      json({ type: 5, prompt: "hi" }),
      "invalid_request",
      `"type" is 5, not a frame type; expected ${FRAME_TYPES}.`,
    ],
    [
      "a null type",
      json({ type: null, prompt: "hi" }),
      "invalid_request",
      `"type" is null, not a frame type; expected ${FRAME_TYPES}.`,
    ],
    ["no prompt", "{}", "invalid_request", '"prompt" must be a string.'],
    ["a numeric prompt", json({ prompt: 5 }), "invalid_request", '"prompt" must be a string.'],
    ["an empty prompt", json({ prompt: "" }), "prompt_empty", '"prompt" is empty.'],
    ["a blank prompt", json({ prompt: " \n\t" }), "prompt_empty", '"prompt" is empty.'],
    [
      "a prompt over 32,000 characters",
      json({ prompt: "x".repeat(32_001) }),
      "prompt_too_large",
      '"prompt" has 32001 characters; the limit is 32000.',
    ],
    [
      "tools that are not an array",
      json({ prompt: "hi", tools: {} }),
      "invalid_tools",
      '"tools" must be an array of tool definitions.',
    ],
    [
      "a tool with a bad name",
      json({ prompt: "hi", tools: [{ ...tool, name: "a b" }] }),
      "invalid_tools",
      '"tools[0].name" must match /^[A-Za-z0-9_-]{1,64}$/.',
    ],
    [
      "options that are not an object",
      json({ prompt: "hi", options: [] }),
      "invalid_option",
      '"options" must be an object.',
    ],
    [
      "an option we do not know",
      json({ prompt: "hi", options: { temp: 1 } }),
      "invalid_option",
      '"options.temp" is not an option; expected model, temperature, top_p, max_tokens, stop, seed, reasoning_effort, thinking_budget or tool_choice.',
    ],
    [
      "a model the policy does not allow",
      json({ prompt: "hi", options: { model: "model-z" } }),
      "model_not_allowed",
      '"options.model" "model-z" is not allowed; allowed: model-a.',
    ],
    [
      "max_tokens over the policy's cap",
      json({ prompt: "hi", options: { max_tokens: 1001 } }),
      "invalid_option",
      '"options.max_tokens" must be an integer from 1 to 1000.',
    ],
    [
      "tool-results without results",
      json({ type: "tool-results" }),
      "invalid_request",
      '"results" must be a non-empty array of tool results.',
    ],
    [
      "tool-results with none",
      json({ type: "tool-results", results: [] }),
      "invalid_request",
      '"results" must be a non-empty array of tool results.',
    ],
    [
      "a result without a toolCallId",
      json({ type: "tool-results", results: [{ output: 1 }] }),
      "invalid_request",
      '"results[0].toolCallId" must be a non-empty string.',
    ],
    [
      "a result that is not an object",
      json({ type: "tool-results", results: ["x"] }),
      "invalid_request",
      '"results[0]" must be an object with a "toolCallId" string.',
    ],
    [
      "a result with output and errorText",
      json({ type: "tool-results", results: [{ toolCallId: "c", output: 1, errorText: "e" }] }),
      "invalid_request",
      '"results[0]" must have exactly one of "output" and "errorText".',
    ],
    [
      "a result with neither",
      json({ type: "tool-results", results: [{ toolCallId: "c" }] }),
      "invalid_request",
      '"results[0]" must have exactly one of "output" and "errorText".',
    ],
    [
      "a numeric errorText",
      json({ type: "tool-results", results: [{ toolCallId: "c", errorText: 5 }] }),
      "invalid_request",
      '"results[0].errorText" must be a string.',
    ],
    [
      "a result over 64 KiB",
      json({ type: "tool-results", results: [{ toolCallId: "c", output: "x".repeat(70_000) }] }),
      "tool_input_too_large",
      '"results[0]" is 70002 characters as JSON; the most is 65536.',
    ],
    [
      "a rename without a title",
      json({ type: "rename" }),
      "invalid_request",
      '"title" must be a string.',
    ],
    [
      "a numeric title",
      json({ type: "rename", title: 7 }),
      "invalid_request",
      '"title" must be a string.',
    ],
    [
      "a blank title",
      json({ type: "rename", title: "  \n " }),
      "invalid_request",
      '"title" is empty.',
    ],
    [
      "a title over 120 characters",
      json({ type: "rename", title: "t".repeat(121) }),
      "invalid_request",
      '"title" has 121 characters; the limit is 120.',
    ],
    [
      "a list of zero",
      json({ type: "list", limit: 0 }),
      "invalid_request",
      '"limit" must be an integer >= 1.',
    ],
    [
      "a list of 1.5",
      json({ type: "list", limit: 1.5 }),
      "invalid_request",
      '"limit" must be an integer >= 1.',
    ],
    [
      "a list with a text limit",
      json({ type: "list", limit: "5" }),
      "invalid_request",
      '"limit" must be an integer >= 1.',
    ],
    [
      "a list of too many",
      json({ type: "list", limit: 101 }),
      "invalid_request",
      '"limit" is 101; the most is 100.',
    ],
    [
      "a list with a numeric cursor",
      json({ type: "list", cursor: 5 }),
      "invalid_request",
      '"cursor" must be a string.',
    ],
    ["a resume without after", json({ type: "resume" }), "invalid_request", SEQ],
    ["a resume after -1", json({ type: "resume", after: -1 }), "invalid_request", SEQ],
    ["a resume after 1.5", json({ type: "resume", after: 1.5 }), "invalid_request", SEQ],
    ["a resume after text", json({ type: "resume", after: "3" }), "invalid_request", SEQ],
  ])("%s", (_name, raw, code, message) => {
    expect(refusal(() => parseClientFrame(raw, policy))).toEqual({ code, message });
  });

  it("refuses text that is not JSON with the parser's reason", () => {
    const { code, message } = refusal(() => parseClientFrame("{nope"));
    expect(code).toBe("invalid_json");
    expect(message).toMatch(/^The frame is not valid JSON: ./);
  });

  it("refuses any model without a policy", () => {
    expect(
      refusal(() => parseClientFrame(json({ prompt: "hi", options: { model: "m" } }))),
    ).toEqual({
      code: "model_not_allowed",
      message: '"options.model" "m" is not allowed; allowed: none (set ALLOWED_MODELS).',
    });
  });
});

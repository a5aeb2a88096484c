// Stored parts back upstream: buildContext splits an answer into steps and tool messages, the
// budget counts every part, and each provider's request shape maps them (and refuses options
// it does not take).
import { describe, expect, it } from "vitest";
import type { MessagePart, StoredMessage } from "../../../src/protocol.ts";
import {
  anthropicOptions,
  anthropicTurns,
  chatCompletionsMessages,
  chatCompletionsOptions,
  outputTokens,
} from "../../../src/providers/request-shapes.ts";
import { parseRequestOptions } from "../../../src/schema/options.ts";
import { parseToolDefinitions } from "../../../src/schema/tools.ts";
import { buildContext, messageChars } from "../../../src/session/context.ts";

const user = (id: string, content: string): StoredMessage => ({
  id,
  role: "user",
  content,
  status: "complete",
  createdAt: 0,
});

const answer = (
  id: string,
  parts: MessagePart[],
  status: StoredMessage["status"] = "complete",
): StoredMessage => ({
  id,
  role: "assistant",
  content: parts.map((part) => (part.type === "text" ? part.text : "")).join(""),
  parts,
  status,
  createdAt: 0,
});

const TOOL_ANSWER = answer("a", [
  { type: "step-start" },
  { type: "reasoning", text: "thinking", signature: "sig" },
  { type: "reasoning", text: "", redactedData: "opaque" },
  { type: "reasoning", text: "unsigned" },
  { type: "text", text: "Checking." },
  {
    type: "tool-call",
    toolCallId: "c1",
    toolName: "weather",
    state: "output-available",
    input: { city: "Paris" },
    output: { t: 21 },
  },
  {
    type: "tool-call",
    toolCallId: "c2",
    toolName: "weather",
    state: "input-error",
    inputText: "{",
    errorText: "not JSON",
  },
  {
    type: "tool-call",
    toolCallId: "c3",
    toolName: "clock",
    state: "output-error",
    input: {},
    errorText: "down",
  },
  { type: "tool-call", toolCallId: "c4", toolName: "never", state: "input-available", input: {} },
  { type: "step-start" },
  { type: "text", text: "Sunny." },
]);

describe("buildContext with parts", () => {
  const context = buildContext(
    [user("q", "Weather?"), TOOL_ANSWER, user("q2", "Thanks")],
    undefined,
  );

  it("gives each step an assistant message and each answered call a tool message; unanswered calls are left out", () => {
    expect(context.map((message) => message.role)).toEqual([
      "user",
      "assistant",
      "tool",
      "tool",
      "tool",
      "assistant",
      "user",
    ]);
    expect(
      context[1]?.parts
        ?.filter((part) => part.type === "tool-call")
        .map((part) => part.type === "tool-call" && part.id),
    ).toEqual(["c1", "c2", "c3"]);
    expect(context.slice(2, 5)).toEqual([
      { role: "tool", toolCallId: "c1", toolName: "weather", content: '{"t":21}' },
      {
        role: "tool",
        toolCallId: "c2",
        toolName: "weather",
        content: "Invalid arguments: not JSON",
        isError: true,
      },
      { role: "tool", toolCallId: "c3", toolName: "clock", content: "down", isError: true },
    ]);
    expect(context[5]).toMatchObject({ role: "assistant", content: "Sunny." });
  });

  it("Chat Completions: tool_calls with the arguments text and tool messages, no reasoning", () => {
    const messages = chatCompletionsMessages(context);
    expect(messages[1]).toEqual({
      role: "assistant",
      content: "Checking.",
      tool_calls: [
        {
          id: "c1",
          type: "function",
          function: { name: "weather", arguments: '{"city":"Paris"}' },
        },
        { id: "c2", type: "function", function: { name: "weather", arguments: "{}" } },
        { id: "c3", type: "function", function: { name: "clock", arguments: "{}" } },
      ],
    });
    expect(messages[2]).toEqual({ role: "tool", tool_call_id: "c1", content: '{"t":21}' });
    expect(JSON.stringify(messages)).not.toContain("thinking");
  });

  it("Anthropic: signed thinking and redacted_thinking kept, unsigned reasoning dropped, results joined in one user turn", () => {
    const turns = anthropicTurns(context);
    expect(turns.map((turn) => turn.role)).toEqual([
      "user",
      "assistant",
      "user",
      "assistant",
      "user",
    ]);
    expect(turns[1]?.content).toEqual([
      { type: "thinking", thinking: "thinking", signature: "sig" },
      { type: "redacted_thinking", data: "opaque" },
      { type: "text", text: "Checking." },
      { type: "tool_use", id: "c1", name: "weather", input: { city: "Paris" } },
      { type: "tool_use", id: "c2", name: "weather", input: {} },
      { type: "tool_use", id: "c3", name: "clock", input: {} },
    ]);
    expect(turns[2]?.content).toEqual([
      { type: "tool_result", tool_use_id: "c1", content: '{"t":21}' },
      {
        type: "tool_result",
        tool_use_id: "c2",
        content: "Invalid arguments: not JSON",
        is_error: true,
      },
      { type: "tool_result", tool_use_id: "c3", content: "down", is_error: true },
    ]);
    expect(turns[4]).toEqual({ role: "user", content: "Thanks" });
  });

  it("counts every part in the budget: reasoning, signatures, inputs and outputs", () => {
    const big = answer("b", [
      { type: "step-start" },
      { type: "reasoning", text: "r".repeat(500), signature: "s".repeat(300) },
      {
        type: "tool-call",
        toolCallId: "c",
        toolName: "t",
        state: "output-available",
        input: { a: 1 },
        output: "o".repeat(200),
      },
    ]);
    expect(messageChars(big)).toBeGreaterThan(1000);
    const kept = buildContext(
      [user("old", "old question"), big, user("new", "new question")],
      undefined,
      900,
    );
    expect(kept).toEqual([{ role: "user", content: "new question" }]);
  });

  it("a continuation sends its own streaming answer's earlier steps; another streaming answer is left out", () => {
    const streaming = { ...TOOL_ANSWER, status: "streaming" as const };
    expect(buildContext([user("q", "Weather?"), streaming], undefined)).toHaveLength(1);
    expect(
      buildContext([user("q", "Weather?"), streaming], undefined, undefined, "a").length,
    ).toBeGreaterThan(1);
  });
});

describe("options in each provider's fields", () => {
  it("the smaller of MAX_OUTPUT_TOKENS and max_tokens wins", () => {
    expect(outputTokens(undefined, undefined)).toBeUndefined();
    expect(outputTokens(100, undefined)).toBe(100);
    expect(outputTokens(undefined, { max_tokens: 50 })).toBe(50);
    expect(outputTokens(100, { max_tokens: 50 })).toBe(50);
  });

  it("refuses what a provider does not take, naming the option", () => {
    expect(() => chatCompletionsOptions(undefined, { thinking_budget: 2000 })).toThrow(
      /thinking_budget/,
    );
    expect(() => anthropicOptions(undefined, { seed: 1 })).toThrow(/seed/);
    expect(() => anthropicOptions(undefined, { reasoning_effort: "low" })).toThrow(
      /reasoning_effort/,
    );
    expect(anthropicOptions(undefined, { tool_choice: "none" })).toEqual({
      tool_choice: { type: "none" },
    });
  });
});

describe("parseToolDefinitions and parseRequestOptions", () => {
  const REFUSED_TOOLS: unknown[] = [
    {},
    [null],
    [{ name: "", inputSchema: { type: "object" } }],
    [{ name: "x".repeat(65), inputSchema: { type: "object" } }],
    [
      { name: "a", inputSchema: { type: "object" } },
      { name: "a", inputSchema: { type: "object" } },
    ],
    [{ name: "a", description: 1, inputSchema: { type: "object" } }],
    [{ name: "a" }],
    [{ name: "a", inputSchema: { type: "object", properties: [] } }],
    Array.from({ length: 129 }, (_, i) => ({ name: `t${i}`, inputSchema: { type: "object" } })),
    [{ name: "a", description: "d".repeat(70_000), inputSchema: { type: "object" } }],
  ];
  it.each(REFUSED_TOOLS.map((tools, i) => [i, tools]))(
    "refuses tool definitions %i with invalid_tools",
    (_i, tools) => {
      expect(() => parseToolDefinitions(tools, "tools")).toThrow(
        expect.objectContaining({ code: "invalid_tools" }),
      );
    },
  );

  it("keeps valid definitions as given", () => {
    const tools = [
      { name: "get-weather_2", description: "d", inputSchema: { type: "object", properties: {} } },
    ];
    expect(parseToolDefinitions(tools, "tools")).toEqual(tools);
    expect(parseToolDefinitions(undefined, "tools")).toBeUndefined();
  });

  it("bounds max_tokens and thinking_budget by MAX_OUTPUT_TOKENS when set", () => {
    const policy = { models: ["m"], maxOutputTokens: 2000 };
    expect(parseRequestOptions({ max_tokens: 2000, model: "m" }, "options", policy)).toEqual({
      max_tokens: 2000,
      model: "m",
    });
    expect(() => parseRequestOptions({ max_tokens: 2001 }, "options", policy)).toThrow(
      /options.max_tokens/,
    );
    expect(() => parseRequestOptions({ thinking_budget: 2001 }, "options", policy)).toThrow(
      /options.thinking_budget/,
    );
    expect(() => parseRequestOptions([], "options", policy)).toThrow(
      expect.objectContaining({ code: "invalid_option" }),
    );
  });
});

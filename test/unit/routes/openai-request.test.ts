// parseCompletionRequest (POST /v1/chat/completions): the bodies OpenAI clients send, read.
import { describe, expect, it } from "vitest";
import { parseCompletionRequest } from "../../../src/routes/openai-request.ts";

const policy = { models: ["gpt-a"], choosable: true };
const fixed = { models: [], choosable: false };
const hi = [{ role: "user", content: "hi" }];
const post = (body: object) => JSON.stringify({ model: "gpt-a", messages: hi, ...body });
const call = {
  id: "call_1",
  type: "function",
  function: { name: "weather", arguments: '{"city":"Oslo"}' },
};
const fn = { type: "function", function: { name: "weather", parameters: { type: "object" } } };

describe("parseCompletionRequest reads", () => {
  it("a plain streamed request", () => {
    expect(
      parseCompletionRequest(
        post({ stream: true, stream_options: { include_usage: true } }),
        policy,
      ),
    ).toEqual({
      messages: [{ role: "user", content: "hi" }],
      prompt: "hi",
      stream: true,
      includeUsage: true,
      session: undefined,
      tools: undefined,
      options: { model: "gpt-a" },
      passThrough: {},
      toolResults: undefined,
    });
  });

  it("a conversation with a tool call, its result, text parts and a developer message", () => {
    const messages = [
      { role: "developer", content: "Be brief." },
      {
        role: "user",
        content: [
          { type: "text", text: "wea" },
          { type: "text", text: "ther?" },
        ],
      },
      { role: "assistant", content: null, tool_calls: [call] },
      { role: "tool", tool_call_id: "call_1", content: "21 C" },
    ];
    const request = parseCompletionRequest(post({ messages, model: undefined }), policy);
    expect(request.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "weather?" },
      {
        role: "assistant",
        content: "",
        parts: [
          {
            type: "tool-call",
            id: "call_1",
            name: "weather",
            arguments: '{"city":"Oslo"}',
            input: { city: "Oslo" },
          },
        ],
      },
      { role: "tool", content: "21 C", toolCallId: "call_1", toolName: "weather" },
    ]);
    expect(request.prompt).toBe("weather?");
    expect(request.toolResults).toEqual([{ toolCallId: "call_1", output: "21 C" }]);
  });

  it.each<[string, object, object]>([
    [
      "tools, a default schema for none",
      { tools: [fn, { type: "function", function: { name: "now" } }] },
      {
        tools: [
          { name: "weather", inputSchema: { type: "object" } },
          { name: "now", inputSchema: { type: "object", properties: {} } },
        ],
      },
    ],
    ["no tools for an empty list", { tools: [] }, { tools: undefined }],
    [
      "sampling options under OpenAI's names",
      {
        temperature: 1,
        max_completion_tokens: 50,
        stop: "END",
        tool_choice: { type: "function", function: { name: "weather" } },
      },
      {
        options: {
          model: "gpt-a",
          temperature: 1,
          max_tokens: 50,
          stop: ["END"],
          tool_choice: { name: "weather" },
        },
      },
    ],
    [
      "pass-through fields",
      {
        response_format: { type: "json_schema", json_schema: { name: "x" } },
        parallel_tool_calls: false,
      },
      {
        passThrough: {
          response_format: { type: "json_schema", json_schema: { name: "x" } },
          parallel_tool_calls: false,
        },
      },
    ],
    [
      "nulls as absent",
      { n: null, stream: null, tools: null, response_format: null, max_tokens: null },
      { stream: false, tools: undefined, passThrough: {} },
    ],
    [
      "a session",
      { sluice_session: "0123456789abcdef0123456789abcdef" },
      { session: "0123456789abcdef0123456789abcdef" },
    ],
  ])("%s", (_name, extra, expected) => {
    expect(parseCompletionRequest(post(extra), policy)).toMatchObject(expected);
  });

  it("ignores `model` when ALLOWED_MODELS is not set", () => {
    expect(parseCompletionRequest(post({ model: "anything" }), fixed).options).toBeUndefined();
  });
});

// parseChatRequest (POST /api/chat): the bodies the AI SDK sends, good and bad.
import { describe, expect, it } from "vitest";
import { parseChatRequest } from "../../../src/routes/ai-sdk-request.ts";
import { refusal } from "../schema/refusal.ts";

const user = (text: string) => ({ id: "u1", role: "user", parts: [{ type: "text", text }] });
const body = (extra: object = {}) =>
  JSON.stringify({ id: "chat-1", messages: [user("hi")], ...extra });
const weather = { name: "weather", inputSchema: { type: "object" } };
const policy = { models: ["model-a"] };

describe("parseChatRequest reads", () => {
  it("a submit with tools and options", () => {
    const request = parseChatRequest(
      body({
        trigger: "submit-message",
        messageId: "m1",
        tools: [weather],
        options: { model: "model-a" },
      }),
      policy,
    );
    expect(request).toEqual({
      chatId: "chat-1",
      prompt: "hi",
      trigger: "submit-message",
      tools: [weather],
      options: { model: "model-a" },
      toolResults: undefined,
    });
  });

  it.each([
    [
      "the last user message's text parts, joined",
      [
        user("old"),
        {
          role: "user",
          parts: [
            { type: "text", text: "a" },
            { type: "file", url: "x" },
            { type: "text", text: "b" },
          ],
        },
      ],
      "a\nb",
    ],
    [
      "a user message before an answer",
      [user("q"), { role: "assistant", parts: [{ type: "text", text: "a" }] }],
      "q",
    ],
  ])("%s", (_name, messages, prompt) => {
    expect(
      parseChatRequest(JSON.stringify({ id: "c", messages, trigger: "regenerate-message" })).prompt,
    ).toBe(prompt);
  });

  it("`message` alone, and a null trigger as a submit", () => {
    const request = parseChatRequest(
      JSON.stringify({ id: "c", message: user("only"), trigger: null }),
    );
    expect(request).toMatchObject({ prompt: "only", trigger: "submit-message" });
  });

  it("the tool outputs of the last step of an assistant message last", () => {
    const assistant = {
      role: "assistant",
      parts: [
        { type: "step-start" },
        { type: "tool-weather", toolCallId: "old", state: "output-available", output: 1 },
        { type: "step-start" },
        {
          type: "tool-weather",
          toolCallId: "c1",
          state: "output-available",
          input: {},
          output: { t: 21 },
        },
        { type: "dynamic-tool", toolCallId: "c2", state: "output-error", errorText: "failed" },
        { type: "tool-weather", toolCallId: "c3", state: "input-available", input: {} },
      ],
    };
    const request = parseChatRequest(JSON.stringify({ id: "c", messages: [user("q"), assistant] }));
    expect(request.toolResults).toEqual([
      { toolCallId: "c1", output: { t: 21 } },
      { toolCallId: "c2", errorText: "failed" },
    ]);
  });
});

const BAD_ID = 'The chat "id" must be 1 to 64 characters of A-Z, a-z, 0-9, "_" and "-".';
const asked = (messages: unknown) => JSON.stringify({ id: "c", messages });

describe("parseChatRequest refuses", () => {
  it.each<[string, string, string, string]>([
    ["a JSON array", "[]", "invalid_request", "The body must be a JSON object."],
    [
      "a body over 1 MiB",
      body({ pad: "x".repeat(1024 * 1024) }),
      "frame_too_large",
      "Bodies are limited to 1048576 characters.",
    ],
    ["no chat id", JSON.stringify({ messages: [user("hi")] }), "invalid_request", BAD_ID],
    ["a chat id with spaces", body({ id: "a b" }), "invalid_request", BAD_ID],
    ["a chat id of 65 characters", body({ id: "x".repeat(65) }), "invalid_request", BAD_ID],
    ["a numeric chat id", body({ id: 7 }), "invalid_request", BAD_ID],
    [
      "no messages",
      JSON.stringify({ id: "c" }),
      "invalid_request",
      '"messages" must be a non-empty array of UI messages.',
    ],
    [
      "an empty messages array",
      asked([]),
      "invalid_request",
      '"messages" must be a non-empty array of UI messages.',
    ],
    [
      "a message that is not an object",
      asked(["hi"]),
      "invalid_request",
      '"messages[0]" must be a UI message with "role" and "parts".',
    ],
    [
      "a message without parts",
      asked([{ role: "user", content: "hi" }]),
      "invalid_request",
      '"messages[0].parts" must be an array of parts.',
    ],
    [
      "an unknown role",
      asked([{ role: "tool", parts: [] }]),
      "invalid_request",
      '"messages[0].role" must be "system", "user" or "assistant".',
    ],
    [
      "no user message",
      asked([{ role: "assistant", parts: [] }]),
      "invalid_request",
      '"messages" must contain a user message.',
    ],
    ["a blank prompt", asked([user("  ")]), "prompt_empty", '"messages[0].parts" is empty.'],
    [
      "a prompt with no text part",
      asked([{ role: "user", parts: [{ type: "file" }] }]),
      "prompt_empty",
      '"messages[0].parts" is empty.',
    ],
    [
      "an unknown trigger",
      body({ trigger: "resume" }),
      "invalid_request",
      '"trigger" must be one of submit-message, regenerate-message.',
    ],
    [
      "a numeric messageId",
      body({ messageId: 5 }),
      "invalid_request",
      '"messageId" must be a string.',
    ],
    [
      "bad tools",
      body({ tools: [{ name: "a b", inputSchema: { type: "object" } }] }),
      "invalid_tools",
      '"tools[0].name" must match /^[A-Za-z0-9_-]{1,64}$/.',
    ],
    [
      "a bad option",
      body({ options: { temperature: 3 } }),
      "invalid_option",
      '"options.temperature" must be a number from 0 to 2.',
    ],
    [
      "a model not allowed",
      body({ options: { model: "x" } }),
      "model_not_allowed",
      '"options.model" "x" is not allowed; allowed: model-a.',
    ],
    [
      "an assistant message last with no output",
      asked([user("q"), { role: "assistant", parts: [{ type: "text", text: "a" }] }]),
      "invalid_request",
      "\"messages[1]\" is an assistant message with no tool output to send; the last message must be the user's, or the assistant's after addToolOutput.",
    ],
    [
      "a tool output without a call id",
      asked([
        user("q"),
        { role: "assistant", parts: [{ type: "tool-x", state: "output-available", output: 1 }] },
      ]),
      "invalid_request",
      '"messages[1].parts[0].toolCallId" must be a non-empty string.',
    ],
  ])("%s", (_name, text, code, message) => {
    expect(refusal(() => parseChatRequest(text, policy))).toEqual({ code, message });
  });
});

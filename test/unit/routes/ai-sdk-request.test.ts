// parseChatRequest (POST /api/chat) and parseWsChatFrame (/api/chat/ws), fed good and bad input.
import { describe, expect, it } from "vitest";
import { parseChatRequest } from "../../../src/routes/ai-sdk-request.ts";
import { parseWsChatFrame } from "../../../src/routes/ai-sdk-ws-frames.ts";
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

const send = (extra: object = {}) => ({
  type: "send",
  requestId: "r1",
  id: "chat-1",
  trigger: "submit-message",
  messages: [user("hi")],
  headers: {},
  body: {},
  ...extra,
});
const resume = (extra: object = {}) => ({
  type: "resume",
  requestId: "r1",
  id: "chat-1",
  headers: {},
  body: {},
  ...extra,
});

describe("parseWsChatFrame", () => {
  it.each<[string, object, object]>([
    ["an abort", { type: "abort", requestId: "r9" }, { type: "abort", requestId: "r9" }],
    [
      "a resume from the start",
      resume({ headers: { Authorization: "Bearer t" } }),
      {
        type: "resume",
        requestId: "r1",
        chatId: "chat-1",
        authorization: "Bearer t",
        from: undefined,
        messageId: undefined,
      },
    ],
    [
      "a resume after a chunk",
      resume({ lastSequence: 4 }),
      { type: "resume", from: { after: 4, renumber: false } },
    ],
    [
      "a resume after a body chunk",
      resume({ body: { lastSequence: 2, messageId: "m" } }),
      { type: "resume", from: { after: 2, renumber: true }, messageId: "m" },
    ],
    [
      "a send, tools and options from its body",
      send({ body: { tools: [weather], options: { seed: 2 } } }),
      {
        type: "send",
        requestId: "r1",
        authorization: undefined,
        chat: { chatId: "chat-1", prompt: "hi", tools: [weather], options: { seed: 2 } },
      },
    ],
  ])("reads %s", (_name, frame, request) => {
    expect(parseWsChatFrame(JSON.stringify(frame), policy)).toMatchObject({ ok: true, request });
  });

  const REQUEST_ID = '"requestId" must be a string of 1 to 128 characters.';
  it.each<[string, string | ArrayBuffer, string, string, string]>([
    [
      "a binary frame",
      new ArrayBuffer(1),
      "",
      "invalid_request",
      "Binary frames are not supported; send JSON text.",
    ],
    ["a JSON array", "[]", "", "invalid_request", "The frame must be a JSON object."],
    [
      "a frame over 1 MiB",
      JSON.stringify(send({ pad: "x".repeat(1024 * 1024) })),
      "",
      "frame_too_large",
      "Frames are limited to 1048576 characters.",
    ],
    ["no requestId", JSON.stringify({ type: "abort" }), "", "invalid_request", REQUEST_ID],
    [
      "an empty requestId",
      JSON.stringify(resume({ requestId: "" })),
      "",
      "invalid_request",
      REQUEST_ID,
    ],
    [
      "a requestId of 129 characters",
      JSON.stringify(resume({ requestId: "r".repeat(129) })),
      "",
      "invalid_request",
      REQUEST_ID,
    ],
    [
      "an unknown type",
      JSON.stringify({ type: "subscribe", requestId: "r" }),
      "r",
      "invalid_request",
      '"type" must be "send", "resume" or "abort".',
    ],
    [
      "no type",
      JSON.stringify({ requestId: "r" }),
      "r",
      "invalid_request",
      '"type" must be "send", "resume" or "abort".',
    ],
    [
      "headers with a number",
      JSON.stringify(send({ headers: { "x-n": 1 } })),
      "r1",
      "invalid_request",
      '"headers" must be an object of strings.',
    ],
    [
      "headers as an array",
      JSON.stringify(send({ headers: ["a"] })),
      "r1",
      "invalid_request",
      '"headers" must be an object of strings.',
    ],
    [
      "no body",
      JSON.stringify(resume({ body: undefined })),
      "r1",
      "invalid_request",
      '"body" must be an object.',
    ],
    [
      "a chat id with a space",
      JSON.stringify(resume({ id: "a b" })),
      "r1",
      "invalid_request",
      BAD_ID,
    ],
    [
      "a negative lastSequence",
      JSON.stringify(resume({ lastSequence: -1 })),
      "r1",
      "invalid_request",
      '"lastSequence" must be a whole number of 0 or more.',
    ],
    [
      "a fractional body.lastSequence",
      JSON.stringify(resume({ body: { lastSequence: 1.5 } })),
      "r1",
      "invalid_request",
      '"body.lastSequence" must be a whole number of 0 or more.',
    ],
    [
      "a numeric body.messageId",
      JSON.stringify(resume({ body: { messageId: 5 } })),
      "r1",
      "invalid_request",
      '"body.messageId" must be a string.',
    ],
    [
      "bad body.tools",
      JSON.stringify(send({ body: { tools: {} } })),
      "r1",
      "invalid_tools",
      '"body.tools" must be an array of tool definitions.',
    ],
    [
      "bad body.options",
      JSON.stringify(send({ body: { options: { nope: 1 } } })),
      "r1",
      "invalid_option",
      '"body.options.nope" is not an option; expected model, temperature, top_p, max_tokens, stop, seed, reasoning_effort, thinking_budget or tool_choice.',
    ],
    [
      "a blank prompt",
      JSON.stringify(send({ messages: [user(" ")] })),
      "r1",
      "prompt_empty",
      '"messages[0].parts" is empty.',
    ],
  ])("refuses %s", (_name, raw, requestId, code, message) => {
    const parsed = parseWsChatFrame(raw, policy);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.requestId).toBe(requestId);
    expect({ code: parsed.error.code, message: parsed.error.message }).toEqual({ code, message });
  });

  it("refuses text that is not JSON with the parser's reason", () => {
    const parsed = parseWsChatFrame("{nope");
    expect(parsed).toMatchObject({ ok: false, requestId: "", error: { code: "invalid_json" } });
    if (!parsed.ok) expect(parsed.error.message).toMatch(/^The frame is not valid JSON: ./);
  });
});

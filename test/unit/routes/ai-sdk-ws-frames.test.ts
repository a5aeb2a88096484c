// parseWsChatFrame (/api/chat/ws): every frame of the WebSocket chat transport, good and bad.
import { describe, expect, it } from "vitest";
import { parseWsChatFrame } from "../../../src/routes/ai-sdk-ws-frames.ts";

const user = (text: string) => ({ id: "u1", role: "user", parts: [{ type: "text", text }] });
const weather = { name: "weather", inputSchema: { type: "object" } };
const policy = { models: ["model-a"] };
const BAD_ID = 'The chat "id" must be 1 to 64 characters of A-Z, a-z, 0-9, "_" and "-".';

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

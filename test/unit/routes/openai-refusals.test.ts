// parseCompletionRequest (POST /v1/chat/completions): every malformed body we can think of.
import { describe, expect, it } from "vitest";
import { parseCompletionRequest } from "../../../src/routes/openai-request.ts";
import { refusal } from "../schema/refusal.ts";

const policy = { models: ["gpt-a"], choosable: true };
const hi = [{ role: "user", content: "hi" }];
const post = (body: object) => JSON.stringify({ model: "gpt-a", messages: hi, ...body });
const call = {
  id: "call_1",
  type: "function",
  function: { name: "weather", arguments: '{"city":"Oslo"}' },
};
const fn = { type: "function", function: { name: "weather", parameters: { type: "object" } } };

const asked = (messages: unknown) => JSON.stringify({ messages });

describe("parseCompletionRequest refuses", () => {
  it.each<[string, string, string, string]>([
    ["a JSON array", "[]", "invalid_request", "The body must be a JSON object."],
    [
      "a body over 1 MiB",
      post({ pad: "x".repeat(1024 * 1024) }),
      "frame_too_large",
      "Bodies are limited to 1048576 characters.",
    ],
    ["no messages", "{}", "invalid_request", '"messages" must be a non-empty array.'],
    [
      "an empty messages array",
      asked([]),
      "invalid_request",
      '"messages" must be a non-empty array.',
    ],
    [
      "messages as a string",
      asked("hi"),
      "invalid_request",
      '"messages" must be a non-empty array.',
    ],
    [
      "1,001 messages",
      asked(Array.from({ length: 1001 }, () => hi[0])),
      "invalid_request",
      '"messages" holds 1001 messages; the limit is 1000.',
    ],
    [
      "a message that is not an object",
      asked(["hi"]),
      "invalid_request",
      '"messages[0]" must be an object with "role" and "content".',
    ],
    [
      "an unknown role",
      asked([{ role: "robot", content: "x" }]),
      "invalid_request",
      '"messages[0].role" must be "system", "developer", "user", "assistant" or "tool".',
    ],
    [
      "no role",
      asked([{ content: "x" }]),
      "invalid_request",
      '"messages[0].role" must be "system", "developer", "user", "assistant" or "tool".',
    ],
    [
      "no content",
      asked([{ role: "user" }]),
      "invalid_request",
      '"messages[0].content" is missing.',
    ],
    [
      "numeric content",
      asked([{ role: "user", content: 5 }]),
      "invalid_request",
      '"messages[0].content" must be a string or an array of text parts.',
    ],
    [
      "an image part",
      asked([{ role: "user", content: [{ type: "image_url" }] }]),
      "invalid_request",
      '"messages[0].content[0].type" must be a text part ({"type":"text","text":"..."}).',
    ],
    [
      "no user message",
      asked([{ role: "system", content: "x" }]),
      "invalid_request",
      '"messages" must contain a user message.',
    ],
    [
      "a blank prompt",
      asked([{ role: "user", content: " " }]),
      "prompt_empty",
      '"messages[0].content" is empty.',
    ],
    [
      "an assistant without content or calls",
      asked([...hi, { role: "assistant", content: null }]),
      "invalid_request",
      '"messages[1].content" must be a string or an array of text parts.',
    ],
    [
      "a tool call without an id",
      asked([...hi, { role: "assistant", tool_calls: [{ ...call, id: "" }] }]),
      "invalid_request",
      '"messages[1].tool_calls[0].id" must be a string.',
    ],
    [
      "a tool call of another type",
      asked([...hi, { role: "assistant", tool_calls: [{ ...call, type: "web" }] }]),
      "invalid_request",
      '"messages[1].tool_calls[0].type" must be {"id", "type": "function", "function": {"name", "arguments"}}.',
    ],
    [
      "a tool call without a name",
      asked([...hi, { role: "assistant", tool_calls: [{ id: "c", function: {} }] }]),
      "invalid_request",
      '"messages[1].tool_calls[0].function.name" must be a string.',
    ],
    [
      "object arguments",
      asked([
        ...hi,
        { role: "assistant", tool_calls: [{ id: "c", function: { name: "w", arguments: {} } }] },
      ]),
      "invalid_request",
      '"messages[1].tool_calls[0].function.arguments" must be JSON text.',
    ],
    [
      "a tool message for no call",
      asked([...hi, { role: "tool", tool_call_id: "ghost", content: "x" }]),
      "invalid_request",
      '"messages[1].tool_call_id" must name a tool call of an earlier assistant message.',
    ],
    [
      "stream as a string",
      post({ stream: "yes" }),
      "invalid_request",
      '"stream" must be a boolean.',
    ],
    [
      "include_usage as a string",
      post({ stream_options: { include_usage: "yes" } }),
      "invalid_request",
      '"stream_options.include_usage" must be a boolean.',
    ],
    [
      "stream_options as an array",
      post({ stream_options: [] }),
      "invalid_request",
      '"stream_options" must be an object.',
    ],
    ["a numeric model", post({ model: 5 }), "invalid_request", '"model" must be a string.'],
    [
      "n above 1",
      post({ n: 2 }),
      "invalid_request",
      '"n" must be 1: the relay streams one answer per request.',
    ],
    [
      "a numeric session",
      post({ sluice_session: 5 }),
      "invalid_request",
      '"sluice_session" must be a session id.',
    ],
    [
      "tools as an object",
      post({ tools: {} }),
      "invalid_tools",
      '"tools" must be an array of function tools.',
    ],
    [
      "a tool without a function",
      post({ tools: [{ type: "function" }] }),
      "invalid_tools",
      '"tools[0].function" must be {"name", "parameters"}.',
    ],
    [
      "a tool of another type",
      post({ tools: [{ ...fn, type: "code" }] }),
      "invalid_tools",
      '"tools[0].type" must be {"type": "function", "function": {"name", "parameters"}}.',
    ],
    [
      "a tool with a bad name",
      post({ tools: [{ type: "function", function: { name: "a b" } }] }),
      "invalid_tools",
      '"tools[0].function.name" must match /^[A-Za-z0-9_-]{1,64}$/.',
    ],
    [
      "two tools of one name",
      post({ tools: [fn, fn] }),
      "invalid_tools",
      '"tools[1].function.name" repeats the tool name "weather".',
    ],
    [
      "parameters of another type",
      post({
        tools: [{ type: "function", function: { name: "w", parameters: { type: "array" } } }],
      }),
      "invalid_tools",
      '"tools[0].function.parameters.type" must be "object".',
    ],
    [
      "both token limits",
      post({ max_tokens: 5, max_completion_tokens: 5 }),
      "invalid_option",
      'Send one of "max_tokens" and "max_completion_tokens", not both.',
    ],
    [
      "a temperature over 2",
      post({ temperature: 3 }),
      "invalid_option",
      '"temperature" must be a number from 0 to 2.',
    ],
    [
      "a minimal effort",
      post({ reasoning_effort: "minimal" }),
      "invalid_option",
      '"reasoning_effort" must be "low", "medium" or "high".',
    ],
    [
      "a model not allowed",
      post({ model: "gpt-z" }),
      "model_not_allowed",
      '"model" "gpt-z" is not allowed; allowed: gpt-a.',
    ],
    [
      "an unknown response format",
      post({ response_format: { type: "yaml" } }),
      "invalid_option",
      '"response_format.type" must be "text", "json_object" or "json_schema".',
    ],
    [
      "parallel_tool_calls as a string",
      post({ parallel_tool_calls: "yes" }),
      "invalid_option",
      '"parallel_tool_calls" must be a boolean.',
    ],
  ])("%s", (_name, text, code, message) => {
    expect(refusal(() => parseCompletionRequest(text, policy))).toEqual({ code, message });
  });
});

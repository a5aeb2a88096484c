// The Chat Completions chunk encoder: answer events in, the exact SSE chunks out.
import { describe, expect, it } from "vitest";
import type { AnswerEvent } from "../../../src/streams/answer-events.ts";
import { openaiChunks, openaiFinishReason } from "../../../src/streams/openai-wire.ts";

const META = { created: 1_700_000_000, model: "m" };
const START: AnswerEvent = { type: "start", messageId: "msg_1" };

/** The messages `events` make: each `data:` line parsed, `[DONE]` kept as the string. */
function messagesOf(events: AnswerEvent[], includeUsage = false): unknown[] {
  const encode = openaiChunks(META, includeUsage);
  const text = events.map(encode).join("");
  return text
    .split("\n\n")
    .filter((frame) => frame !== "")
    .map((frame) => {
      expect(frame.startsWith("data: ")).toBe(true);
      const data = frame.slice(6);
      return data === "[DONE]" ? data : JSON.parse(data);
    });
}

/** A chunk with `delta` and `finish`, as every one of this answer looks. */
const chunk = (delta: object, finish: string | null = null, usage?: null) => ({
  id: "msg_1",
  created: META.created,
  model: "m",
  object: "chat.completion.chunk",
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  ...(usage === null ? { usage: null } : {}),
});
const ROLE = chunk({ role: "assistant", content: "" });

describe("openaiFinishReason", () => {
  it.each<[string | undefined, string]>([
    [undefined, "stop"],
    ["stop", "stop"],
    ["end_turn", "stop"],
    ["max_tokens", "length"],
    ["length", "length"],
    ["refusal", "content_filter"],
    ["content_filter", "content_filter"],
    ["tool_use", "tool_calls"],
    ["function_call", "tool_calls"],
    ["pause_turn", "stop"],
    ["__proto__", "stop"],
  ])("reads %j as %s", (finish, reason) => {
    expect(openaiFinishReason(finish)).toBe(reason);
  });
});

describe("openaiChunks", () => {
  it.each<[string, AnswerEvent[], unknown[]]>([
    [
      "text, unicode and an empty piece",
      [
        START,
        { type: "text", text: "Hé 🌍" },
        { type: "text", text: "" },
        { type: "end", status: "complete", finish: "stop" },
      ],
      [ROLE, chunk({ content: "Hé 🌍" }), chunk({ content: "" }), chunk({}, "stop"), "[DONE]"],
    ],
    [
      "reasoning as reasoning_content; its start and end send nothing",
      [
        START,
        { type: "reasoning-start", id: "r" },
        { type: "reasoning-delta", id: "r", text: "hmm" },
        { type: "reasoning-end", id: "r" },
        { type: "end", status: "complete", finish: "end_turn" },
      ],
      [ROLE, chunk({ reasoning_content: "hmm" }), chunk({}, "stop"), "[DONE]"],
    ],
    [
      "tool calls: the first delta has id, name and empty arguments; later ones index and text",
      [
        START,
        { type: "tool-call-start", toolCallId: "c1", toolName: "f" },
        { type: "tool-call-delta", toolCallId: "c1", inputDelta: '{"a":1}' },
        { type: "tool-call", toolCallId: "c1", toolName: "f", input: { a: 1 } },
        { type: "tool-call-start", toolCallId: "c2", toolName: "g" },
        { type: "tool-call-delta", toolCallId: "c2", inputDelta: "" },
        { type: "tool-call", toolCallId: "c2", toolName: "g", input: {} },
        { type: "end", status: "complete", finish: "tool_use" },
      ],
      [
        ROLE,
        chunk({
          tool_calls: [
            { index: 0, id: "c1", type: "function", function: { name: "f", arguments: "" } },
          ],
        }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }] }),
        chunk({
          tool_calls: [
            { index: 1, id: "c2", type: "function", function: { name: "g", arguments: "" } },
          ],
        }),
        chunk({ tool_calls: [{ index: 1, function: { arguments: "{}" } }] }),
        chunk({}, "tool_calls"),
        "[DONE]",
      ],
    ],
    [
      "a call that came whole is one delta with its arguments",
      [
        START,
        { type: "tool-call", toolCallId: "c9", toolName: "h", input: { x: "é" } },
        { type: "end", status: "complete", finish: "tool_calls" },
      ],
      [
        ROLE,
        chunk({
          tool_calls: [
            {
              index: 0,
              id: "c9",
              type: "function",
              function: { name: "h", arguments: '{"x":"é"}' },
            },
          ],
        }),
        chunk({}, "tool_calls"),
        "[DONE]",
      ],
    ],
    [
      "a delta for a call that never started is dropped",
      [
        START,
        { type: "tool-call-delta", toolCallId: "ghost", inputDelta: "{}" },
        { type: "end", status: "complete" },
      ],
      [ROLE, chunk({}, "stop"), "[DONE]"],
    ],
    [
      "an error mid-answer is one error message and the end of the stream",
      [
        START,
        { type: "text", text: "par" },
        { type: "error", code: "upstream_dropped", message: "gone" },
        { type: "text", text: "more" },
        { type: "end", status: "error" },
      ],
      [
        ROLE,
        chunk({ content: "par" }),
        {
          error: { message: "gone", type: "upstream_error", param: null, code: "upstream_dropped" },
        },
      ],
    ],
  ])("%s", (_name, events, messages) => {
    expect(messagesOf(events)).toEqual(messages);
  });

  it.each<[string, AnswerEvent, unknown[]]>([
    [
      "with usage known: a usage chunk with no choices",
      { type: "end", status: "complete", usage: { inputTokens: 3, outputTokens: 4 } },
      [
        chunk({}, "stop", null),
        {
          id: "msg_1",
          created: META.created,
          model: "m",
          object: "chat.completion.chunk",
          choices: [],
          usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
        },
        "[DONE]",
      ],
    ],
    [
      "done without usage: no usage chunk",
      { type: "end", status: "complete" },
      [chunk({}, "stop", null), "[DONE]"],
    ],
  ])("include_usage, %s", (_name, end, tail) => {
    expect(messagesOf([START, end], true)).toEqual([
      chunk({ role: "assistant", content: "" }, null, null),
      ...tail,
    ]);
  });
});

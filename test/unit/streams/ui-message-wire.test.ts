// The AI SDK UI message stream encoder: answer events in, exact chunks and SSE text out.
import { describe, expect, it } from "vitest";
import type { AnswerEvent } from "../../../src/streams/answer-events.ts";
import {
  type UIChunk,
  uiChunkEncoder,
  uiFinishReason,
  uiMessageChunks,
} from "../../../src/streams/ui-message-wire.ts";

/** Every chunk `events` make, each event's list flattened in order. */
function chunksOf(events: AnswerEvent[]): UIChunk[] {
  const encode = uiChunkEncoder();
  return events.flatMap((event) => encode(event));
}

const START: AnswerEvent = { type: "start", messageId: "msg_1" };
const END: AnswerEvent = { type: "end", status: "complete", finish: "stop" };
const OPEN: UIChunk[] = [{ type: "start", messageId: "msg_1" }, { type: "start-step" }];
const CLOSE: UIChunk[] = [{ type: "finish-step" }, { type: "finish", finishReason: "stop" }];

describe("uiFinishReason", () => {
  it.each<[string | undefined, string]>([
    [undefined, "stop"],
    ["stop", "stop"],
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["length", "length"],
    ["max_tokens", "length"],
    ["model_length", "length"],
    ["content_filter", "content-filter"],
    ["refusal", "content-filter"],
    ["tool_calls", "tool-calls"],
    ["tool_use", "tool-calls"],
    ["function_call", "tool-calls"],
    ["pause_turn", "other"],
    ["", "other"],
    ["constructor", "other"],
  ])("reads %j as %s", (finish, reason) => {
    expect(uiFinishReason(finish)).toBe(reason);
  });
});

describe("uiChunkEncoder", () => {
  it.each<[string, AnswerEvent[], UIChunk[]]>([
    ["an empty answer", [START, END], [...OPEN, ...CLOSE]],
    [
      "text in pieces, one part",
      [START, { type: "text", text: "Hé" }, { type: "text", text: "llo 🌍" }, END],
      [
        ...OPEN,
        { type: "text-start", id: "text" },
        { type: "text-delta", id: "text", delta: "Hé" },
        { type: "text-delta", id: "text", delta: "llo 🌍" },
        { type: "text-end", id: "text" },
        ...CLOSE,
      ],
    ],
    [
      "an empty text piece still opens the part",
      [START, { type: "text", text: "" }, END],
      [
        ...OPEN,
        { type: "text-start", id: "text" },
        { type: "text-delta", id: "text", delta: "" },
        { type: "text-end", id: "text" },
        ...CLOSE,
      ],
    ],
    [
      "text before events without a start opens the message itself",
      [{ type: "text", text: "x" }, END],
      [
        { type: "start" },
        { type: "start-step" },
        { type: "text-start", id: "text" },
        { type: "text-delta", id: "text", delta: "x" },
        { type: "text-end", id: "text" },
        ...CLOSE,
      ],
    ],
    [
      "reasoning closes the text; the next text is a new part",
      [
        START,
        { type: "text", text: "a" },
        { type: "reasoning-start", id: "r0" },
        { type: "reasoning-delta", id: "r0", text: "think" },
        { type: "reasoning-end", id: "r0", signature: "sig" },
        { type: "text", text: "b" },
        END,
      ],
      [
        ...OPEN,
        { type: "text-start", id: "text" },
        { type: "text-delta", id: "text", delta: "a" },
        { type: "text-end", id: "text" },
        { type: "reasoning-start", id: "r0" },
        { type: "reasoning-delta", id: "r0", delta: "think" },
        { type: "reasoning-end", id: "r0", providerMetadata: { anthropic: { signature: "sig" } } },
        { type: "text-start", id: "text-1" },
        { type: "text-delta", id: "text-1", delta: "b" },
        { type: "text-end", id: "text-1" },
        ...CLOSE,
      ],
    ],
    [
      "redacted reasoning keeps its data",
      [
        START,
        { type: "reasoning-start", id: "r" },
        { type: "reasoning-end", id: "r", redactedData: "xyz" },
        END,
      ],
      [
        ...OPEN,
        { type: "reasoning-start", id: "r" },
        {
          type: "reasoning-end",
          id: "r",
          providerMetadata: { anthropic: { redactedData: "xyz" } },
        },
        ...CLOSE,
      ],
    ],
    [
      "a tool call, its result, then the tool-calls finish",
      [
        START,
        { type: "tool-call-start", toolCallId: "c1", toolName: "f" },
        { type: "tool-call-delta", toolCallId: "c1", inputDelta: '{"a":' },
        { type: "tool-call-delta", toolCallId: "c1", inputDelta: "1}" },
        { type: "tool-call", toolCallId: "c1", toolName: "f", input: { a: 1 } },
        { type: "tool-result", toolCallId: "c1", output: { ok: true } },
        { type: "end", status: "complete", finish: "tool_calls" },
      ],
      [
        ...OPEN,
        { type: "tool-input-start", toolCallId: "c1", toolName: "f" },
        { type: "tool-input-delta", toolCallId: "c1", inputTextDelta: '{"a":' },
        { type: "tool-input-delta", toolCallId: "c1", inputTextDelta: "1}" },
        { type: "tool-input-available", toolCallId: "c1", toolName: "f", input: { a: 1 } },
        { type: "tool-output-available", toolCallId: "c1", output: { ok: true } },
        { type: "finish-step" },
        { type: "finish", finishReason: "tool-calls" },
      ],
    ],
    [
      "a call with bad arguments, a failed tool, and a result for a call not shown",
      [
        START,
        {
          type: "tool-call-error",
          toolCallId: "c2",
          toolName: "g",
          inputText: "{oops",
          message: "not JSON",
        },
        { type: "tool-result", toolCallId: "c2", errorText: "failed" },
        { type: "tool-result", toolCallId: "elsewhere", output: 1 },
        END,
      ],
      [
        ...OPEN,
        {
          type: "tool-input-error",
          toolCallId: "c2",
          toolName: "g",
          input: "{oops",
          errorText: "not JSON",
        },
        { type: "tool-output-error", toolCallId: "c2", errorText: "failed" },
        ...CLOSE,
      ],
    ],
    [
      "a step after parts closes the step; right after start it adds nothing",
      [
        START,
        { type: "step", step: 1 },
        { type: "text", text: "a" },
        { type: "step", step: 2 },
        END,
      ],
      [
        ...OPEN,
        { type: "text-start", id: "text" },
        { type: "text-delta", id: "text", delta: "a" },
        { type: "text-end", id: "text" },
        { type: "finish-step" },
        { type: "start-step" },
        ...CLOSE,
      ],
    ],
    [
      "an error mid-answer, then the end as an error",
      [
        START,
        { type: "text", text: "par" },
        { type: "error", code: "upstream_dropped", message: "gone" },
        { type: "end", status: "error" },
      ],
      [
        ...OPEN,
        { type: "text-start", id: "text" },
        { type: "text-delta", id: "text", delta: "par" },
        { type: "error", errorText: "gone" },
        { type: "text-end", id: "text" },
        { type: "finish-step" },
        { type: "finish", finishReason: "error" },
      ],
    ],
    [
      "an incomplete answer finishes as an error",
      [START, { type: "end", status: "incomplete", finish: "stop" }],
      [...OPEN, { type: "finish-step" }, { type: "finish", finishReason: "error" }],
    ],
    [
      "a cancelled answer aborts",
      [START, { type: "end", status: "cancelled" }],
      [...OPEN, { type: "finish-step" }, { type: "abort", reason: "cancelled" }],
    ],
    [
      "the end without usage or finish is a stop",
      [START, { type: "end", status: "complete" }],
      [...OPEN, ...CLOSE],
    ],
  ])("%s", (_name, events, chunks) => {
    expect(chunksOf(events)).toEqual(chunks);
  });

  it("gives the same chunks for the same events every time", () => {
    const events: AnswerEvent[] = [START, { type: "text", text: "a" }, END];
    expect(chunksOf(events)).toEqual(chunksOf(events));
  });
});

describe("uiMessageChunks", () => {
  it.each<[string, AnswerEvent, string]>([
    [
      "start",
      START,
      'data: {"type":"start","messageId":"msg_1"}\n\ndata: {"type":"start-step"}\n\n',
    ],
    [
      "a reasoning start after it",
      { type: "reasoning-start", id: "r" },
      'data: {"type":"reasoning-start","id":"r"}\n\n',
    ],
    [
      "text with line breaks stays on one data line",
      { type: "text", text: "a\n\nb\r\nc" },
      'data: {"type":"text-start","id":"text"}\n\ndata: {"type":"text-delta","id":"text","delta":"a\\n\\nb\\r\\nc"}\n\n',
    ],
    [
      "the end, then [DONE]",
      { type: "end", status: "complete", finish: "length" },
      'data: {"type":"text-end","id":"text"}\n\ndata: {"type":"finish-step"}\n\ndata: {"type":"finish","finishReason":"length"}\n\ndata: [DONE]\n\n',
    ],
  ])(
    "writes %s",
    (() => {
      const encode = uiMessageChunks();
      return (_name: string, event: AnswerEvent, text: string) => {
        expect(encode(event)).toBe(text);
      };
    })(),
  );
});

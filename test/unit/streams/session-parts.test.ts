// The parts of a session's answer on the `frames` wire (reasoning, tool calls, results, steps):
// each field checked into a frame, then into answer events, then into each route's chunks.
import { describe, expect, it } from "vitest";
import type { ServerEvent } from "../../../src/protocol.ts";
import { encodeFrame } from "../../../src/session/sse-listener.ts";
import type { AnswerEvent } from "../../../src/streams/answer-events.ts";
import { answerEvents } from "../../../src/streams/answer-source.ts";
import { openaiChunks } from "../../../src/streams/openai-wire.ts";
import { FrameReader, sessionAnswer } from "../../../src/streams/session-answer.ts";
import { parseSessionFrame } from "../../../src/streams/session-frame.ts";
import { type UIChunk, uiChunkEncoder } from "../../../src/streams/ui-message-wire.ts";
import { rechunkInsideCharacters } from "../../helpers/rechunk.ts";

const M = "msg_1";
const base = `"seq":3,"messageId":"${M}"`;

const STEP0: ServerEvent[] = [
  { type: "start", seq: 1, messageId: M, userMessageId: "msg_u", prompt: "weather?" },
  { type: "reasoning-start", seq: 2, messageId: M, partId: "s0-reasoning-0" },
  { type: "reasoning-delta", seq: 3, messageId: M, partId: "s0-reasoning-0", content: "Think 🤔" },
  { type: "reasoning-end", seq: 4, messageId: M, partId: "s0-reasoning-0", signature: "sig" },
  { type: "chunk", seq: 5, messageId: M, content: "Let me look." },
  { type: "tool-call-start", seq: 6, messageId: M, toolCallId: "call_1", toolName: "weather" },
  { type: "tool-call-delta", seq: 7, messageId: M, toolCallId: "call_1", inputDelta: '{"city":' },
  { type: "tool-call-delta", seq: 8, messageId: M, toolCallId: "call_1", inputDelta: '"Paris"}' },
  {
    type: "tool-call",
    seq: 9,
    messageId: M,
    toolCallId: "call_1",
    toolName: "weather",
    input: { city: "Paris" },
  },
  { type: "done", seq: 10, messageId: M, status: "complete", finish: "tool_calls" },
];

const STEP1: ServerEvent[] = [
  { type: "tool-result", seq: 11, messageId: M, toolCallId: "call_1", output: { temp: 21 } },
  { type: "step", seq: 12, messageId: M, step: 1 },
  { type: "chunk", seq: 13, messageId: M, content: "It is 21 °C." },
  {
    type: "done",
    seq: 14,
    messageId: M,
    status: "complete",
    finish: "stop",
    usage: { inputTokens: 9, outputTokens: 4, reasoningTokens: 2 },
  },
];

const bytes = (events: ServerEvent[]) =>
  new TextEncoder().encode(events.map((event) => encodeFrame(event)).join(""));

async function answerOf(body: ReadableStream<Uint8Array>): Promise<AnswerEvent[]> {
  const events: AnswerEvent[] = [];
  for await (const event of answerEvents(sessionAnswer(new FrameReader(body)))) {
    events.push(event);
  }
  return events;
}

describe("parseSessionFrame: parts", () => {
  it("reads every part frame field for field", () => {
    for (const frame of [...STEP0, ...STEP1]) {
      expect(parseSessionFrame(JSON.stringify(frame))).toEqual(frame);
    }
    const failed = `{"type":"tool-result",${base},"toolCallId":"c","errorText":"boom"}`;
    expect(parseSessionFrame(failed)).toEqual({
      type: "tool-result",
      seq: 3,
      messageId: M,
      toolCallId: "c",
      errorText: "boom",
    });
    const redacted = `{"type":"reasoning-end",${base},"partId":"p","redactedData":"opaque"}`;
    expect(parseSessionFrame(redacted)).toMatchObject({ redactedData: "opaque" });
    const invalid = `{"type":"tool-call-error",${base},"toolCallId":"c","toolName":"t","inputText":"{","message":"bad"}`;
    expect(parseSessionFrame(invalid)).toMatchObject({ inputText: "{", message: "bad" });
  });

  it.each([
    ["a reasoning-start without partId", `{"type":"reasoning-start",${base}}`],
    ["a reasoning-start with an empty partId", `{"type":"reasoning-start",${base},"partId":""}`],
    ["a reasoning-delta without content", `{"type":"reasoning-delta",${base},"partId":"p"}`],
    [
      "a reasoning-delta with numeric content",
      `{"type":"reasoning-delta",${base},"partId":"p","content":1}`,
    ],
    [
      "a reasoning-end with a numeric signature",
      `{"type":"reasoning-end",${base},"partId":"p","signature":1}`,
    ],
    [
      "a reasoning-end with an object redactedData",
      `{"type":"reasoning-end",${base},"partId":"p","redactedData":{}}`,
    ],
    ["a reasoning frame without seq", `{"type":"reasoning-start","messageId":"${M}","partId":"p"}`],
    ["a tool-call-start without toolName", `{"type":"tool-call-start",${base},"toolCallId":"c"}`],
    ["a tool-call-start without toolCallId", `{"type":"tool-call-start",${base},"toolName":"t"}`],
    ["a tool-call-delta without inputDelta", `{"type":"tool-call-delta",${base},"toolCallId":"c"}`],
    [
      "a tool-call whose input is an array",
      `{"type":"tool-call",${base},"toolCallId":"c","toolName":"t","input":[1]}`,
    ],
    [
      "a tool-call whose input is text",
      `{"type":"tool-call",${base},"toolCallId":"c","toolName":"t","input":"{}"}`,
    ],
    ["a tool-call without input", `{"type":"tool-call",${base},"toolCallId":"c","toolName":"t"}`],
    [
      "a tool-call-error without message",
      `{"type":"tool-call-error",${base},"toolCallId":"c","toolName":"t","inputText":"{"}`,
    ],
    [
      "a tool-result with neither output nor errorText",
      `{"type":"tool-result",${base},"toolCallId":"c"}`,
    ],
    [
      "a tool-result with both",
      `{"type":"tool-result",${base},"toolCallId":"c","output":1,"errorText":"x"}`,
    ],
    [
      "a tool-result with a numeric errorText",
      `{"type":"tool-result",${base},"toolCallId":"c","errorText":2}`,
    ],
    ["a tool-result without toolCallId", `{"type":"tool-result",${base},"output":1}`],
    ["a step 0 (the first call has start)", `{"type":"step",${base},"step":0}`],
    ["a step without a number", `{"type":"step",${base}}`],
    ["a step without messageId", '{"type":"step","seq":3,"step":1}'],
  ])("skips %s", (_name, line) => {
    expect(parseSessionFrame(line)).toBeUndefined();
  });

  it("keeps usage's reasoning tokens and drops a malformed usage", () => {
    const done = (usage: string) =>
      parseSessionFrame(`{"type":"done",${base},"status":"complete","usage":${usage}}`);
    expect(done('{"inputTokens":1,"outputTokens":2,"reasoningTokens":1}')).toMatchObject({
      usage: { inputTokens: 1, outputTokens: 2, reasoningTokens: 1 },
    });
    expect(done('{"inputTokens":1}')).toMatchObject({ usage: undefined });
  });
});

const STEP0_EVENTS: AnswerEvent[] = [
  { type: "start", messageId: M },
  { type: "reasoning-start", id: "s0-reasoning-0" },
  { type: "reasoning-delta", id: "s0-reasoning-0", text: "Think 🤔" },
  { type: "reasoning-end", id: "s0-reasoning-0", signature: "sig" },
  { type: "text", text: "Let me look." },
  { type: "tool-call-start", toolCallId: "call_1", toolName: "weather" },
  { type: "tool-call-delta", toolCallId: "call_1", inputDelta: '{"city":' },
  { type: "tool-call-delta", toolCallId: "call_1", inputDelta: '"Paris"}' },
  { type: "tool-call", toolCallId: "call_1", toolName: "weather", input: { city: "Paris" } },
  { type: "end", status: "complete", finish: "tool_calls", usage: undefined },
];

describe("sessionAnswer: parts and steps", () => {
  it("gives a step's parts in order and stops at its done {finish: tool_calls} (20 splits)", async () => {
    for (let seed = 1; seed <= 20; seed += 1) {
      const events = await answerOf(rechunkInsideCharacters(bytes([...STEP0, ...STEP1]), seed));
      expect(events).toEqual(STEP0_EVENTS);
    }
  });

  it("reads a continuation stream, which begins with step, as start then step", async () => {
    const events = await answerOf(new Response(bytes(STEP1.slice(1))).body ?? new ReadableStream());
    expect(events).toEqual([
      { type: "start", messageId: M },
      { type: "step", step: 1 },
      { type: "text", text: "It is 21 °C." },
      {
        type: "end",
        status: "complete",
        finish: "stop",
        usage: { inputTokens: 9, outputTokens: 4, reasoningTokens: 2 },
      },
    ]);
  });

  it("ignores the parts of other messages", async () => {
    const other: ServerEvent = {
      type: "tool-call-start",
      seq: 6,
      messageId: "msg_other",
      toolCallId: "x",
      toolName: "y",
    };
    const frames = [...STEP0.slice(0, 5), other, ...STEP0.slice(5)];
    expect(await answerOf(new Response(bytes(frames)).body ?? new ReadableStream())).toEqual(
      STEP0_EVENTS,
    );
  });
});

describe("uiChunkEncoder: parts", () => {
  const chunksOf = (events: AnswerEvent[]): UIChunk[] => {
    const encode = uiChunkEncoder();
    return events.flatMap((event) => encode(event));
  };

  it("maps reasoning, text and a tool call one to one, in one step", () => {
    expect(chunksOf(STEP0_EVENTS)).toEqual([
      { type: "start", messageId: M },
      { type: "start-step" },
      { type: "reasoning-start", id: "s0-reasoning-0" },
      { type: "reasoning-delta", id: "s0-reasoning-0", delta: "Think 🤔" },
      {
        type: "reasoning-end",
        id: "s0-reasoning-0",
        providerMetadata: { anthropic: { signature: "sig" } },
      },
      { type: "text-start", id: "text" },
      { type: "text-delta", id: "text", delta: "Let me look." },
      { type: "text-end", id: "text" },
      { type: "tool-input-start", toolCallId: "call_1", toolName: "weather" },
      { type: "tool-input-delta", toolCallId: "call_1", inputTextDelta: '{"city":' },
      { type: "tool-input-delta", toolCallId: "call_1", inputTextDelta: '"Paris"}' },
      {
        type: "tool-input-available",
        toolCallId: "call_1",
        toolName: "weather",
        input: { city: "Paris" },
      },
      { type: "finish-step" },
      { type: "finish", finishReason: "tool-calls" },
    ]);
  });

  it("opens a new step at a step inside the stream, and none right after start", () => {
    const chunks = chunksOf([
      { type: "start", messageId: M },
      { type: "step", step: 1 },
      { type: "text", text: "a" },
      { type: "tool-call", toolCallId: "c", toolName: "t", input: {} },
      { type: "tool-result", toolCallId: "c", output: 1 },
      { type: "tool-result", toolCallId: "unseen", errorText: "not shown" },
      { type: "step", step: 2 },
      { type: "text", text: "b" },
      { type: "end", status: "complete" },
    ]);
    expect(chunks.map((chunk) => chunk.type)).toEqual([
      "start",
      "start-step",
      "text-start",
      "text-delta",
      "text-end",
      "tool-input-available",
      "tool-output-available",
      "finish-step",
      "start-step",
      "text-start",
      "text-delta",
      "text-end",
      "finish-step",
      "finish",
    ]);
    expect(chunks.filter((chunk) => chunk.type === "text-start")).toEqual([
      { type: "text-start", id: "text" },
      { type: "text-start", id: "text-1" },
    ]);
  });

  it("shows an invalid call as tool-input-error with the raw text", () => {
    const chunks = chunksOf([
      { type: "start", messageId: M },
      { type: "tool-call-error", toolCallId: "c", toolName: "t", inputText: "{", message: "bad" },
      { type: "end", status: "complete" },
    ]);
    expect(chunks[2]).toEqual({
      type: "tool-input-error",
      toolCallId: "c",
      toolName: "t",
      input: "{",
      errorText: "bad",
    });
  });
});

const dataLines = (text: string) =>
  text
    .split("\n\n")
    .filter((message) => message !== "" && message !== "data: [DONE]")
    .map((message) => JSON.parse(message.replace(/^data: /, "")));

describe("openaiChunks: tool calls", () => {
  const deltasOf = (events: AnswerEvent[]) => {
    const encode = openaiChunks({ created: 1, model: "m" }, true);
    return dataLines(events.map(encode).join(""));
  };

  it("puts id, type and name on each call's first delta, then argument text only", () => {
    const chunks = deltasOf([
      ...STEP0_EVENTS.slice(0, -1),
      { type: "tool-call-start", toolCallId: "call_2", toolName: "time" },
      { type: "tool-call", toolCallId: "call_2", toolName: "time", input: { tz: "CET" } },
      {
        type: "end",
        status: "complete",
        finish: "tool_calls",
        usage: { inputTokens: 1, outputTokens: 1 },
      },
    ]);
    const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toEqual([
      { index: 0, id: "call_1", type: "function", function: { name: "weather", arguments: "" } },
      { index: 0, function: { arguments: '{"city":' } },
      { index: 0, function: { arguments: '"Paris"}' } },
      { index: 1, id: "call_2", type: "function", function: { name: "time", arguments: "" } },
      // A call that came whole (Anthropic's tool_use) gets its arguments at its end.
      { index: 1, function: { arguments: '{"tz":"CET"}' } },
    ]);
    expect(
      chunks.map((chunk) => chunk.choices[0]?.delta.reasoning_content).filter(Boolean),
    ).toEqual(["Think 🤔"]);
    expect(chunks.at(-2).choices[0].finish_reason).toBe("tool_calls");
    expect(chunks.at(-1).choices).toEqual([]);
  });

  it("starts a call that arrives only whole, with its arguments on that first delta", () => {
    const chunks = deltasOf([
      { type: "start", messageId: M },
      {
        type: "tool-call-error",
        toolCallId: "c",
        toolName: "t",
        inputText: "{oops",
        message: "bad",
      },
      { type: "end", status: "complete", finish: "tool_calls" },
    ]);
    expect(chunks[1].choices[0].delta.tool_calls).toEqual([
      { index: 0, id: "c", type: "function", function: { name: "t", arguments: "{oops" } },
    ]);
  });
});

// The compatibility routes' side of a session's `frames` wire: one JSON event per line, read in
// one loop into frames and one answer, whatever the byte splits; then each route's encoder.
import { describe, expect, it } from "vitest";
import type { ServerEvent } from "../../../src/protocol.ts";
import { encodeFrame } from "../../../src/session/sse-listener.ts";
import type { AnswerEvent } from "../../../src/streams/answer-events.ts";
import { answerEvents } from "../../../src/streams/answer-source.ts";
import { openaiChunks } from "../../../src/streams/openai-wire.ts";
import { FrameReader, sessionAnswer } from "../../../src/streams/session-answer.ts";
import { parseSessionFrame } from "../../../src/streams/session-frame.ts";
import { uiMessageChunks } from "../../../src/streams/ui-message-wire.ts";
import { rechunkInsideCharacters } from "../../helpers/rechunk.ts";

const M = "msg_1";
const ANSWER: ServerEvent[] = [
  { type: "session", session: "s".repeat(32), lastSeq: 0, generating: true },
  { type: "start", seq: 1, messageId: M, userMessageId: "msg_u", prompt: "hi" },
  { type: "chunk", seq: 2, messageId: M, content: "Grüße, " },
  { type: "chunk", seq: 3, messageId: "msg_other", content: "not this one" },
  { type: "chunk", seq: 4, messageId: M, content: "河川 🌊\nand a line break" },
  { type: "done", seq: 5, messageId: M, status: "complete", finish: "stop" },
  { type: "chunk", seq: 6, messageId: "msg_next", content: "after the end" },
];
const EXPECTED: AnswerEvent[] = [
  { type: "start", messageId: M },
  { type: "text", text: "Grüße, " },
  { type: "text", text: "河川 🌊\nand a line break" },
  { type: "end", status: "complete", finish: "stop", usage: undefined },
];

const bytes = (events: ServerEvent[], extra = "") =>
  new TextEncoder().encode(events.map((event) => encodeFrame(event)).join("") + extra);

async function answerOf(body: ReadableStream<Uint8Array>): Promise<AnswerEvent[]> {
  const events: AnswerEvent[] = [];
  for await (const event of answerEvents(sessionAnswer(new FrameReader(body)))) {
    events.push(event);
  }
  return events;
}

describe("parseSessionFrame", () => {
  it.each([
    ["not JSON", "{"],
    ["an array", "[1]"],
    ["an unknown type", '{"type":"history","session":"x","messages":[]}'],
    ["a chunk without seq", `{"type":"chunk","messageId":"${M}","content":"x"}`],
    [
      "a chunk whose content is not text",
      `{"type":"chunk","seq":1,"messageId":"${M}","content":5}`,
    ],
    ["a done with an unknown status", `{"type":"done","seq":1,"messageId":"${M}","status":"odd"}`],
    ["an error with an unknown code", '{"type":"error","code":"toString","message":"x"}'],
    ["a session welcome without generating", '{"type":"session","session":"x","lastSeq":0}'],
    ["a negative seq", `{"type":"chunk","seq":-1,"messageId":"${M}","content":"x"}`],
  ])("skips %s", (_name, line) => {
    expect(parseSessionFrame(line)).toBeUndefined();
  });

  it("keeps a connection-level error apart from an answer's error", () => {
    expect(
      parseSessionFrame('{"type":"error","code":"resume_unavailable","message":"gone"}'),
    ).toEqual({
      type: "error",
      code: "resume_unavailable",
      message: "gone",
    });
  });
});

describe("FrameReader and sessionAnswer", () => {
  it("read the first answer and stop at its done, ignoring other messages", async () => {
    expect(await answerOf(new Response(bytes(ANSWER)).body ?? new ReadableStream())).toEqual(
      EXPECTED,
    );
  });

  it("give the same answer however the bytes are split, inside characters too (20 seeds)", async () => {
    for (let seed = 1; seed <= 20; seed += 1) {
      expect(await answerOf(rechunkInsideCharacters(bytes(ANSWER), seed))).toEqual(EXPECTED);
    }
  });

  it("skip malformed lines and frames they do not know, which the protocol may add", async () => {
    const [welcome, start, ...rest] = ANSWER;
    if (!welcome || !start) throw new Error("fixture");
    const noisy = new TextEncoder().encode(
      `${encodeFrame(welcome)}not json\n{"type":"pong"}\n${encodeFrame(start)}\n${rest.map((e) => encodeFrame(e)).join("")}`,
    );
    expect(await answerOf(new Response(noisy).body ?? new ReadableStream())).toEqual(EXPECTED);
  });

  it("end an answer cut before its done as interrupted, keeping what came", async () => {
    const cut = bytes(ANSWER.slice(0, 3), '{"type":"chunk","seq":4,"mess');
    expect(await answerOf(new Response(cut).body ?? new ReadableStream())).toEqual([
      { type: "start", messageId: M },
      { type: "text", text: "Grüße, " },
      { type: "error", code: "interrupted", message: expect.stringContaining("history") },
      { type: "end", status: "incomplete" },
    ]);
  });

  it("end at a connection-level error (events no longer kept), before any start as an error", async () => {
    const gone: ServerEvent[] = [{ type: "error", code: "resume_unavailable", message: "gone" }];
    expect(await answerOf(new Response(bytes(gone)).body ?? new ReadableStream())).toEqual([
      { type: "error", code: "resume_unavailable", message: "gone" },
      { type: "end", status: "error" },
    ]);
  });

  it("cancel the session's stream once the answer ended", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes(ANSWER.slice(0, 6)));
      },
      cancel() {
        cancelled = true;
      },
    });
    expect(await answerOf(body)).toEqual(EXPECTED);
    expect(cancelled).toBe(true);
  });
});

const encode = (encoder: (event: AnswerEvent) => string, events: AnswerEvent[]) =>
  events.map(encoder).join("");
const dataLines = (text: string) =>
  text
    .split("\n\n")
    .filter((message) => message !== "")
    .map((message) => message.replace(/^data: /, ""));

describe("encoders", () => {
  it("uiMessageChunks: start, step, one text part, finish, then [DONE]", () => {
    const lines = dataLines(encode(uiMessageChunks(), EXPECTED));
    expect(lines.at(-1)).toBe("[DONE]");
    expect(lines.slice(0, -1).map((line) => JSON.parse(line))).toEqual([
      { type: "start", messageId: M },
      { type: "start-step" },
      { type: "text-start", id: "text" },
      { type: "text-delta", id: "text", delta: "Grüße, " },
      { type: "text-delta", id: "text", delta: "河川 🌊\nand a line break" },
      { type: "text-end", id: "text" },
      { type: "finish-step" },
      { type: "finish", finishReason: "stop" },
    ]);
  });

  it.each([
    [
      "cancelled",
      { type: "end", status: "cancelled" } as const,
      { type: "abort", reason: "cancelled" },
    ],
    [
      "failed",
      { type: "end", status: "incomplete" } as const,
      { type: "finish", finishReason: "error" },
    ],
    [
      "cut by length",
      { type: "end", status: "complete", finish: "max_tokens" } as const,
      { type: "finish", finishReason: "length" },
    ],
  ])("uiMessageChunks: a %s answer ends with its own chunk", (_name, end, last) => {
    const lines = dataLines(encode(uiMessageChunks(), [{ type: "start", messageId: M }, end]));
    expect(JSON.parse(lines.at(-2) ?? "")).toEqual(last);
  });

  it("openaiChunks: role chunk, content chunks, finish, usage with no choices, [DONE]", () => {
    const usage = { inputTokens: 3, outputTokens: 2 };
    const events: AnswerEvent[] = [
      ...EXPECTED.slice(0, -1),
      { type: "end", status: "complete", finish: "stop", usage },
    ];
    const lines = dataLines(encode(openaiChunks({ created: 1, model: "m" }, true), events));
    expect(lines.at(-1)).toBe("[DONE]");
    const chunks = lines.slice(0, -1).map((line) => JSON.parse(line));
    expect(chunks.map((chunk) => chunk.choices[0]?.delta ?? null)).toEqual([
      { role: "assistant", content: "" },
      { content: "Grüße, " },
      { content: "河川 🌊\nand a line break" },
      {},
      null,
    ]);
    expect(
      chunks.every((chunk) => chunk.id === M && chunk.object === "chat.completion.chunk"),
    ).toBe(true);
    expect(chunks.at(-2).choices[0].finish_reason).toBe("stop");
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });

  it("openaiChunks: an error is one error message, and nothing after it", () => {
    const text = encode(openaiChunks({ created: 1, model: "m" }, false), [
      { type: "start", messageId: M },
      { type: "error", code: "upstream_dropped", message: "cut" },
      { type: "end", status: "incomplete" },
    ]);
    const lines = dataLines(text);
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1] ?? "")).toMatchObject({
      error: { code: "upstream_dropped", message: "cut" },
    });
  });
});

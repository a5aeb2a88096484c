// The assembler: events applied at most once by seq, history merged without losing live text.
import { describe, expect, it } from "vitest";
import { Transcript } from "../../../src/client/transcript.ts";
import type { SessionEvent, StoredMessage } from "../../../src/protocol.ts";

/** One answer's events from `seq`: start, a chunk per piece, done. */
function answer(seq: number, id: string, pieces: string[]): SessionEvent[] {
  return [
    { type: "start", seq, messageId: id, userMessageId: `${id}-q`, prompt: `question ${id}` },
    ...pieces.map(
      (content, i): SessionEvent => ({ type: "chunk", seq: seq + 1 + i, messageId: id, content }),
    ),
    { type: "done", seq: seq + 1 + pieces.length, messageId: id, status: "complete" },
  ];
}

const stored = (
  id: string,
  role: StoredMessage["role"],
  content: string,
  status: StoredMessage["status"] = "complete",
): StoredMessage => ({ id, role, content, status, createdAt: 0 });

describe("Transcript", () => {
  it("assembles a question and its streamed answer", () => {
    const transcript = new Transcript();
    for (const event of answer(1, "a", ["Hel", "lo ", "wörld"])) transcript.apply(event);
    expect(transcript.messages).toEqual([
      {
        id: "a-q",
        role: "user",
        content: "question a",
        parts: [{ type: "text", text: "question a" }],
        status: "complete",
      },
      {
        id: "a",
        role: "assistant",
        content: "Hello wörld",
        parts: [{ type: "step-start" }, { type: "text", text: "Hello wörld" }],
        status: "complete",
      },
    ]);
    expect(transcript.lastSeq).toBe(5);
    expect(transcript.streaming).toBeUndefined();
  });

  it("skips every event it has applied, however a reconnect replays them", () => {
    const events = answer(10, "a", ["t0 ", "t1 ", "t2 ", "t3 ", "t4 "]);
    const transcript = new Transcript();
    // Resumed after seq 12, then rejoined from the start, then a stale duplicate of the last.
    const deliveries = [...events.slice(0, 3), ...events.slice(2), ...events, events[4]];
    const applied = deliveries.filter((event) => event && transcript.apply(event));
    expect(applied.map((event) => event?.seq)).toEqual(events.map((event) => event.seq));
    expect(transcript.messages[1]?.content).toBe("t0 t1 t2 t3 t4 ");
  });

  it("keeps the live text of an answer the history still lists as streaming", () => {
    const transcript = new Transcript();
    for (const event of answer(1, "a", ["one "]).concat(
      answer(4, "b", ["two ", "three "]).slice(0, 2),
    )) {
      transcript.apply(event);
    }
    transcript.load([
      stored("a-q", "user", "question a"),
      stored("a", "assistant", "one "),
      stored("b-q", "user", "question b"),
      stored("b", "assistant", "", "streaming"),
    ]);
    expect(transcript.streaming?.content).toBe("two ");
    transcript.apply({ type: "chunk", seq: 6, messageId: "b", content: "three " });
    expect(transcript.messages.map((message) => message.content)).toEqual([
      "question a",
      "one ",
      "question b",
      "two three ",
    ]);
  });

  it("takes a finished answer from the history and keeps later live messages after it", () => {
    const transcript = new Transcript();
    for (const event of answer(8, "new", ["fresh"])) transcript.apply(event);
    transcript.load([stored("old-q", "user", "before"), stored("old", "assistant", "stored text")]);
    expect(transcript.messages.map((message) => message.id)).toEqual([
      "old-q",
      "old",
      "new-q",
      "new",
    ]);
  });

  it("records how an answer ended: error code, message and status", () => {
    const transcript = new Transcript();
    transcript.apply(answer(1, "a", [])[0] as SessionEvent);
    transcript.apply({ type: "chunk", seq: 2, messageId: "a", content: "par" });
    transcript.apply({
      type: "error",
      seq: 3,
      messageId: "a",
      code: "upstream_dropped",
      message: "gone",
    });
    transcript.apply({ type: "done", seq: 4, messageId: "a", status: "incomplete" });
    expect(transcript.messages[1]).toMatchObject({
      content: "par",
      status: "incomplete",
      errorCode: "upstream_dropped",
      errorMessage: "gone",
    });
  });
});

describe("Transcript parts", () => {
  const events: SessionEvent[] = [
    { type: "start", seq: 1, messageId: "a", userMessageId: "q", prompt: "weather?" },
    { type: "reasoning-start", seq: 2, messageId: "a", partId: "s0-reasoning-0" },
    {
      type: "reasoning-delta",
      seq: 3,
      messageId: "a",
      partId: "s0-reasoning-0",
      content: "Let me ",
    },
    {
      type: "reasoning-delta",
      seq: 4,
      messageId: "a",
      partId: "s0-reasoning-0",
      content: "check.",
    },
    { type: "reasoning-end", seq: 5, messageId: "a", partId: "s0-reasoning-0", signature: "sig" },
    { type: "tool-call-start", seq: 6, messageId: "a", toolCallId: "c1", toolName: "weather" },
    { type: "tool-call-delta", seq: 7, messageId: "a", toolCallId: "c1", inputDelta: '{"city":' },
    { type: "tool-call-delta", seq: 8, messageId: "a", toolCallId: "c1", inputDelta: '"Paris"}' },
    {
      type: "tool-call",
      seq: 9,
      messageId: "a",
      toolCallId: "c1",
      toolName: "weather",
      input: { city: "Paris" },
    },
    { type: "done", seq: 10, messageId: "a", status: "complete", finish: "tool_calls" },
    { type: "tool-result", seq: 11, messageId: "a", toolCallId: "c1", output: { temp: 21 } },
    { type: "step", seq: 12, messageId: "a", step: 1 },
    { type: "chunk", seq: 13, messageId: "a", content: "Sunny." },
    { type: "done", seq: 14, messageId: "a", status: "complete", finish: "stop" },
  ];
  const finalParts = [
    { type: "step-start" },
    { type: "reasoning", text: "Let me check.", signature: "sig" },
    {
      type: "tool-call",
      toolCallId: "c1",
      toolName: "weather",
      state: "output-available",
      input: { city: "Paris" },
      output: { temp: 21 },
    },
    { type: "step-start" },
    { type: "text", text: "Sunny." },
  ];

  it("assembles reasoning, a streamed tool call, its result and the next step", () => {
    const transcript = new Transcript();
    for (const event of events.slice(0, 10)) transcript.apply(event);
    expect(transcript.pendingToolCalls("a").map((part) => part.toolCallId)).toEqual(["c1"]);
    for (const event of events.slice(10)) transcript.apply(event);
    expect(transcript.messages[1]?.parts).toEqual(finalParts);
    expect(transcript.pendingToolCalls("a")).toEqual([]);
  });

  it("continues from stored parts: history loaded during the wait, then the continuation", () => {
    const transcript = new Transcript();
    transcript.load([
      { id: "q", role: "user", content: "weather?", status: "complete", createdAt: 0 },
      {
        id: "a",
        role: "assistant",
        content: "",
        parts: finalParts
          .slice(0, 3)
          .map((part) =>
            part.type === "tool-call"
              ? { ...part, state: "input-available", output: undefined }
              : part,
          ) as StoredMessage["parts"],
        status: "complete",
        finish: "tool_calls",
        createdAt: 0,
      },
    ]);
    for (const event of events.slice(10)) transcript.apply(event);
    const parts = transcript.messages[1]?.parts;
    expect(parts?.[2]).toMatchObject({ state: "output-available", output: { temp: 21 } });
    expect(parts?.slice(3)).toEqual(finalParts.slice(3));
    expect(transcript.messages[0]?.parts).toEqual([{ type: "text", text: "weather?" }]);
  });
});

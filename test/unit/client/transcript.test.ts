// The assembler: events applied at most once by seq, history merged without losing live text.
import { describe, expect, it } from "vitest";
import { Transcript } from "../../../src/client/transcript.ts";
import type { SessionEvent, StoredMessage } from "../../../src/protocol.ts";

/** One generation's events from `seq`: start, a chunk per piece, done. */
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
      { id: "a-q", role: "user", content: "question a", status: "complete" },
      { id: "a", role: "assistant", content: "Hello wörld", status: "complete" },
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

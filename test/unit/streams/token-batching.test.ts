// The per-token path between a session and a compatibility route's client: what gathers while a
// reader is busy travels as one chunk, one read and one write, and nothing waits while it keeps up.
import { describe, expect, it } from "vitest";
import type { ServerEvent } from "../../../src/protocol.ts";
import { SseListener } from "../../../src/session/sse-listener.ts";
import type { AnswerEvent } from "../../../src/streams/answer-events.ts";
import type { AnswerSource } from "../../../src/streams/answer-source.ts";
import { jsonSseResponse } from "../../../src/streams/json-sse.ts";
import { FrameReader, sessionAnswer } from "../../../src/streams/session-answer.ts";

const M = "msg_1";
const chunk = (seq: number): ServerEvent => ({
  type: "chunk",
  seq,
  messageId: M,
  content: `t${seq} `,
});
const decoder = new TextDecoder();

describe("SseListener chunks", () => {
  it("joins the frames written while its reader is busy into one chunk, in order", async () => {
    const listener = new SseListener({ onClose: () => {}, wire: "frames" });
    for (let seq = 1; seq <= 5; seq += 1) listener.send(chunk(seq));
    const reader = listener.body.getReader();
    const { value } = await reader.read();
    expect(decoder.decode(value).split("\n").slice(0, -1)).toEqual(
      [1, 2, 3, 4, 5].map((seq) => JSON.stringify(chunk(seq))),
    );
    listener.close();
  });

  it("hands a waiting reader each frame at once, alone", async () => {
    const listener = new SseListener({ onClose: () => {}, wire: "frames" });
    const reader = listener.body.getReader();
    const first = reader.read();
    // Let the reader's pull find nothing, so it waits.
    await Promise.resolve();
    listener.send(chunk(1));
    expect(decoder.decode((await first).value)).toBe(`${JSON.stringify(chunk(1))}\n`);
    listener.send(chunk(2));
    expect(decoder.decode((await reader.read()).value)).toBe(`${JSON.stringify(chunk(2))}\n`);
    listener.close();
  });

  it("delivers what it holds before it ends when closed behind a backlog", async () => {
    const listener = new SseListener({ onClose: () => {}, wire: "frames" });
    listener.send(chunk(1));
    listener.send(chunk(2));
    listener.close();
    expect(await new Response(listener.body).text()).toBe(
      `${JSON.stringify(chunk(1))}\n${JSON.stringify(chunk(2))}\n`,
    );
  });
});

describe("sessionAnswer batches", () => {
  it("gives every event one read of the stream holds in one batch", async () => {
    const frames: ServerEvent[] = [
      { type: "start", seq: 1, messageId: M, userMessageId: "msg_u", prompt: "hi" },
      chunk(2),
      chunk(3),
    ];
    const text = frames.map((frame) => `${JSON.stringify(frame)}\n`).join("");
    const answer = sessionAnswer(new FrameReader(new Response(text).body ?? new ReadableStream()));
    expect(await answer.read()).toEqual([
      { type: "start", messageId: M },
      { type: "text", text: "t2 " },
      { type: "text", text: "t3 " },
    ]);
    await answer.cancel();
  });

  it("ends quietly when cancelled while it waits for the session", async () => {
    const answer = sessionAnswer(new FrameReader(new ReadableStream<Uint8Array>()));
    const waiting = answer.read();
    await answer.cancel();
    expect(await waiting).toBeUndefined();
    expect(await answer.read()).toBeUndefined();
  });
});

/** A source that gives `batches`, then waits until it is cancelled. */
function heldSource(batches: AnswerEvent[][]): AnswerSource & { cancelled: Promise<unknown> } {
  let cancel: (reason: unknown) => void = () => {};
  const cancelled = new Promise<unknown>((resolve) => {
    cancel = resolve;
  });
  return {
    cancelled,
    read: async () => batches.shift() ?? (await cancelled.then(() => undefined)),
    cancel: async (reason) => cancel(reason ?? "cancelled"),
  };
}

describe("jsonSseResponse", () => {
  it("writes one batch as one chunk", async () => {
    const answer = heldSource([
      [
        { type: "text", text: "a" },
        { type: "text", text: "b" },
      ],
    ]);
    const response = jsonSseResponse(answer, (event) => (event.type === "text" ? event.text : ""));
    const reader = response.body?.getReader();
    expect(decoder.decode((await reader?.read())?.value)).toBe("ab");
    await reader?.cancel();
  });

  it("cancels the answer when the client goes away, even while no write waits", async () => {
    const answer = heldSource([]);
    const response = jsonSseResponse(answer, () => "x");
    await response.body?.cancel("gone");
    await expect(answer.cancelled).resolves.toBeDefined();
  });
});

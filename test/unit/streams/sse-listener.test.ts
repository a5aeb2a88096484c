// The SSE listener: wire format, keep-alives, and a bounded buffer for slow readers.
import { describe, expect, it } from "vitest";
import { SSE_QUEUE_LIMIT, SseListener } from "../../../src/session/sse-listener.ts";
import { encodeSse } from "../../../src/streams/sse.ts";

const chunk = (seq: number) =>
  ({ type: "chunk", seq, messageId: "msg_1", content: `t${seq} ` }) as const;

describe("encodeSse", () => {
  it("names the event by type, uses seq as id and keeps data on data lines", () => {
    expect(encodeSse(chunk(7))).toBe(
      'event: chunk\nid: 7\ndata: {"type":"chunk","seq":7,"messageId":"msg_1","content":"t7 "}\n\n',
    );
  });

  it("cannot be made to forge fields by text with line breaks", () => {
    const text = encodeSse({ ...chunk(1), content: "a\n\nevent: done\r\nid: 99" });
    expect(text.split("\n").filter((line) => line.startsWith("event:"))).toEqual(["event: chunk"]);
    expect(text.match(/^id:/gm)).toHaveLength(1);
  });

  it("gives connection frames no id, so Last-Event-ID stays on the last real event", () => {
    expect(encodeSse({ type: "pong" })).toBe('event: pong\ndata: {"type":"pong"}\n\n');
  });
});

describe("SseListener", () => {
  it("drops a reader that falls too far behind, telling it why, instead of buffering without bound", async () => {
    let closed = 0;
    const listener = new SseListener({ onClose: () => (closed += 1) });
    for (let seq = 1; seq <= SSE_QUEUE_LIMIT + 500; seq += 1) listener.send(chunk(seq));
    expect(closed).toBe(1);
    const body = await new Response(listener.body).text();
    const events = body.trim().split("\n\n");
    expect(events.length).toBeLessThanOrEqual(SSE_QUEUE_LIMIT + 2);
    expect(events.at(-1)).toContain('"code":"slow_consumer"');
  });

  it("sends keep-alive comments while idle", async () => {
    const listener = new SseListener({ onClose: () => {}, keepAliveMs: 5 });
    const reader = listener.body.pipeThrough(new TextDecoderStream()).getReader();
    const { value } = (await reader?.read()) ?? {};
    expect(value).toBe(": keep-alive\n\n");
    listener.close();
  });

  it("limited to one message, forwards only its events and ends after its done", async () => {
    const listener = new SseListener({ messageId: "msg_1", onClose: () => {} });
    listener.send({ ...chunk(1), messageId: "msg_other" });
    listener.send(chunk(2));
    listener.send({ type: "done", seq: 3, messageId: "msg_1", status: "complete" });
    const body = await new Response(listener.body).text();
    expect(body.match(/^event: \w+/gm)).toEqual(["event: chunk", "event: done"]);
  });
});

describe("SseListener replay", () => {
  it("lets a reader pull a replay far longer than the queue limit, then live events in order", async () => {
    const listener = new SseListener({ onClose: () => {} });
    const total = SSE_QUEUE_LIMIT * 20;
    listener.replay(Array.from({ length: total }, (_, i) => chunk(i + 1)));
    listener.send(chunk(total + 1));
    listener.send({ type: "done", seq: total + 2, messageId: "msg_1", status: "complete" });
    listener.close();
    const body = await new Response(listener.body).text();
    const ids = [...body.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));
    expect(ids).toEqual(Array.from({ length: total + 2 }, (_, i) => i + 1));
    expect(body).not.toContain("slow_consumer");
  });

  it("still drops a reader that falls behind live events after its replay", async () => {
    let closed = 0;
    const listener = new SseListener({ onClose: () => (closed += 1) });
    listener.replay(Array.from({ length: 10 }, (_, i) => chunk(i + 1)));
    for (let seq = 11; seq <= SSE_QUEUE_LIMIT * 3; seq += 1) listener.send(chunk(seq));
    expect(closed).toBe(1);
    const body = await new Response(listener.body).text();
    expect(body.trim().split("\n\n").at(-1)).toContain('"code":"slow_consumer"');
  });
});

describe("SseListener on the ui wire (POST /api/chat's bytes, passed on unread)", () => {
  const start = {
    type: "start",
    seq: 1,
    messageId: "msg_1",
    userMessageId: "u",
    prompt: "p",
  } as const;
  const done = {
    type: "done",
    seq: 4,
    messageId: "msg_1",
    status: "complete",
    finish: "stop",
  } as const;
  const chunks = (body: string) =>
    body
      .trim()
      .split("\n\n")
      .map((line) => line.replace(/^data: /, ""))
      .map((data) => (data === "[DONE]" ? data : JSON.parse(data).type));

  it("writes one answer as UI message chunks, the same the Worker's encoder wrote, and ends after it", async () => {
    const listener = new SseListener({ messageId: "msg_1", wire: "ui", onClose: () => {} });
    listener.send({ type: "session", session: "s", lastSeq: 0, generating: true });
    listener.send(start);
    listener.send({ ...chunk(2), content: "Hel" });
    listener.send({ ...chunk(3), content: "lo" });
    listener.send(done);
    listener.send(chunk(5));
    const body = await new Response(listener.body).text();
    expect(chunks(body)).toEqual([
      "start",
      "start-step",
      "text-start",
      "text-delta",
      "text-delta",
      "text-end",
      "finish-step",
      "finish",
      "[DONE]",
    ]);
    expect(body).toContain('"delta":"Hel"');
  });

  it("ends an answer cut short (its session deleted) with an interrupted error, then its end", async () => {
    const listener = new SseListener({ messageId: "msg_1", wire: "ui", onClose: () => {} });
    listener.send(start);
    listener.send(chunk(2));
    listener.close();
    const body = await new Response(listener.body).text();
    const types = chunks(body);
    expect(types.slice(-3)).toEqual(["finish-step", "finish", "[DONE]"]);
    expect(types.indexOf("error")).toBeGreaterThan(types.indexOf("text-delta"));
    expect(body).toContain("ended before the answer did");
  });

  it("sends no keep-alive comments (the UI stream never had them)", async () => {
    const listener = new SseListener({ wire: "ui", keepAliveMs: 5, onClose: () => {} });
    await new Promise((resolve) => setTimeout(resolve, 30));
    listener.send(start);
    listener.send(done);
    expect(await new Response(listener.body).text()).not.toContain(": keep-alive");
  });
});

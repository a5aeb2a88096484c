import { describe, expect, it } from "vitest";
import { openaiEvents } from "../../../src/providers/openai.ts";
import { COALESCE_MS, MAX_GATHERED_CHARS, sseEvents } from "../../../src/providers/sse-events.ts";
import type { UpstreamEvent } from "../../../src/providers/types.ts";
import { bytesOf, collectEvents, sse } from "./support.ts";

const chunk = (content: string) => ({ choices: [{ delta: { content } }] });

describe("sseEvents", () => {
  it("turns a body that fails mid-stream into upstream_dropped and a clean close", async () => {
    const body = bytesOf([sse(chunk("Hel")), sse(chunk("lo"))], new Error("connection reset"));
    const events = await collectEvents(
      sseEvents(body, openaiEvents(), new AbortController().signal),
    );
    expect(events).toEqual([
      { type: "text", text: "Hel" },
      { type: "text", text: "lo" },
      {
        type: "error",
        code: "upstream_dropped",
        message: "The upstream closed the stream before it finished",
      },
    ] satisfies UpstreamEvent[]);
  });

  it("closes without an error event when the signal fires, and cancels the body", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(sse(chunk("a"))));
      },
      cancel() {
        cancelled = true;
      },
    });
    const controller = new AbortController();
    const events = sseEvents(body, openaiEvents(), controller.signal);
    expect(await events.next()).toEqual({ type: "text", text: "a" });
    controller.abort();
    expect(await events.next()).toBeUndefined();
    expect(cancelled).toBe(true);
  });

  it("ends a pending read without an event when the signal fires or the consumer cancels", async () => {
    for (const stop of ["abort", "cancel"] as const) {
      const controller = new AbortController();
      const silent = new ReadableStream<Uint8Array>();
      const events = sseEvents(silent, openaiEvents(), controller.signal);
      const pending = events.next();
      if (stop === "abort") controller.abort();
      else events.cancel();
      expect(await pending).toBeUndefined();
      expect(await events.next()).toBeUndefined();
    }
  });

  it("closes right after the finish event and cancels a body the upstream left open", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(sse(chunk("a"), "[DONE]")));
      },
      cancel() {
        cancelled = true;
      },
    });
    const events = await collectEvents(
      sseEvents(body, openaiEvents(), new AbortController().signal),
    );
    expect(events.at(-1)).toEqual({ type: "finish", reason: "stop" });
    expect(cancelled).toBe(true);
  });

  it("cancels the body when the consumer cancels", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      cancel() {
        cancelled = true;
      },
    });
    sseEvents(body, openaiEvents(), new AbortController().signal).cancel();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(cancelled).toBe(true);
  });

  it("reports an SSE line that never ends as upstream_malformed instead of buffering it", async () => {
    const piece = "x".repeat(64 * 1024);
    const body = bytesOf(["data: ", ...Array.from({ length: 70 }, () => piece)]);
    const events = await collectEvents(
      sseEvents(body, openaiEvents(), new AbortController().signal),
    );
    expect(events).toEqual([
      expect.objectContaining({ type: "error", code: "upstream_malformed" }),
    ]);
  });

  it("joins the text events of one read into one, keeping the order of other events", async () => {
    const usage = { choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } };
    const body = bytesOf([
      sse(chunk("a"), chunk("b"), chunk("c")),
      sse(chunk("d")),
      sse(chunk("e"), usage, chunk("f"), chunk("g"), "[DONE]"),
    ]);
    const events = await collectEvents(
      sseEvents(body, openaiEvents(), new AbortController().signal),
    );
    expect(events).toEqual([
      { type: "text", text: "abc" },
      { type: "text", text: "d" },
      { type: "text", text: "e" },
      { type: "usage", usage: { inputTokens: 3, outputTokens: 2 } },
      { type: "text", text: "fg" },
      { type: "finish", reason: "stop" },
    ] satisfies UpstreamEvent[]);
  });

  it("joins the deltas of one reasoning part or one tool call within a read, never across parts", async () => {
    const think = (reasoning_content: string) => ({ choices: [{ delta: { reasoning_content } }] });
    const args = (index: number, id: string | undefined, piece: string) => ({
      choices: [
        {
          delta: {
            tool_calls: [
              {
                index,
                ...(id
                  ? { id, function: { name: "f", arguments: piece } }
                  : { function: { arguments: piece } }),
              },
            ],
          },
        },
      ],
    });
    const body = bytesOf([
      sse(think("a"), think("b"), think("c")),
      sse(args(0, "call_1", '{"x"'), args(0, undefined, ":1"), args(0, undefined, "}")),
      sse(
        args(1, "call_2", "{"),
        args(0, undefined, ""),
        args(1, undefined, "}"),
        args(1, undefined, " "),
      ),
      sse({ choices: [{ delta: {}, finish_reason: "tool_calls" }] }, "[DONE]"),
    ]);
    const events = await collectEvents(
      sseEvents(body, openaiEvents(), new AbortController().signal),
    );
    expect(events.filter((e) => e.type.endsWith("-delta"))).toEqual([
      { type: "reasoning-delta", id: "reasoning-0", text: "abc" },
      { type: "tool-call-delta", id: "call_1", index: 0, arguments: '{"x":1}' },
      { type: "tool-call-delta", id: "call_2", index: 1, arguments: "{} " },
    ] satisfies UpstreamEvent[]);
  });

  it("reads nothing ahead of the consumer, and tells onActivity of every read", async () => {
    let reads = 0;
    const pieces = [": keep-alive\n\n", sse(chunk("a")), sse(chunk("b")), sse("[DONE]")];
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          const piece = pieces[reads++];
          if (piece === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(piece));
        },
      },
      { highWaterMark: 0 },
    );
    let activity = 0;
    const events = sseEvents(body, openaiEvents(), new AbortController().signal, () => activity++);
    expect(reads).toBe(0);
    expect(await events.next()).toEqual({ type: "text", text: "a" });
    expect([reads, activity]).toEqual([2, 2]);
    expect(await events.next()).toEqual({ type: "text", text: "b" });
    expect(await events.next()).toEqual({ type: "finish", reason: "stop" });
    expect(await events.next()).toBeUndefined();
    expect([reads, activity]).toEqual([4, 4]);
  });

  it("decodes a character split across two reads", async () => {
    const bytes = new TextEncoder().encode(sse(chunk("café")));
    const at = bytes.indexOf(0xc3) + 1;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, at));
        controller.enqueue(bytes.slice(at));
        controller.close();
      },
    });
    const events = await collectEvents(
      sseEvents(body, openaiEvents(), new AbortController().signal),
    );
    expect(events[0]).toEqual({ type: "text", text: "café" });
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const encoder = new TextEncoder();

/**
 * A body that gives one piece per read, each after `delayMs` (0: at once), then, with
 * `stall`, never another (the upstream paused).
 */
function piecesBody(pieces: readonly string[], delayMs = 0, stall = false) {
  let next = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const piece = pieces[next++];
        if (piece === undefined) {
          if (stall) return new Promise<void>(() => {});
          return controller.close();
        }
        if (delayMs > 0) await sleep(delayMs);
        controller.enqueue(encoder.encode(piece));
      },
      cancel() {
        cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { body, cancelled: () => cancelled };
}

const texts = (events: UpstreamEvent[]) =>
  events.flatMap((event) => (event.type === "text" ? [event.text] : []));

describe("sseEvents joins deltas that come faster than COALESCE_MS", () => {
  it("hands each delta on alone while they come slower", async () => {
    const pieces = ["a", "b", "c", "d"].map((text) => sse(chunk(text)));
    const { body } = piecesBody([...pieces, sse("[DONE]")], COALESCE_MS * 3);
    const events = await collectEvents(
      sseEvents(body, openaiEvents(), new AbortController().signal),
    );
    expect(events).toEqual([
      { type: "text", text: "a" },
      { type: "text", text: "b" },
      { type: "text", text: "c" },
      { type: "text", text: "d" },
      { type: "finish", reason: "stop" },
    ] satisfies UpstreamEvent[]);
  });

  it("joins back-to-back deltas after the first two, losing and reordering nothing", async () => {
    const words = Array.from({ length: 300 }, (_, i) => `t${i} `);
    const { body } = piecesBody([...words.map((word) => sse(chunk(word))), sse("[DONE]")]);
    const events = await collectEvents(
      sseEvents(body, openaiEvents(), new AbortController().signal),
    );
    const got = texts(events);
    // The first deltas of an answer are never held: its first token is not delayed.
    expect(got.slice(0, 2)).toEqual(["t0 ", "t1 "]);
    expect(got.join("")).toBe(words.join(""));
    expect(got.length).toBeLessThan(words.length / 3);
    expect(events.at(-1)).toEqual({ type: "finish", reason: "stop" });
  });

  it("hands a held delta on when the upstream pauses, after at most about COALESCE_MS", async () => {
    const { body, cancelled } = piecesBody(
      ["a", "b", "c"].map((text) => sse(chunk(text))),
      0,
      true,
    );
    const events = sseEvents(body, openaiEvents(), new AbortController().signal);
    expect(await events.next()).toEqual({ type: "text", text: "a" });
    expect(await events.next()).toEqual({ type: "text", text: "b" });
    const third = events.next();
    const late = sleep(1_000).then(() => "still held");
    expect(await Promise.race([third, late])).toEqual({ type: "text", text: "c" });
    events.cancel();
    expect(await events.next()).toBeUndefined();
    expect(cancelled()).toBe(true);
  });

  it("stops gathering at an event that is not a delta, or a delta of another part", async () => {
    const think = (id: number, reasoning_content: string) => ({
      choices: [{ index: 0, delta: { reasoning_content } }],
      id,
    });
    const { body } = piecesBody([
      sse(chunk("a")),
      sse(chunk("b")),
      sse(chunk("c")),
      sse(chunk("d")),
      sse(think(1, "hm")),
      sse({ choices: [{ delta: {}, finish_reason: "stop" }] }, "[DONE]"),
    ]);
    const events = await collectEvents(
      sseEvents(body, openaiEvents(), new AbortController().signal),
    );
    const kinds = events.map((event) => event.type);
    // Whatever was joined, the order of kinds is the wire's.
    expect(kinds.filter((kind, i) => kind !== kinds[i - 1])).toEqual([
      "text",
      "reasoning-start",
      "reasoning-delta",
      "reasoning-end",
      "finish",
    ]);
    expect(texts(events).join("")).toBe("abcd");
  });

  it("stops growing a gathered delta at MAX_GATHERED_CHARS", async () => {
    const piece = "x".repeat(1_000);
    const count = Math.ceil((MAX_GATHERED_CHARS * 3) / piece.length);
    const { body } = piecesBody([
      ...Array.from({ length: count }, () => sse(chunk(piece))),
      sse("[DONE]"),
    ]);
    const events = await collectEvents(
      sseEvents(body, openaiEvents(), new AbortController().signal),
    );
    const got = texts(events);
    expect(got.join("")).toBe(piece.repeat(count));
    for (const text of got) expect(text.length).toBeLessThan(MAX_GATHERED_CHARS + piece.length);
    expect(got.length).toBeGreaterThanOrEqual(3);
  });

  it("hands every delta on alone with a window of 0 (DELTA_COALESCE_MS=0)", async () => {
    const words = Array.from({ length: 50 }, (_, i) => `t${i} `);
    const { body } = piecesBody([...words.map((word) => sse(chunk(word))), sse("[DONE]")]);
    const signal = new AbortController().signal;
    const events = await collectEvents(sseEvents(body, openaiEvents(), signal, undefined, 0));
    expect(texts(events)).toEqual(words);
  });

  it("ends without another event when the signal fires while it gathers", async () => {
    const { body, cancelled } = piecesBody(
      ["a", "b", "c"].map((text) => sse(chunk(text))),
      0,
      true,
    );
    const controller = new AbortController();
    const events = sseEvents(body, openaiEvents(), controller.signal);
    await events.next();
    await events.next();
    const third = events.next();
    controller.abort(new Error("client left"));
    const got = await third;
    // The held delta may go out or not; nothing comes after it, and the body is cancelled.
    expect(got === undefined || got.type === "text").toBe(true);
    expect(await events.next()).toBeUndefined();
    expect(cancelled()).toBe(true);
  });
});

/**
 * The pipeline benchmark's contenders, as plain functions over chunks of bytes, free of Node
 * APIs so the same code runs in Node and inside workerd (see bench/storage-worker.ts):
 * - `relay`: the provider pipeline as src/providers/sse-events.ts runs it (`sseEvents`: one
 *   read loop of TextDecoder, `SseDecoder` and `openaiEvents()`, text of one read joined into
 *   one event, and so is text of reads under COALESCE_MS apart), then each text event encoded
 *   as the relay sends it (a JSON chunk frame for
 *   sockets, `encodeSse` for SSE listeners);
 * - `single-loop`: the same parser, transform logic and encoding in a hand-written loop with no
 *   event objects and no joining (the sketch the README proposed before `sseEvents` became one);
 * - `floor`: TextDecoder and JSON.parse of each `data:` line, nothing else.
 */
import type { SessionEvent } from "../src/protocol.ts";
import { openaiEvents } from "../src/providers/openai.ts";
import { readOpenAIChunk } from "../src/providers/openai-chunk.ts";
import { SseDecoder } from "../src/providers/sse-decoder.ts";
import { sseEvents } from "../src/providers/sse-events.ts";
import { parseObject } from "../src/providers/wire.ts";
import { encodeSse } from "../src/streams/sse.ts";

export const VARIANTS = ["floor", "relay", "single-loop"] as const;
export type Variant = (typeof VARIANTS)[number];

/** How the bytes arrive: one SSE event per read (a live stream), or 64 KiB reads (a burst). */
export const CHUNKINGS = ["event", "64k"] as const;
export type Chunking = (typeof CHUNKINGS)[number];

export interface Output {
  /** Events produced: parsed `data:` lines for the floor, text events for the others. */
  events: number;
  /** Characters encoded, so no work can be optimized away. */
  chars: number;
}

/** `bytes` cut the way `chunking` says. */
export function chunk(bytes: Uint8Array, chunking: Chunking): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  if (chunking === "64k") {
    for (let at = 0; at < bytes.length; at += 64 * 1024)
      chunks.push(bytes.subarray(at, at + 64 * 1024));
    return chunks;
  }
  let start = 0;
  for (let at = 1; at < bytes.length; at += 1) {
    // 10 is "\n": cut after each blank line that ends an event.
    if (bytes[at] === 10 && bytes[at - 1] === 10) {
      chunks.push(bytes.subarray(start, at + 1));
      start = at + 1;
    }
  }
  if (start < bytes.length) chunks.push(bytes.subarray(start));
  return chunks;
}

function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const piece = chunks[next];
        next += 1;
        if (piece === undefined) controller.close();
        else controller.enqueue(piece);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Encodes one piece of text both ways the relay sends it; returns the characters written. */
function encode(content: string, seq: number): number {
  const frame = { type: "chunk", seq, messageId: "msg_bench", content } satisfies SessionEvent;
  return JSON.stringify(frame).length + encodeSse(frame).length;
}

function floor(chunks: readonly Uint8Array[]): Output {
  const decoder = new TextDecoder();
  let pending = "";
  let events = 0;
  let chars = 0;
  for (const piece of chunks) {
    const lines = (pending + decoder.decode(piece, { stream: true })).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
      const value: unknown = JSON.parse(line.slice(6));
      if (value !== null) events += 1;
      chars += line.length;
    }
  }
  return { events, chars };
}

async function relay(chunks: readonly Uint8Array[]): Promise<Output> {
  const upstream = sseEvents(streamOf(chunks), openaiEvents(), new AbortController().signal);
  let events = 0;
  let chars = 0;
  for (let event = await upstream.next(); event; event = await upstream.next()) {
    if (event.type !== "text") continue;
    events += 1;
    chars += encode(event.text, events);
  }
  return { events, chars };
}

async function singleLoop(chunks: readonly Uint8Array[]): Promise<Output> {
  const reader = streamOf(chunks).getReader();
  const decoder = new TextDecoder();
  let events = 0;
  let chars = 0;
  let ended = false;
  const parser = new SseDecoder((message) => {
    if (ended) return;
    if (message.data === "[DONE]") {
      ended = true;
      return;
    }
    const object = parseObject(message.data);
    const text = object && readOpenAIChunk(object).text;
    if (!text) return;
    events += 1;
    chars += encode(text, events);
  });
  while (!ended) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(decoder.decode(value, { stream: true }));
  }
  return { events, chars };
}

export function runVariant(variant: Variant, chunks: readonly Uint8Array[]): Promise<Output> {
  switch (variant) {
    case "floor":
      return Promise.resolve(floor(chunks));
    case "relay":
      return relay(chunks);
    case "single-loop":
      return singleLoop(chunks);
  }
}

/**
 * A recorded Chat Completions stream repeated to at least `minBytes`: every `[DONE]` but the
 * last is left out, since the transform ends the stream at the first one.
 */
export function repeatStream(recorded: string, minBytes: number): Uint8Array {
  const body = recorded.replaceAll("data: [DONE]\n\n", "");
  const copies = Math.max(1, Math.ceil(minBytes / body.length));
  return new TextEncoder().encode(`${body.repeat(copies)}data: [DONE]\n\n`);
}

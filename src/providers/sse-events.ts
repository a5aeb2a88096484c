/** Reads an upstream's SSE body into its events, read by read, joining deltas that come too fast. */

import { numberSetting } from "../config.ts";
import { SseDecoder, type SseMessage, SseOverflow } from "./sse-decoder.ts";
import type { UpstreamEvent, UpstreamEvents } from "./types.ts";
import { droppedEvent, malformedEvent } from "./wire.ts";

/** Where a provider's reading of SSE messages puts each event it makes. */
export type Emit = (event: UpstreamEvent) => void;

/**
 * What a provider makes of its parsed SSE messages: plain functions that the read loop of
 * `sseEvents` calls, rather than a `TransformStream` (see `sseEvents` for why). One per stream,
 * as it keeps state.
 */
export interface EventTransform {
  /** Reads one SSE message and emits the events it holds, if any. */
  message(message: SseMessage, emit: Emit): void;
  /** The body ended: emits the stream's last event, unless one was already emitted. */
  end(emit: Emit): void;
}

/**
 * Longest partial SSE line (or event data) the decoder may hold. Chat deltas are a few hundred
 * bytes; this bound only stops a broken upstream that never sends a newline (or a blank line)
 * from filling the isolate's memory.
 */
const MAX_SSE_LINE = 4 * 1024 * 1024;

/**
 * An upstream that has written three deltas within this many milliseconds is reading faster
 * than one event per delta pays for downstream: each event is a frame to every client, and on
 * the compatibility routes a chunk, a read and a write (on `/api/chat/ws` a WebSocket message)
 * in the Worker. Its deltas are then gathered for up to this long and handed on as one. The
 * first deltas of an answer, and any after a pause, are never held.
 */
export const COALESCE_MS = 4;

/** DELTA_COALESCE_MS as milliseconds: default COALESCE_MS, 0 (every delta its own event) to 1000. */
export function coalesceWindow(value: string | undefined): number {
  return numberSetting("DELTA_COALESCE_MS", value, {
    default: COALESCE_MS,
    min: 0,
    max: 1_000,
    integer: true,
    unit: "milliseconds",
    invalid: "default",
  });
}

/**
 * A gathered delta stops growing at this many characters: per event the later stages pay a
 * few microseconds, which a delta this long already shares among thousands of characters, so
 * gathering more would only hold text back (and make one frame long for every client).
 */
export const MAX_GATHERED_CHARS = 16 * 1024;

/** What a gathering read lost to the clock. */
const TIME_UP = Symbol("time up");

/**
 * Decodes an SSE byte stream and runs it through `transform`, read by read: nothing is read
 * ahead of the consumer. The events always end cleanly: a body that fails mid-stream gives
 * one `upstream_dropped` event, then the end; after an `error` or `finish` event they end at
 * once and the body is cancelled. When `signal` fires, the body is cancelled and the events
 * end with no further event, since the caller cancelled. Malformed SSE lines (unknown fields,
 * a bad `retry`) are ignored, as the SSE spec says; a line over `MAX_SSE_LINE` is
 * `upstream_malformed`. `onActivity` hears of every piece of the body, keep-alives included,
 * for the stall watchdog.
 *
 * The text events made from one read of the body are joined into one, and so are the
 * deltas of one reasoning part or one tool call (in order: any other event between two
 * keeps them apart; see `joinDeltas`). While the relay keeps up a read holds one event, so
 * this adds no latency; when it falls behind, reads hold many, and every later stage then
 * pays per read instead of per token. Once three deltas came within `coalesceMs` (default
 * COALESCE_MS; 0: never), later reads are gathered into the same delta for up to that long.
 *
 * One read loop (`TextDecoder`, `SseDecoder`, `transform`) rather than the
 * `pipeThrough(TextDecoderStream).pipeThrough(EventSourceParserStream).pipeThrough(...)`
 * chain, and a plain `next()` rather than a `ReadableStream` out: in workerd every JS stream
 * hop costs promise continuations and fresh closures per event, about 7 µs. In the pipeline
 * benchmark (bench/README.md; workerd, one event per read) the chain took 79-135 µs per event,
 * this loop takes 11 µs, and the floor (TextDecoder and JSON.parse alone) 2 µs.
 */
export function sseEvents(
  body: ReadableStream<Uint8Array>,
  transform: EventTransform,
  signal: AbortSignal,
  onActivity?: () => void,
  coalesceMs = COALESCE_MS,
): UpstreamEvents {
  const source = body.getReader();
  // `SseDecoder` drops the BOM itself, as the SSE spec says: only one, at the very start.
  const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  // What the last read made that `next()` has not handed out yet.
  const queue: UpstreamEvent[] = [];
  // Set once the last event is queued, or by a cancel or abort: nothing more is read or made.
  let over = false;
  // The read in progress, kept when a gathering wait for it ran out of time.
  let reading: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  // When the last two reads that made events were handed on, newest first.
  let handedAt = Number.NEGATIVE_INFINITY;
  let handedBefore = Number.NEGATIVE_INFINITY;

  const close = (reason?: unknown) => {
    if (over) return;
    over = true;
    signal.removeEventListener("abort", onAbort);
    // A rejected cancel only means the body is already gone, which is what we want.
    void source.cancel(reason).catch(() => {});
  };
  const cancel = (reason?: unknown) => {
    close(reason);
    queue.length = 0;
  };
  const onAbort = () => cancel(signal.reason);
  const emit: Emit = (event) => {
    if (over) return;
    const last = queue[queue.length - 1];
    const joined = last && joinDeltas(last, event);
    if (joined) {
      queue[queue.length - 1] = joined;
      return;
    }
    queue.push(event);
    if (event.type === "error" || event.type === "finish") close();
  };
  const parser = new SseDecoder((message) => {
    if (!over) transform.message(message, emit);
  }, MAX_SSE_LINE);
  const feed = (text: string) => {
    try {
      parser.feed(text);
    } catch (error) {
      if (!(error instanceof SseOverflow)) throw error;
      emit(malformedEvent(`an SSE line over ${MAX_SSE_LINE} chars`));
    }
  };
  // A read that a gathering wait left behind is the next one; its race heard any failure, and
  // the next read hears it again.
  const read = () => {
    reading ??= source.read();
    return reading;
  };
  /** Takes one read's bytes (or the end) into the queue. */
  const take = ({ done, value }: ReadableStreamReadResult<Uint8Array>) => {
    reading = undefined;
    if (over) return;
    if (done) {
      // The decoder's flush: a character cut off by the end becomes U+FFFD, as in a stream.
      feed(decoder.decode());
      transform.end(emit);
      close();
      return;
    }
    onActivity?.();
    feed(decoder.decode(value, { stream: true }));
  };
  // The connection failed (or a chunk was not bytes); after a cancel it just ends.
  const failed = () => {
    reading = undefined;
    emit(droppedEvent());
  };

  // Reads until the last read made an event or the stream is over.
  const fill = async () => {
    while (queue.length === 0 && !over) {
      try {
        take(await read());
      } catch {
        failed();
      }
    }
  };

  // Whether all that is queued is one delta, short enough for a further read to add to.
  const oneDelta = () => {
    const only = queue.length === 1 ? queue[0] : undefined;
    return only !== undefined && deltaChars(only) < MAX_GATHERED_CHARS;
  };

  // Reads on for up to coalesceMs while they only add to the one delta queued.
  const gather = async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeUp = new Promise<typeof TIME_UP>((resolve) => {
      timer = setTimeout(() => resolve(TIME_UP), coalesceMs);
    });
    const until = Date.now() + coalesceMs;
    try {
      while (!over && oneDelta() && Date.now() < until) {
        const result = await Promise.race([read(), timeUp]);
        if (result === TIME_UP) return;
        take(result);
      }
    } catch {
      failed();
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  };

  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) onAbort();
  return {
    async next() {
      if (queue.length === 0) {
        await fill();
        let now = Date.now();
        if (now - handedBefore < coalesceMs && oneDelta()) {
          await gather();
          now = Date.now();
        }
        handedBefore = handedAt;
        handedAt = now;
      }
      return queue.shift();
    },
    cancel,
  };
}

/**
 * The length of `event` if it is a piece of a text, a reasoning part or a tool call's input
 * (what a later delta can be joined to); otherwise infinite.
 */
function deltaChars(event: UpstreamEvent): number {
  switch (event.type) {
    case "text":
    case "reasoning-delta":
      return event.text.length;
    case "tool-call-delta":
      return event.arguments.length;
    default:
      return Number.POSITIVE_INFINITY;
  }
}

/**
 * `last` and `next` as one event, if `next` only continues `last`: two texts, or two deltas
 * of the same part. Otherwise `undefined`.
 */
function joinDeltas(last: UpstreamEvent, next: UpstreamEvent): UpstreamEvent | undefined {
  if (last.type === "text" && next.type === "text") {
    return { type: "text", text: last.text + next.text };
  }
  if (last.type === "reasoning-delta" && next.type === "reasoning-delta" && last.id === next.id) {
    return { ...last, text: last.text + next.text };
  }
  if (last.type === "tool-call-delta" && next.type === "tool-call-delta" && last.id === next.id) {
    return { ...last, arguments: last.arguments + next.arguments };
  }
  return undefined;
}

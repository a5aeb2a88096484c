/** Starts an upstream HTTP call and reads its SSE body; every failure gets one of our error codes. */

import * as v from "valibot";
import { SluiceError } from "../errors.ts";
import { parseRetryAfter, UpstreamFailure } from "./retry-policy.ts";
import { SseDecoder, type SseMessage, SseOverflow } from "./sse-decoder.ts";
import type { UpstreamEvent, UpstreamEvents, UpstreamRequest } from "./types.ts";
import {
  droppedEvent,
  ErrorField,
  malformedEvent,
  parseObject,
  readWith,
  Text,
  truncate,
} from "./wire.ts";

/** The part of `fetch` we use; tests pass a stub instead of the network. */
export type FetchLike = (request: Request, init: { signal: AbortSignal }) => Promise<Response>;

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

/** How much of an error body we read looking for its message; the rest is never downloaded. */
const MAX_ERROR_BODY = 64 * 1024;

/** Headers whose values are secrets; an upstream that echoes one back must not show it. */
const SECRET_HEADERS = ["authorization", "x-api-key", "api-key"];

/**
 * Sends `request` and resolves with its response once it is known to be a 2xx event stream.
 * Every other outcome rejects with a SluiceError before any of the body is used; messages never
 * contain the API key or response headers. If `signal` fired, rejects with its reason instead,
 * since the caller cancelled and already knows why.
 */
export async function fetchUpstream(
  request: Request,
  signal: AbortSignal,
  fetcher: FetchLike = fetch,
): Promise<Response> {
  let response: Response;
  try {
    response = await fetcher(request, { signal });
  } catch {
    if (signal.aborted) throw signal.reason;
    const { host } = new URL(request.url);
    throw new SluiceError("upstream_unreachable", `Could not connect to the upstream at ${host}`);
  }
  if (!response.ok) throw await httpFailure(response, request);
  // A server that ignores `stream: true` answers one JSON document: say so instead of "dropped".
  const type = response.headers.get("content-type") ?? "";
  if (/^(application\/json|text\/html)/i.test(type)) {
    await discard(response);
    throw new SluiceError(
      "upstream_malformed",
      `The upstream answered ${type.split(";")[0]} instead of an event stream`,
    );
  }
  return response;
}

/** `fetchUpstream`, then its body through `transform`, as `sseEvents` describes. */
export async function streamUpstream(
  request: Request,
  transform: EventTransform,
  { signal, onActivity }: UpstreamRequest,
  fetcher?: FetchLike,
): Promise<UpstreamEvents> {
  const response = await fetchUpstream(request, signal, fetcher);
  if (!response.body) throw new SluiceError("upstream_malformed", "The upstream sent no body");
  return sseEvents(response.body, transform, signal, onActivity);
}

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
 * pays per read instead of per token.
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
): UpstreamEvents {
  const source = body.getReader();
  // `SseDecoder` drops the BOM itself, as the SSE spec says: only one, at the very start.
  const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  // What the last read made that `next()` has not handed out yet.
  const queue: UpstreamEvent[] = [];
  // Set once the last event is queued, or by a cancel or abort: nothing more is read or made.
  let over = false;

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

  // Reads until the last read made an event or the stream is over.
  const fill = async () => {
    while (queue.length === 0 && !over) {
      try {
        const { done, value } = await source.read();
        if (over) return;
        if (done) {
          // The decoder's flush: a character cut off by the end becomes U+FFFD, as in a stream.
          feed(decoder.decode());
          transform.end(emit);
          return close();
        }
        onActivity?.();
        feed(decoder.decode(value, { stream: true }));
      } catch {
        // The connection failed (or a chunk was not bytes); after a cancel it just ends.
        emit(droppedEvent());
      }
    }
  };

  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) onAbort();
  return {
    async next() {
      if (queue.length === 0) await fill();
      return queue.shift();
    },
    cancel,
  };
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

/**
 * The error for a non-2xx answer, with the status and Retry-After (any status may send one,
 * 503 often does) that the retry rules read.
 */
async function httpFailure(response: Response, request: Request): Promise<UpstreamFailure> {
  const { status } = response;
  const retryAfter = response.headers.get("retry-after");
  const detail = { httpStatus: status, retryAfterMs: parseRetryAfter(retryAfter) };
  if (status === 401 || status === 403) {
    // The body is not read: some upstreams echo part of the key back in it.
    await discard(response);
    const message = `The upstream rejected the API key (HTTP ${status})`;
    return new UpstreamFailure("upstream_auth", message, detail);
  }
  if (status === 429) {
    await discard(response);
    const message = `The upstream is rate limiting (HTTP 429)${retryHint(retryAfter)}`;
    return new UpstreamFailure("upstream_rate_limited", message, detail);
  }
  const reason = redact(await errorMessage(response), request);
  const suffix = reason ? `: ${truncate(reason)}` : "";
  const message = `The upstream answered HTTP ${status}${suffix}`;
  return new UpstreamFailure("upstream_http", message, detail);
}

/** Retry-After (seconds or an HTTP date) as a sentence tail, or nothing if absent or garbled. */
function retryHint(value: string | null): string {
  if (value === null || parseRetryAfter(value) === undefined) return "";
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return `; Retry-After says ${trimmed} s`;
  return `; Retry-After says ${new Date(Date.parse(trimmed)).toISOString()}`;
}

/** A JSON error body: OpenAI's and Anthropic's `error.message`, or a bare `error` / `message`. */
const ErrorBody = v.object({ error: ErrorField, message: Text });

/** `error.message` (or a bare `error` / `message` string) from a JSON error body. */
async function errorMessage(response: Response): Promise<string | undefined> {
  const body = parseObject(await readPrefix(response, MAX_ERROR_BODY));
  if (!body) return undefined;
  const { error, message } = readWith(ErrorBody, body);
  return (typeof error === "string" ? error : error?.message) ?? message ?? undefined;
}

/** Up to `max` bytes of the body as text; the rest is cancelled, never downloaded. */
async function readPrefix(response: Response, max: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < max) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value instanceof Uint8Array) text += decoder.decode(value, { stream: true });
    }
  } catch {
    // A body that breaks while we look for a message just has no message.
  } finally {
    void reader.cancel().catch(() => {});
  }
  return text;
}

/** Releases a body we will not read; a failed cancel means it is already released. */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}

/** `text` with any secret header value of `request` replaced. */
function redact(text: string | undefined, request: Request): string | undefined {
  if (text === undefined) return undefined;
  let clean = text;
  for (const name of SECRET_HEADERS) {
    const value = request.headers.get(name)?.replace(/^Bearer\s+/i, "");
    if (value) clean = clean.replaceAll(value, "[redacted]");
  }
  return clean;
}

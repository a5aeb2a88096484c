/** Starts an upstream HTTP call and reads its SSE body; every failure gets one of our error codes. */
import type { EventSourceMessage } from "eventsource-parser/stream";
import { EventSourceParserStream, ParseError } from "eventsource-parser/stream";
import { SluiceError } from "../errors.ts";
import { parseRetryAfter, UpstreamFailure } from "./retry-policy.ts";
import type { GenerationRequest, UpstreamEvent } from "./types.ts";
import {
  droppedEvent,
  malformedEvent,
  parseObject,
  readObject,
  readString,
  truncate,
} from "./wire.ts";

/** The part of `fetch` we use; tests pass a stub instead of the network. */
export type FetchLike = (request: Request, init: { signal: AbortSignal }) => Promise<Response>;

/** A transform from parsed SSE messages to our events; one per stream, as it keeps state. */
export type EventTransform = TransformStream<EventSourceMessage, UpstreamEvent>;

/**
 * Longest partial SSE line the parser may hold. Chat deltas are a few hundred bytes; this bound
 * only stops a broken upstream that never sends a newline from filling the isolate's memory.
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
  { signal, onActivity }: GenerationRequest,
  fetcher?: FetchLike,
): Promise<ReadableStream<UpstreamEvent>> {
  const response = await fetchUpstream(request, signal, fetcher);
  if (!response.body) throw new SluiceError("upstream_malformed", "The upstream sent no body");
  return sseEvents(response.body, transform, signal, onActivity);
}

/**
 * Decodes an SSE byte stream and runs it through `transform`, pull by pull (nothing is read
 * ahead of the consumer). The result always ends cleanly: a body that fails mid-stream yields
 * one `upstream_dropped` event, then the stream closes; after an `error` or `finish` event it
 * closes at once and cancels the body. When `signal` fires, the body is cancelled and the
 * stream closes with no further event, since the caller cancelled. Malformed SSE lines (unknown
 * fields, a bad `retry`) are ignored, as the SSE spec says and the parser does by default.
 * `onActivity` hears of every piece of the body, keep-alives included, for the stall watchdog.
 */
export function sseEvents(
  body: ReadableStream<Uint8Array>,
  transform: EventTransform,
  signal: AbortSignal,
  onActivity?: () => void,
): ReadableStream<UpstreamEvent> {
  const source = body.getReader();
  // Our own reader on the body, so an abort can cancel it even though the pipeline locks it.
  const bytes = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await source.read();
        if (done) return controller.close();
        onActivity?.();
        controller.enqueue(value);
      },
      cancel: (reason) => source.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  const events = bytes
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream({ maxBufferSize: MAX_SSE_LINE }))
    .pipeThrough(transform)
    .getReader();

  // A rejected cancel only means the body is already gone, which is what we want.
  const onAbort = () => void source.cancel(signal.reason).catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) onAbort();
  const end = (controller: ReadableStreamDefaultController<UpstreamEvent>) => {
    signal.removeEventListener("abort", onAbort);
    controller.close();
    void events.cancel().catch(() => {});
  };

  return new ReadableStream<UpstreamEvent>(
    {
      async pull(controller) {
        let next: ReadableStreamReadResult<UpstreamEvent>;
        try {
          next = await events.read();
        } catch (error) {
          if (!signal.aborted) controller.enqueue(readFailure(error));
          return end(controller);
        }
        if (next.done || signal.aborted) return end(controller);
        controller.enqueue(next.value);
        if (next.value.type === "error" || next.value.type === "finish") end(controller);
      },
      cancel(reason) {
        signal.removeEventListener("abort", onAbort);
        return events.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** The event for a pipeline that errored: the parser's own limit, or else a lost connection. */
function readFailure(error: unknown): UpstreamEvent {
  if (error instanceof ParseError) return malformedEvent(`an SSE line over ${MAX_SSE_LINE} chars`);
  return droppedEvent();
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

/** `error.message` (or a bare `error` / `message` string) from a JSON error body. */
async function errorMessage(response: Response): Promise<string | undefined> {
  const body = parseObject(await readPrefix(response, MAX_ERROR_BODY));
  return (
    readString(readObject(body, "error"), "message") ??
    readString(body, "error") ??
    readString(body, "message")
  );
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

/**
 * Starts an upstream HTTP call and hands its SSE body to `sseEvents` (sse-events.ts); every
 * failure to start gets one of our error codes.
 */

import * as v from "valibot";
import { SluiceError } from "../errors.ts";
import { parseRetryAfter, UpstreamFailure } from "./retry-policy.ts";
import { type EventTransform, sseEvents } from "./sse-events.ts";
import type { UpstreamEvents, UpstreamRequest } from "./types.ts";
import { ErrorField, parseObject, readWith, Text, truncate } from "./wire.ts";

/** The part of `fetch` we use; tests pass a stub instead of the network. */
export type FetchLike = (request: Request, init: { signal: AbortSignal }) => Promise<Response>;

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

/**
 * `fetchUpstream`, then its body through `transform`, as `sseEvents` describes (its deltas
 * joined within `coalesceMs`).
 */
export async function streamUpstream(
  request: Request,
  transform: EventTransform,
  { signal, onActivity }: UpstreamRequest,
  fetcher?: FetchLike,
  coalesceMs?: number,
): Promise<UpstreamEvents> {
  const response = await fetchUpstream(request, signal, fetcher);
  if (!response.body) throw new SluiceError("upstream_malformed", "The upstream sent no body");
  return sseEvents(response.body, transform, signal, onActivity, coalesceMs);
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

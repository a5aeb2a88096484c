/** Reading upstream JSON without casts, and the events a transform emits when the wire fails. */
import type { UpstreamEvent } from "./types.ts";

/** A parsed JSON object whose fields have not been checked yet. */
export type JsonObject = Record<string, unknown>;

/** Longest piece of an upstream's own error message we pass on to a client. */
export const MAX_UPSTREAM_MESSAGE = 200;

/** Whether `value` is a JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses `text` as JSON and returns it only if it is an object; anything else is `undefined`. */
export function parseObject(text: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** `object[key]` if it is a string. */
export function readString(object: JsonObject | undefined, key: string): string | undefined {
  const value = object?.[key];
  return typeof value === "string" ? value : undefined;
}

/** `object[key]` if it is a finite, non-negative number (token counts are never negative). */
export function readCount(object: JsonObject | undefined, key: string): number | undefined {
  const value = object?.[key];
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** `object[key]` if it is an object. */
export function readObject(object: JsonObject | undefined, key: string): JsonObject | undefined {
  const value = object?.[key];
  return isObject(value) ? value : undefined;
}

/** The first element of the array `object[key]`, if it is an object. */
export function readFirst(object: JsonObject | undefined, key: string): JsonObject | undefined {
  const value = object?.[key];
  if (!Array.isArray(value)) return undefined;
  const first: unknown = value[0];
  return isObject(first) ? first : undefined;
}

/** `text` cut to `max` characters, marking the cut, so an upstream cannot flood our errors. */
export function truncate(text: string, max = MAX_UPSTREAM_MESSAGE): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The message of `upstream_dropped`. */
export const DROPPED_MESSAGE = "The upstream closed the stream before it finished";

/** The upstream closed (or lost) the connection before its end-of-stream marker. */
export function droppedEvent(): UpstreamEvent {
  return { type: "error", code: "upstream_dropped", message: DROPPED_MESSAGE };
}

/** The upstream sent something that is not the protocol it speaks; `what` says what it was. */
export function malformedEvent(what: string): UpstreamEvent {
  return { type: "error", code: "upstream_malformed", message: `The upstream sent ${what}` };
}

/** The upstream reported a failure inside the stream, after answering HTTP 2xx. */
export function upstreamErrorEvent(detail: string | undefined): UpstreamEvent {
  const message = detail
    ? `The upstream failed mid-stream: ${truncate(detail)}`
    : "The upstream failed mid-stream without saying why";
  return { type: "error", code: "upstream_error", message };
}

/**
 * Thrown inside a transform when the upstream broke its protocol; the transform catches it,
 * emits `malformedEvent(what)` and reads nothing more. `what` completes "The upstream sent ...".
 */
export class UpstreamMalformed extends Error {
  readonly what: string;

  constructor(what: string) {
    super(`The upstream sent ${what}`);
    this.name = "UpstreamMalformed";
    this.what = what;
  }
}

/** `text` if it is a non-empty string; empty strings mean "nothing" in every delta format we read. */
export function nonEmpty(text: string | undefined): string | undefined {
  return text === "" ? undefined : text;
}

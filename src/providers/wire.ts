/** Reading upstream JSON through valibot schemas, and the events a transform emits when the wire fails. */
import * as v from "valibot";
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

/**
 * A field read when it has the right type and ignored otherwise: upstreams add and change
 * fields, and a field of the wrong type must not end an answer that is fine. `null` (what
 * Chat Completions sends for "none", e.g. `finish_reason` on every chunk but the last) passes
 * as `null` without a failed check: on the hot path a failure's issue costs microseconds.
 */
export function lenient<T extends v.GenericSchema>(schema: T) {
  return v.fallback(v.nullish(schema), undefined);
}

/** A string field, ignored when it is anything else. */
export const Text = lenient(v.string());

/** A token count: a finite, non-negative number (counts are never negative), else ignored. */
export const Count = lenient(
  v.custom<number>(
    (value) => typeof value === "number" && Number.isFinite(value) && value >= 0,
    "a token count that is not a non-negative number",
  ),
);

/** Whether `value` is an array position: a non-negative integer. */
export function isIndex(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

/**
 * Any value read as `undefined`: what a field of the wrong type becomes. (A check that always
 * fails, falling back: valibot's `undefined()` would add its code for this one use.)
 */
const NOTHING = v.fallback(
  v.custom<undefined>(() => false),
  undefined,
);

/**
 * A nested value read with `schema` when `is` says it is of its kind (by default a JSON
 * object, not an array, as `isObject` says); of another kind it is `undefined`, and absent or
 * `null` it stays so. Unlike `lenient(schema)`, a value of the right kind whose own strict fields
 * fail keeps the failure: that is the upstream breaking its protocol.
 */
export function nested<T extends v.GenericSchema>(
  schema: T,
  is: (value: unknown) => boolean = isObject,
): v.GenericSchema<unknown, v.InferOutput<T> | undefined> {
  return v.optional(
    v.lazy(
      (value): v.GenericSchema<unknown, v.InferOutput<T> | undefined> =>
        is(value) ? schema : NOTHING,
    ),
  );
}

/** `schema` for a value that must be a JSON object; anything else fails with `message`. */
export function objectOnly<T extends v.GenericSchema>(
  schema: T,
  message: string,
): v.GenericSchema<unknown, v.InferOutput<T>> {
  // valibot's `never()`, as a custom check the bundle already has the code of.
  const refused = v.custom<never>(() => false, message);
  return v.lazy(
    (value): v.GenericSchema<unknown, v.InferOutput<T>> => (isObject(value) ? schema : refused),
  );
}

const ERROR_TEXT = v.string();
const ERROR_OBJECT = v.fallback(v.object({ message: Text }), {});

/**
 * An `error` field: a string, or an object whose `message` is read; any other value reads as
 * an object without a message (there was an error, it just does not say what).
 */
export const ErrorField = v.nullish(
  v.lazy(
    (value): v.GenericSchema<unknown, string | { message?: string | null | undefined }> =>
      typeof value === "string" ? ERROR_TEXT : ERROR_OBJECT,
  ),
);

/** A JSON object as such, unread: kept whole (e.g. tool input to write back as JSON). */
export const AnyObject = lenient(v.custom<JsonObject>(isObject));

/**
 * `value` read with `schema`, or `UpstreamMalformed` with the message of the first issue:
 * every schema that can fail on upstream data gives a message that completes "The upstream
 * sent ..." and names the field, e.g. "tool_calls that is not an array".
 */
export function readWith<T extends v.GenericSchema>(schema: T, value: unknown): v.InferOutput<T> {
  // No config: valibot then reuses its default one instead of building one per chunk.
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  throw new UpstreamMalformed(result.issues[0].message);
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
export function nonEmpty(text: string | null | undefined): string | undefined {
  return text === "" || text === null ? undefined : text;
}

/** Schemas of what a client puts in a URL or a small frame field: sequence numbers, list pages, settings. */
import * as v from "valibot";
import { decodeCursor } from "../directory/cursor.ts";
import { SluiceError } from "../errors.ts";
import { LIST_LIMITS, type ListRequest, type SessionOptions } from "../protocol.ts";
import { integerIn, matching, oneOf } from "./fields.ts";
import { parseWith } from "./issues.ts";

const SEQ_MESSAGE = "must be a sequence number (an integer >= 0).";

/** A sequence number given as a JSON number (`resume`'s `after`). */
export const seqNumber = integerIn(0, undefined, SEQ_MESSAGE);

const seqText = v.pipe(matching(/^\d{1,15}$/, SEQ_MESSAGE), v.transform(Number));

/** Parses a sequence number given as text (`?after=`, `Last-Event-ID`). */
export function parseSeq(text: string, field: string): number {
  return parseWith(seqText, text, "invalid_request", field);
}

const LIMIT_MESSAGE = "must be an integer >= 1.";

/** A page's `limit` as a JSON number: 1 to 100. */
export const listLimit = v.pipe(
  integerIn(1, undefined, LIMIT_MESSAGE),
  v.check(
    (limit) => limit <= LIST_LIMITS.max,
    (issue) => `is ${issue.input}; the most is ${LIST_LIMITS.max}.`,
  ),
);

const limitText = v.pipe(matching(/^\d{1,6}$/, LIMIT_MESSAGE), v.transform(Number), listLimit);

const cursorText = v.string("must be a string.");

/**
 * Parses a request for a page of the chat list: `limit` (1-100, default 20) and the `cursor`
 * of the previous page, given as `?limit=&cursor=` text or as the `list` frame's fields.
 */
export function parseListRequest(limit: string | number | undefined, after?: string): ListRequest {
  const count =
    limit === undefined
      ? LIST_LIMITS.default
      : parseWith(
          typeof limit === "number" ? listLimit : limitText,
          limit,
          "invalid_request",
          "limit",
        );
  if (after === undefined) return { limit: count };
  const cursor = decodeCursor(parseWith(cursorText, after, "invalid_request", "cursor"));
  if (cursor) return { limit: count, cursor };
  throw new SluiceError(
    "invalid_request",
    `"cursor" is not one this relay handed out; pass the previous page's cursor unchanged.`,
  );
}

const onAbandon = v.nullish(oneOf(["continue", "cancel"]), "continue");

/** Parses the optional `onAbandon` setting of a new session (query parameter or JSON field). */
export function parseOnAbandon(value: unknown): SessionOptions {
  return { onAbandon: parseWith(onAbandon, value, "invalid_request", "onAbandon") };
}

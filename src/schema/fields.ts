/** Schema pieces every edge shares: JSON objects whose missing fields name themselves, numbers in bounds. */
import * as v from "valibot";
import { pathStep } from "./issues.ts";
import { isRecord } from "./json-object.ts";

/** A field's own message, for the issue valibot raises when the field is missing. */
function ownMessage(schema: v.GenericSchema | undefined): string | undefined {
  return schema && "message" in schema && typeof schema.message === "string"
    ? schema.message
    : undefined;
}

/**
 * `v.object` (unknown keys dropped) whose missing fields get their own message (`"body" must
 * be an object.`, else "is missing."), and `message` when the value is not an object. Arrays
 * pass valibot's object check: use it as is only on a value known to be a record (a variant's
 * options), else `object`.
 */
export function keyed<const E extends v.ObjectEntries>(entries: E, message: string) {
  return v.object(entries, (issue) => {
    const key = issue.path?.[0]?.key;
    return typeof key === "string" ? (ownMessage(entries[key]) ?? "is missing.") : message;
  });
}

/** A JSON object (arrays refused) read by `keyed`. */
export function object<const E extends v.ObjectEntries>(entries: E, message: string) {
  return v.pipe(record(message), keyed(entries, message));
}

/**
 * The value checked by `shape`, kept as it came (unknown keys and all, where `v.object` would
 * drop them): a JSON Schema goes upstream unchanged.
 */
export function checkedBy<T>(shape: v.GenericSchema) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    const result = v.safeParse(shape, dataset.value, { abortEarly: true });
    const issue = result.issues?.[0];
    if (issue) addIssue({ message: issue.message, path: issue.path });
  });
}

/** A string matching `pattern`, with `message` when it does not. */
export function matching(pattern: RegExp, message: string) {
  return v.pipe(
    v.string(message),
    v.check((text) => pattern.test(text), message),
  );
}

/** Refuses a key `entries` does not have, with `message(key)` naming it: a closed set of keys. */
export function onlyKeys(entries: object, message: (key: string) => string) {
  return v.rawCheck<Record<string, unknown>>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const key = Object.keys(dataset.value).find((name) => !Object.hasOwn(entries, name));
    if (key === undefined) return;
    addIssue({ message: message(key), path: [pathStep(key, "key")] });
  });
}

/** `items` as a list in words: `a, b or c`. */
export function listed(items: readonly string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(", ")} or ${items.at(-1)}` : `${items[0]}`;
}

/** One of `options`, refused with `must be "a", "b" or "c".` (the message names them all). */
export function oneOf<const T extends readonly string[]>(options: T) {
  return v.picklist(options, `must be ${listed(options.map((option) => `"${option}"`))}.`);
}

/** A JSON object, any keys. */
export function record(message: string) {
  return v.custom<Record<string, unknown>>(isRecord, message);
}

/**
 * A number (or a boolean), with `message` when it is something else. A custom check, not
 * valibot's `number()` / `boolean()`: their code is 0.2 KiB each of bundle for a `typeof`.
 */
export function number(message: string) {
  return v.custom<number>((value) => typeof value === "number", message);
}

/** See `number`. */
export function boolean(message: string) {
  return v.custom<boolean>((value) => typeof value === "boolean", message);
}

/** A finite number from `min` to `max`. */
export function numberIn(min: number, max: number) {
  const message = `must be a number from ${min} to ${max}.`;
  return v.pipe(
    number(message),
    v.check((n) => Number.isFinite(n) && n >= min && n <= max, message),
  );
}

/** A safe integer of at least `min` (and at most `max`, when there is one). */
export function integerIn(min: number, max?: number, message?: string) {
  const bound = max === undefined ? `>= ${min}` : `from ${min} to ${max}`;
  const text = message ?? `must be an integer ${bound}.`;
  const top = max ?? Number.MAX_SAFE_INTEGER;
  return v.pipe(
    number(text),
    v.check((n) => Number.isSafeInteger(n) && n >= min && n <= top, text),
  );
}

/** A string, with `message` when it is not one. */
export function text(message = "must be a string.") {
  return v.string(message);
}

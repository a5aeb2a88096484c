/** The one adapter from valibot's issues to SluiceError: the first issue, naming its field. */
import * as v from "valibot";
import { type ErrorCode, isErrorCode, SluiceError } from "../errors.ts";

// Mark messages made by `coded` and `whole`; never part of our own texts.
const CODE = "\u001f";
const WHOLE = "\u001e";

/** A message whose issue has its own code (`prompt_empty`, `model_not_allowed`, ...). */
export function coded(code: ErrorCode, text: string): string {
  return `${code}${CODE}${text}`;
}

/** A message that names its field itself (`The chat "id" must be ...`): no path is put before it. */
export function whole(text: string): string {
  return `${WHOLE}${text}`;
}

/**
 * A path step to `key`, for a check that raises an issue of its own. Our messages read only a
 * path's keys (`pathOf`), so a step records no input or value.
 */
export function pathStep(key: string, origin: "key" | "value" = "value"): v.ObjectPathItem {
  return { type: "object", origin, input: {}, key, value: undefined };
}

/** See `pathStep`: the step to item `key` of an array. */
export function indexStep(key: number): v.ArrayPathItem {
  return { type: "array", origin: "value", input: [], key, value: undefined };
}

/** The field an issue is about, as a client writes it (`tools[0].function.name`), under `root`. */
export function pathOf(issue: v.BaseIssue<unknown>, root = ""): string {
  let path = root;
  for (const { key } of issue.path ?? []) {
    if (typeof key === "number") path += `[${key}]`;
    else path += path === "" ? String(key) : `.${String(key)}`;
  }
  return path;
}

/**
 * An issue as the error a client sees: `"<field>" <message>` with the code `code`, unless the
 * message was `coded` (its own code) or `whole` (no field put before it).
 */
export function issueError(issue: v.BaseIssue<unknown>, code: ErrorCode, root = ""): SluiceError {
  let text = issue.message;
  const cut = text.indexOf(CODE);
  const head = text.slice(0, cut);
  if (cut > 0 && isErrorCode(head)) {
    code = head;
    text = text.slice(cut + 1);
  }
  if (text.startsWith(WHOLE)) return new SluiceError(code, text.slice(WHOLE.length));
  const path = pathOf(issue, root);
  return new SluiceError(code, path === "" ? text : `"${path}" ${text}`);
}

/**
 * `input` checked by `schema`: its output, or the first issue as a SluiceError (`code`, the
 * field named under `root`, e.g. `"body.tools"`).
 */
export function parseWith<const S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  code: ErrorCode,
  root = "",
): v.InferOutput<S> {
  const result = v.safeParse(schema, input, { abortEarly: true });
  if (result.success) return result.output;
  throw issueError(result.issues[0], code, root);
}

/** The schemas of the texts a user types: a prompt and a chat title. */
import * as v from "valibot";
import { checkTitle } from "../directory/chat-text.ts";
import { LIMITS } from "../protocol.ts";
import { coded, parseWith, whole } from "./issues.ts";

/** A prompt: a string, not blank (`prompt_empty`), at most 32,000 characters (`prompt_too_large`). */
const promptText = v.pipe(
  v.string("must be a string."),
  v.check((text) => text.trim() !== "", coded("prompt_empty", "is empty.")),
  v.check(
    (text) => text.length <= LIMITS.promptChars,
    (issue) =>
      coded(
        "prompt_too_large",
        `has ${issue.input.length} characters; the limit is ${LIMITS.promptChars}.`,
      ),
  ),
);

/** Checks a prompt's text; returns it unchanged or throws the error the client should see. */
export function checkPrompt(value: unknown, field: string): string {
  return parseWith(promptText, value, "invalid_request", field);
}

/** A title a user chose: one line, trimmed, bounded (the rules of `checkTitle`, shared with the client). */
const titleText = v.pipe(
  v.string("must be a string."),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const checked = checkTitle(dataset.value);
    if ("title" in checked) return checked.title;
    addIssue({ message: whole(checked.problem) });
    return NEVER;
  }),
);

/** A title a user chose, checked (one line, trimmed, bounded), or `invalid_request`. */
export function parseTitle(value: unknown): string {
  return parseWith(titleText, value, "invalid_request", "title");
}

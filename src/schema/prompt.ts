/** The schemas of the texts a user types: a prompt and a chat title. */
import * as v from "valibot";
import { checkTitle } from "../directory/chat-text.ts";
import { SluiceError } from "../errors.ts";
import { LIMITS } from "../protocol.ts";
import { coded, parseWith } from "./issues.ts";

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

const titleString = v.string("must be a string.");

/**
 * A title a user chose, checked (one line, trimmed, bounded: the rules of `checkTitle`, shared
 * with the client), or `invalid_request`.
 */
export function parseTitle(value: unknown): string {
  const checked = checkTitle(parseWith(titleString, value, "invalid_request", "title"));
  if ("title" in checked) return checked.title;
  // The problem names the title itself.
  throw new SluiceError("invalid_request", checked.problem);
}

/**
 * The short texts of a chat list: a title taken from the first prompt, a preview of the last
 * message, and the check of a title a user chose. Pure, and shared with the browser client.
 */

/** Characters of a title taken from the first prompt (cut on a word boundary). */
export const AUTO_TITLE_CHARS = 80;
/** Characters of a title set by `PATCH /sessions/:id` or a `rename` frame. */
export const TITLE_CHARS = 120;
/** Characters of a chat's preview of its last message. */
export const PREVIEW_CHARS = 120;

// Any C0/C1 control or line/paragraph separator left after whitespace is collapsed.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** One line: runs of whitespace (newlines included) become one space, ends trimmed. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** The first `max` UTF-16 units of `text`, never splitting a surrogate pair. */
function head(text: string, max: number): string {
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/**
 * `text` on one line and at most `max` characters: a longer one is cut at its last space in
 * the second half of the limit (else mid-word) and ends with "…".
 */
export function shorten(text: string, max: number): string {
  const line = oneLine(text);
  if (line.length <= max) return line;
  const cut = head(line, max - 1);
  const space = cut.lastIndexOf(" ");
  return `${space >= max / 2 ? cut.slice(0, space) : cut}…`;
}

/** The title of a chat nobody named: its first prompt, shortened; undefined without one. */
export function titleFromPrompt(prompt: string | undefined): string | undefined {
  if (prompt === undefined) return undefined;
  const title = shorten(prompt, AUTO_TITLE_CHARS);
  return title === "" ? undefined : title;
}

/** Why `value` cannot be a title, or the title itself (on one line, trimmed). */
export function checkTitle(value: unknown): { title: string } | { problem: string } {
  if (typeof value !== "string") return { problem: '"title" must be a string.' };
  const title = oneLine(value);
  if (title === "") return { problem: '"title" is empty.' };
  if (title.length > TITLE_CHARS) {
    return {
      problem: `"title" has ${title.length} characters; the limit is ${TITLE_CHARS}.`,
    };
  }
  if (CONTROL.test(title)) return { problem: '"title" holds a control character.' };
  return { title };
}

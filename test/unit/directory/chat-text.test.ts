// The chat list's texts: titles from first prompts, previews, chosen titles, and cursors.
import { describe, expect, it } from "vitest";
import {
  AUTO_TITLE_CHARS,
  checkTitle,
  shorten,
  TITLE_CHARS,
  titleFromPrompt,
} from "../../../src/directory/chat-text.ts";
import { decodeCursor, encodeCursor } from "../../../src/directory/cursor.ts";

const SESSION = "0123456789abcdef0123456789abcdef";

describe("titleFromPrompt", () => {
  it.each([
    ["a short prompt as it is", "Plan a trip", "Plan a trip"],
    ["trimmed and on one line", "  Plan\n\n a   trip \t", "Plan a trip"],
    ["exactly the limit", "x".repeat(AUTO_TITLE_CHARS), "x".repeat(AUTO_TITLE_CHARS)],
    ["cut on a word boundary", `${"word ".repeat(30)}`, `${"word ".repeat(15).trim()}…`],
    ["cut mid-word without a late space", "y".repeat(200), `${"y".repeat(AUTO_TITLE_CHARS - 1)}…`],
  ])("%s", (_, prompt, title) => {
    expect(titleFromPrompt(prompt)).toBe(title);
    expect(titleFromPrompt(prompt)?.length).toBeLessThanOrEqual(AUTO_TITLE_CHARS);
  });

  it("is undefined for no prompt or a blank one", () => {
    expect(titleFromPrompt(undefined)).toBeUndefined();
    expect(titleFromPrompt(" \n ")).toBeUndefined();
  });

  it("never splits a surrogate pair", () => {
    const title = shorten(`${"a".repeat(78)}😀😀😀`, 80);
    expect(title).toBe(`${"a".repeat(78)}…`);
    expect(shorten(`${"a".repeat(77)}😀😀😀`, 80)).toBe(`${"a".repeat(77)}😀…`);
  });
});

describe("checkTitle", () => {
  it("trims and joins lines", () => {
    expect(checkTitle("  Trip\n to  Lisbon ")).toEqual({ title: "Trip to Lisbon" });
    expect(checkTitle("x".repeat(TITLE_CHARS))).toEqual({ title: "x".repeat(TITLE_CHARS) });
  });

  it.each([
    ["a number", 5, /string/],
    ["null", null, /string/],
    ["empty", "", /empty/],
    ["blank", " \n\t ", /empty/],
    ["too long", "x".repeat(TITLE_CHARS + 1), /121 characters; the limit is 120/],
    ["a control character", "a\u0007b", /control/],
    ["a C1 control", "a\u0085b".replace("\u0085", "\u0090"), /control/],
  ])("refuses %s", (_, value, problem) => {
    const checked = checkTitle(value);
    expect("problem" in checked && checked.problem).toMatch(problem);
  });
});

describe("the list cursor", () => {
  it("round-trips and is opaque URL-safe text", () => {
    const cursor = { at: 1_764_000_000_123, session: SESSION };
    const text = encodeCursor(cursor);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text)).toEqual(cursor);
  });

  it.each([
    ["empty", ""],
    ["not base64url", "a+b/c="],
    ["not a cursor", btoa("hello").replace(/=+$/, "")],
    ["a bad session id", btoa(`12.${"z".repeat(32)}`).replace(/=+$/, "")],
    ["a negative time", btoa(`-12.${SESSION}`).replace(/=+$/, "")],
    ["too long", "a".repeat(81)],
  ])("refuses %s", (_, text) => {
    expect(decodeCursor(text)).toBeUndefined();
  });
});

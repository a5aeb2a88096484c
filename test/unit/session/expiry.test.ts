// SESSION_TTL_DAYS as the session reads it: a default, fractional days, 0 for never.
import { describe, expect, it } from "vitest";
import { DEFAULT_TTL_DAYS, expiresAt, sessionTtlMs } from "../../../src/session/expiry.ts";

const DAY = 86_400_000;

describe("sessionTtlMs", () => {
  it.each([
    ["unset", undefined, DEFAULT_TTL_DAYS * DAY],
    ["blank", " ", DEFAULT_TTL_DAYS * DAY],
    ["whole days", "7", 7 * DAY],
    ["fractional days (tests)", String(1_500 / DAY), 1_500],
    ["0 (never)", "0", undefined],
    ["not a number (the default, with a warning)", "soon", DEFAULT_TTL_DAYS * DAY],
    ["negative (the default)", "-1", DEFAULT_TTL_DAYS * DAY],
  ])("%s", (_, value, ms) => {
    expect(sessionTtlMs({ SESSION_TTL_DAYS: value })).toBe(ms);
  });

  it("puts the expiry one TTL after the last activity", () => {
    expect(expiresAt({ SESSION_TTL_DAYS: "2" }, 1_000)).toBe(1_000 + 2 * DAY);
    expect(expiresAt({ SESSION_TTL_DAYS: "0" }, 1_000)).toBeUndefined();
  });
});

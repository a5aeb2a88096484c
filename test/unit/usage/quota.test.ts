// Quotas: which is reached, when it resets (UTC), what Retry-After says, and bad settings.
import { describe, expect, it } from "vitest";
import type { Env } from "../../../src/env.ts";
import { SluiceError } from "../../../src/errors.ts";
import { quotaLimits, quotaVerdict, usageKey } from "../../../src/usage/quota.ts";

const at = (iso: string) => Date.parse(iso);
const env = (vars: Partial<Env>) => vars as Env;

describe("quotaVerdict", () => {
  it("lets a prompt through below every quota", () => {
    const now = at("2026-12-01T12:00:00Z");
    expect(quotaVerdict({ day: 99, month: 500 }, { perDay: 100, perMonth: 1000 }, now)).toBe(
      undefined,
    );
    expect(quotaVerdict({ day: 1e9, month: 1e9 }, {}, now)).toBe(undefined);
  });

  it("refuses at the daily quota until the next UTC midnight", () => {
    const now = at("2026-12-01T23:59:30.250Z");
    const error = quotaVerdict({ day: 100, month: 100 }, { perDay: 100 }, now);
    expect(error).toBeInstanceOf(SluiceError);
    expect(error).toMatchObject({
      code: "quota_exceeded",
      status: 429,
      retryAfter: 30,
      resetAt: "2026-12-02T00:00:00.000Z",
    });
    expect(error?.message).toContain("daily quota of 100 output tokens");
  });

  it("refuses at the monthly quota until the 1st of the next month, across a year end", () => {
    const now = at("2026-12-31T00:00:00Z");
    const error = quotaVerdict({ day: 0, month: 5000 }, { perDay: 100, perMonth: 5000 }, now);
    expect(error).toMatchObject({ resetAt: "2027-01-01T00:00:00.000Z", retryAfter: 86_400 });
  });

  it("names the monthly reset when both are reached (the later one)", () => {
    const now = at("2026-02-10T08:00:00Z");
    const error = quotaVerdict({ day: 200, month: 9000 }, { perDay: 100, perMonth: 9000 }, now);
    expect(error?.resetAt).toBe("2026-03-01T00:00:00.000Z");
  });

  it("never says Retry-After 0", () => {
    const now = at("2026-12-01T23:59:59.999Z");
    expect(quotaVerdict({ day: 1, month: 1 }, { perDay: 1 }, now)?.retryAfter).toBe(1);
  });
});

describe("quotaLimits", () => {
  it("reads positive integers and treats unset or blank as no quota", () => {
    expect(quotaLimits(env({ MAX_OUTPUT_TOKENS_PER_DAY: " 500 " }))).toEqual({
      perDay: 500,
      perMonth: undefined,
    });
    expect(quotaLimits(env({ MAX_OUTPUT_TOKENS_PER_MONTH: "" }))).toEqual({
      perDay: undefined,
      perMonth: undefined,
    });
  });

  it.each(["0", "-5", "1.5", "abc", "1e3x", "9007199254740993"])(
    "refuses %j with a config_error naming the variable",
    (value) => {
      expect(() => quotaLimits(env({ MAX_OUTPUT_TOKENS_PER_DAY: value }))).toThrow(
        expect.objectContaining({
          code: "config_error",
          message: expect.stringContaining("MAX_OUTPUT_TOKENS_PER_DAY"),
        }),
      );
    },
  );
});

describe("usageKey", () => {
  it("is the principal with an identity, the IP in open mode only with a quota", () => {
    expect(usageKey("tok_ab", "tok_ab", {})).toBe("tok_ab");
    expect(usageKey("usr_cd", "usr_cd", { perDay: 5 })).toBe("usr_cd");
    expect(usageKey("open", "ip:1.2.3.4", {})).toBe(undefined);
    expect(usageKey("open", "ip:1.2.3.4", { perMonth: 5 })).toBe("ip:1.2.3.4");
  });
});

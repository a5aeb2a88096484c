import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../../src/errors.ts";
import { SluiceError } from "../../../src/errors.ts";
import type { FailureDetail } from "../../../src/providers/retry-policy.ts";
import {
  allowsFallback,
  backoffMs,
  isRetryable,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  retryDelay,
  retryPolicy,
  UpstreamFailure,
  waitsTooLong,
} from "../../../src/providers/retry-policy.ts";

const failure = (code: ErrorCode, detail: FailureDetail = {}) =>
  new UpstreamFailure(code, "test", detail);
const policy = { retries: 2, baseDelayMs: 100, connectMs: 1_000, firstTokenMs: 1_000 };

describe("retryPolicy", () => {
  it("takes the documented defaults when nothing is set", () => {
    expect(retryPolicy({})).toEqual({
      retries: 2,
      baseDelayMs: 250,
      connectMs: 10_000,
      firstTokenMs: 60_000,
    });
  });

  it("reads every var, allows 0 retries and 0 ms base, caps retries at 10", () => {
    expect(
      retryPolicy({
        UPSTREAM_RETRIES: "0",
        UPSTREAM_RETRY_BASE_MS: "0",
        CONNECT_TIMEOUT_MS: "300",
        FIRST_TOKEN_TIMEOUT_MS: " 900 ",
      }),
    ).toEqual({ retries: 0, baseDelayMs: 0, connectMs: 300, firstTokenMs: 900 });
    expect(retryPolicy({ UPSTREAM_RETRIES: "1000" }).retries).toBe(10);
  });

  it.each(["", " ", "-1", "1.5", "ten", "1e3x"])("ignores the invalid value %j", (value) => {
    expect(
      retryPolicy({
        UPSTREAM_RETRIES: value,
        UPSTREAM_RETRY_BASE_MS: value,
        CONNECT_TIMEOUT_MS: value,
        FIRST_TOKEN_TIMEOUT_MS: value,
      }),
    ).toEqual(retryPolicy({}));
  });

  it("refuses a zero timeout", () => {
    expect(retryPolicy({ CONNECT_TIMEOUT_MS: "0" }).connectMs).toBe(10_000);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-11-20T12:00:00Z");

  it.each([
    ["0", 0],
    ["1", 1_000],
    [" 20 ", 20_000],
    ["Fri, 20 Nov 2026 12:00:05 GMT", 5_000],
    ["Friday, 20-Nov-26 12:00:07 GMT", 7_000],
    ["Fri Nov 20 12:00:09 2026", 9_000],
    ["Fri, 20 Nov 2026 11:00:00 GMT", 0],
  ])("reads %j as %i ms", (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });

  it.each([null, "", "soon", "-1", "1.5", "Fri, 99 Foo 2026"])("ignores %j", (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe("backoffMs", () => {
  it("doubles per retry and jitters between half and all of it", () => {
    expect([0, 0.999_999].map((r) => backoffMs(1, 250, () => r))).toEqual([125, 250]);
    expect([0, 0.999_999].map((r) => backoffMs(2, 250, () => r))).toEqual([250, 500]);
    expect([0, 0.999_999].map((r) => backoffMs(3, 250, () => r))).toEqual([500, 1_000]);
  });
});

describe("isRetryable and allowsFallback", () => {
  it.each([
    ["a 429", failure("upstream_rate_limited", { httpStatus: 429 }), true, true],
    ["a 500", failure("upstream_http", { httpStatus: 500 }), true, true],
    ["a 503", failure("upstream_http", { httpStatus: 503 }), true, true],
    ["a 408", failure("upstream_http", { httpStatus: 408 }), true, true],
    ["a refused or reset connection", failure("upstream_unreachable"), true, true],
    ["a stream dropped before any text", failure("upstream_dropped"), true, true],
    ["an error event before any text", failure("upstream_error"), true, true],
    ["a connect timeout", failure("upstream_timeout", { phase: "connect" }), true, true],
    ["a first-token timeout", failure("upstream_timeout", { phase: "first-token" }), false, true],
    ["a rejected key", failure("upstream_auth", { httpStatus: 401 }), false, true],
    ["a malformed stream", failure("upstream_malformed"), false, true],
    ["a missing setting", new SluiceError("config_error", "no key"), false, true],
    ["a 400", failure("upstream_http", { httpStatus: 400 }), false, false],
    ["a 404", failure("upstream_http", { httpStatus: 404 }), false, false],
    ["a 422", failure("upstream_http", { httpStatus: 422 }), false, false],
  ])("%s: retry %s, fallback %s", (_name, error, retry, fallback) => {
    expect(isRetryable(error)).toBe(retry);
    expect(allowsFallback(error)).toBe(fallback);
  });
});

describe("retryDelay", () => {
  it("backs off for retryable errors while retries are left", () => {
    const error = failure("upstream_http", { httpStatus: 502 });
    expect(retryDelay(error, 1, policy, () => 0)).toBe(50);
    expect(retryDelay(error, 2, policy, () => 0)).toBe(100);
    expect(retryDelay(error, 3, policy, () => 0)).toBeUndefined();
    expect(retryDelay(error, 1, { ...policy, retries: 0 })).toBeUndefined();
  });

  it("waits exactly the Retry-After instead of the backoff, up to 20 s", () => {
    const at = (ms: number) => failure("upstream_rate_limited", { retryAfterMs: ms });
    expect(retryDelay(at(1_500), 1, policy)).toBe(1_500);
    expect(retryDelay(at(MAX_RETRY_AFTER_MS), 1, policy)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryDelay(at(MAX_RETRY_AFTER_MS + 1), 1, policy)).toBeUndefined();
    expect(waitsTooLong(at(MAX_RETRY_AFTER_MS + 1))).toBe(true);
    expect(waitsTooLong(at(MAX_RETRY_AFTER_MS))).toBe(false);
  });

  it("never retries what is not retryable", () => {
    expect(retryDelay(failure("upstream_auth"), 1, policy)).toBeUndefined();
  });
});

/**
 * When a failed upstream call is tried again and how long to wait first: the rules of README
 * "Upstream faults" in one place, as pure functions of the error, so they are tested as a table.
 */
import { numberSetting } from "../config.ts";
import type { Env } from "../env.ts";
import { type ErrorCode, SluiceError } from "../errors.ts";

/** Longest Retry-After the relay honours; an upstream asking for more is not retried. */
export const MAX_RETRY_AFTER_MS = 20_000;
/** Most retries UPSTREAM_RETRIES may ask for, so a typo cannot hammer an upstream. */
const MAX_RETRIES = 10;

const DEFAULTS = {
  retries: 2,
  baseDelayMs: 250,
  connectMs: 10_000,
  firstTokenMs: 60_000,
} as const;

/** How one provider is tried; the same policy applies to the fallback. */
export interface RetryPolicy {
  /** Retries after the first attempt (UPSTREAM_RETRIES). */
  retries: number;
  /** The first retry's delay before jitter, doubled for each next one (UPSTREAM_RETRY_BASE_MS). */
  baseDelayMs: number;
  /** Longest wait from the request to the response headers (CONNECT_TIMEOUT_MS). */
  connectMs: number;
  /** Longest wait from the request to the first text, reasoning or tool call (FIRST_TOKEN_TIMEOUT_MS). */
  firstTokenMs: number;
}

/** Which of the two pre-token deadlines passed. */
export type TimeoutPhase = "connect" | "first-token";

/** What a failure tells the retry rules beyond its code; every field is optional. */
export interface FailureDetail {
  /** The upstream's HTTP status, for non-2xx answers. */
  httpStatus?: number | undefined;
  /** The upstream's Retry-After, in milliseconds from when it answered. */
  retryAfterMs?: number | undefined;
  /** For `upstream_timeout`: which deadline passed. */
  phase?: TimeoutPhase | undefined;
}

/** A failed upstream call: a SluiceError carrying what decides whether to try it again. */
export class UpstreamFailure extends SluiceError {
  readonly detail: FailureDetail;

  constructor(code: ErrorCode, message: string, detail: FailureDetail = {}) {
    super(code, message);
    this.detail = detail;
  }
}

/** The policy from Env; unset or invalid values take the README defaults. */
export function retryPolicy(
  env: Pick<
    Env,
    "UPSTREAM_RETRIES" | "UPSTREAM_RETRY_BASE_MS" | "CONNECT_TIMEOUT_MS" | "FIRST_TOKEN_TIMEOUT_MS"
  >,
): RetryPolicy {
  return {
    // A typo asking for more retries than MAX_RETRIES is cut to it, not refused.
    retries: Math.min(
      whole("UPSTREAM_RETRIES", env.UPSTREAM_RETRIES, 0, DEFAULTS.retries, "retries"),
      MAX_RETRIES,
    ),
    baseDelayMs: whole(
      "UPSTREAM_RETRY_BASE_MS",
      env.UPSTREAM_RETRY_BASE_MS,
      0,
      DEFAULTS.baseDelayMs,
    ),
    connectMs: whole("CONNECT_TIMEOUT_MS", env.CONNECT_TIMEOUT_MS, 1, DEFAULTS.connectMs),
    firstTokenMs: whole(
      "FIRST_TOKEN_TIMEOUT_MS",
      env.FIRST_TOKEN_TIMEOUT_MS,
      1,
      DEFAULTS.firstTokenMs,
    ),
  };
}

/** The var `name` as a whole number of at least `min`, else (warned once) `fallback`. */
function whole(
  name: string,
  value: string | undefined,
  min: number,
  fallback: number,
  unit = "milliseconds",
): number {
  return numberSetting(name, value, {
    default: fallback,
    min,
    integer: true,
    unit,
    invalid: "default",
  });
}

/**
 * A Retry-After header in milliseconds from `now`: delay-seconds or an HTTP date (a date in the
 * past means now). Undefined when absent or garbled, as RFC 9110 says to ignore those. Every
 * HTTP date form starts with a day name; requiring one keeps `Date.parse`, which reads "-1" or
 * "1.5" as dates, from turning a garbled value into "retry now".
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = /^[a-z]{3}/i.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The delay before retry number `retry` (1 for the first): `baseMs * 2^(retry-1)`, jittered to
 * between half and all of it, so sessions that failed together do not come back together.
 */
export function backoffMs(retry: number, baseMs: number, random: () => number = Math.random) {
  const ceiling = baseMs * 2 ** (retry - 1);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Whether trying the same upstream again may help: rate limits, 5xx and 408, lost or refused
 * connections, a stream that died or reported an error before any text, a connect timeout.
 * Not: a rejected key, other 4xx, a malformed stream, a missing setting, a first-token timeout
 * (the upstream took the request and is slow; starting over doubles the wait and the bill).
 */
export function isRetryable(error: SluiceError): boolean {
  switch (error.code) {
    case "upstream_rate_limited":
    case "upstream_unreachable":
    case "upstream_dropped":
    case "upstream_error":
      return true;
    case "upstream_timeout":
      return detailOf(error).phase === "connect";
    case "upstream_http":
      return !isClientError(error);
    default:
      return false;
  }
}

/**
 * The wait before retry number `retry` after `error`, or undefined when it is not retried: not
 * retryable, no retries left, or a Retry-After beyond MAX_RETRY_AFTER_MS. Retry-After, when
 * given, replaces the backoff: the upstream said when it will have room.
 */
export function retryDelay(
  error: SluiceError,
  retry: number,
  policy: RetryPolicy,
  random?: () => number,
): number | undefined {
  if (retry > policy.retries || !isRetryable(error)) return undefined;
  const { retryAfterMs } = detailOf(error);
  if (retryAfterMs !== undefined) {
    return retryAfterMs <= MAX_RETRY_AFTER_MS ? retryAfterMs : undefined;
  }
  return backoffMs(retry, policy.baseDelayMs, random);
}

/** Whether the upstream asked for a longer wait than the relay gives. */
export function waitsTooLong(error: SluiceError): boolean {
  const { retryAfterMs } = detailOf(error);
  return retryAfterMs !== undefined && retryAfterMs > MAX_RETRY_AFTER_MS;
}

/**
 * Whether the fallback provider is tried after the primary failed with `error`: always, except
 * for a 4xx other than 401, 403 and 429, which says the request itself is wrong and would be
 * sent to the fallback unchanged. A rejected key or a missing setting does fall back: that is
 * when a second upstream helps most (the relay logs the primary's failure).
 */
export function allowsFallback(error: SluiceError): boolean {
  return !(error.code === "upstream_http" && isClientError(error));
}

/** An `upstream_http` for a 4xx other than 408 (Request Timeout, which is worth a retry). */
function isClientError(error: SluiceError): boolean {
  const status = detailOf(error).httpStatus;
  return status !== undefined && status >= 400 && status < 500 && status !== 408;
}

function detailOf(error: SluiceError): FailureDetail {
  return error instanceof UpstreamFailure ? error.detail : {};
}

/**
 * Output-token quotas per principal (MAX_OUTPUT_TOKENS_PER_DAY, MAX_OUTPUT_TOKENS_PER_MONTH),
 * checked when a prompt arrives against the principal's usage ledger. An answer in progress is
 * never cut: the check only decides whether a new one may start.
 */
import { numberSetting } from "../config.ts";
import type { Env } from "../env.ts";
import { SluiceError } from "../errors.ts";
import type { QuotaUse } from "./usage-table.ts";
import { nextDayStart, nextMonthStart } from "./utc.ts";

/** The configured quotas; an absent one is no limit. */
export interface QuotaLimits {
  perDay?: number | undefined;
  perMonth?: number | undefined;
}

/** A quota variable as a positive integer, undefined when unset, or a `config_error`. */
function limitVar(value: string | undefined, name: string): number | undefined {
  return numberSetting(name, value, { min: 1, integer: true, unit: "tokens", invalid: "error" });
}

/** The quotas in `env`; throws `config_error` for a value that is not a positive integer. */
export function quotaLimits(env: Env): QuotaLimits {
  return {
    perDay: limitVar(env.MAX_OUTPUT_TOKENS_PER_DAY, "MAX_OUTPUT_TOKENS_PER_DAY"),
    perMonth: limitVar(env.MAX_OUTPUT_TOKENS_PER_MONTH, "MAX_OUTPUT_TOKENS_PER_MONTH"),
  };
}

/** Whether any quota is set. */
export function hasQuota(limits: QuotaLimits): boolean {
  return limits.perDay !== undefined || limits.perMonth !== undefined;
}

/**
 * Whose ledger an answer counts in (the account key, which is the limit key: for a token or a
 * user the principal's id): the principal's id; in open mode (every caller is the
 * principal `open`), the client's limit key (its IP address), and only while a quota is set,
 * since nobody can read an open-mode ledger (`GET /usage` needs an identity) and a single
 * ledger for every caller would be one object taking every answer of the relay.
 */
export function usageKey(
  principal: string,
  limitKey: string,
  limits: QuotaLimits,
): string | undefined {
  if (principal !== "open") return principal;
  return hasQuota(limits) ? limitKey : undefined;
}

/**
 * The `quota_exceeded` error when `used` reached a quota at `now`, else undefined. When both
 * are reached, the later reset is the one that matters: prompts are refused until then.
 */
export function quotaVerdict(
  used: QuotaUse,
  limits: QuotaLimits,
  now: number,
): SluiceError | undefined {
  let resetsAt: number | undefined;
  let which = "";
  if (limits.perMonth !== undefined && used.month >= limits.perMonth) {
    resetsAt = nextMonthStart(now);
    which = `monthly quota of ${limits.perMonth} output tokens`;
  } else if (limits.perDay !== undefined && used.day >= limits.perDay) {
    resetsAt = nextDayStart(now);
    which = `daily quota of ${limits.perDay} output tokens`;
  }
  if (resetsAt === undefined) return undefined;
  const resetAt = new Date(resetsAt).toISOString();
  return new SluiceError(
    "quota_exceeded",
    `You have used your ${which}; it resets at ${resetAt} (UTC).`,
    Math.max(1, Math.ceil((resetsAt - now) / 1000)),
    resetAt,
  );
}

/**
 * `GET /usage`: the caller's own token usage, from the ledger in its Account (src/usage/usage-table.ts).
 * The response shape is documented in docs/operations.md, "GET /usage".
 */
import * as v from "valibot";
import { accountOf } from "../account/stub.ts";
import type { Env } from "../env.ts";
import { SluiceError } from "../errors.ts";
import { matching, onlyKeys, record } from "../schema/fields.ts";
import { parseWith, whole } from "../schema/issues.ts";
import { quotaLimits } from "../usage/quota.ts";
import { RETAIN_DAYS, type UsageRow } from "../usage/usage-table.ts";
import { dayNumber, isoDay, monthStartDay, nextDayStart, nextMonthStart } from "../usage/utc.ts";
import type { RouteRequest } from "./sessions.ts";

/** The default number of days `GET /usage` sums, today included. */
export const DEFAULT_USAGE_DAYS = 30;

/** Token totals over some rows. */
export interface UsageTotals {
  answers: number;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

function sum(rows: readonly UsageRow[]): UsageTotals {
  const totals = { answers: 0, inputTokens: 0, outputTokens: 0, reasoningTokens: 0 };
  for (const row of rows) {
    totals.answers += row.answers;
    totals.inputTokens += row.inputTokens;
    totals.outputTokens += row.outputTokens;
    totals.reasoningTokens += row.reasoningTokens;
  }
  return totals;
}

const DAYS_MESSAGE = `must be a whole number from 1 to ${RETAIN_DAYS}.`;

const queryEntries = {
  days: v.optional(
    v.pipe(
      matching(/^\d{1,3}$/, DAYS_MESSAGE),
      v.transform(Number),
      v.check((days) => days >= 1 && days <= RETAIN_DAYS, DAYS_MESSAGE),
    ),
    String(DEFAULT_USAGE_DAYS),
  ),
  token: v.optional(v.string()),
};

const usageQuery = v.pipe(
  record("must be an object."),
  onlyKeys(queryEntries, (name) =>
    whole(`Unknown query parameter ${JSON.stringify(name)}; GET /usage takes only "days".`),
  ),
  v.object(queryEntries),
);

/** `?days=` (1 to RETAIN_DAYS, default 30); any other parameter but `token` is refused. */
export function parseUsageQuery(url: URL): number {
  return parseWith(usageQuery, Object.fromEntries(url.searchParams), "invalid_request").days;
}

/** The body of `GET /usage` from the ledger's rows, at `now`. */
export function usageBody(rows: readonly UsageRow[], days: number, now: number, env: Env) {
  const today = dayNumber(now);
  const from = today - days + 1;
  const monthFrom = monthStartDay(now);
  const inPeriod = rows.filter((row) => row.day >= from);
  const models = new Map<string, UsageRow[]>();
  const daily = new Map<number, UsageRow[]>();
  for (const row of inPeriod) {
    const key = JSON.stringify([row.provider, row.model]);
    models.set(key, [...(models.get(key) ?? []), row]);
    daily.set(row.day, [...(daily.get(row.day) ?? []), row]);
  }
  const limits = quotaLimits(env);
  return {
    today: { date: isoDay(today), ...sum(rows.filter((row) => row.day === today)) },
    period: { from: isoDay(from), to: isoDay(today), days, ...sum(inPeriod) },
    month: { from: isoDay(monthFrom), ...sum(rows.filter((row) => row.day >= monthFrom)) },
    models: [...models.values()]
      .map((group) => ({ provider: group[0]?.provider, model: group[0]?.model, ...sum(group) }))
      .sort((a, b) => b.outputTokens - a.outputTokens),
    daily: [...daily.entries()].map(([day, group]) => ({ date: isoDay(day), ...sum(group) })),
    quota: {
      outputTokensPerDay: limits.perDay ?? null,
      outputTokensPerMonth: limits.perMonth ?? null,
      dayResetsAt: new Date(nextDayStart(now)).toISOString(),
      monthResetsAt: new Date(nextMonthStart(now)).toISOString(),
    },
  };
}

/**
 * `GET /usage`. In open mode every caller is the same principal, so there is no "own" usage
 * to show: `identity_required`. (Each message in `GET /sessions/:id` still carries its usage.)
 */
export async function getUsage(request: RouteRequest, env: Env): Promise<Response> {
  if (request.principal.id === "open") {
    throw new SluiceError(
      "identity_required",
      "GET /usage needs an identity: the relay runs open (AUTH_TOKENS is not set), so callers cannot be told apart. Each message in GET /sessions/:id carries its own usage.",
    );
  }
  const days = parseUsageQuery(new URL(request.url));
  const ledger = accountOf(env, request.principal.id);
  if (!ledger) {
    throw new SluiceError(
      "config_error",
      "The ACCOUNTS Durable Object binding is missing; add it to wrangler.toml.",
    );
  }
  const now = Date.now();
  const today = dayNumber(now);
  const from = Math.min(today - days + 1, monthStartDay(now));
  const rows = await ledger.rows(from, today);
  return Response.json(usageBody(rows, days, now, env));
}

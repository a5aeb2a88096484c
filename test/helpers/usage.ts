// GET /usage and the answer log lines, read by the usage, quota and output-cap tests.
import { expect } from "vitest";
import { record } from "./record.ts";
import type { Relay } from "./relay.ts";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export interface Totals {
  answers: number;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}
export interface UsageBody {
  today: Totals & { date: string };
  period: Totals & { from: string; to: string; days: number };
  month: Totals & { from: string };
  models: Array<Totals & { provider: string; model: string }>;
  daily: Array<Totals & { date: string }>;
  quota: Record<string, unknown>;
}

/** GET /usage as `token`, recorded for the secrets scan. */
export async function usageOf(relay: Relay, token: string, query = ""): Promise<UsageBody> {
  const response = await fetch(`${relay.url}/usage${query}`, { headers: bearer(token) });
  const text = await response.text();
  record(text);
  expect(response.status).toBe(200);
  return JSON.parse(text) as UsageBody;
}

/** Polls GET /usage until today's answers reach `answers`: the ledger is written after `done`. */
export async function usageAfter(relay: Relay, token: string, answers: number): Promise<UsageBody> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const usage = await usageOf(relay, token);
    if (usage.today.answers >= answers) return usage;
    if (Date.now() > deadline) throw new Error(`usage stuck at ${usage.today.answers} answers`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The `sluice.answer` log lines the relay printed so far. */
export function answerLines(relay: Relay): Array<Record<string, unknown>> {
  return relay.logs
    .filter((line) => line.startsWith("{") && line.includes('"sluice.answer"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

// GET /usage: its query parameters, and the body built from ledger rows.
import { describe, expect, it } from "vitest";
import type { Env } from "../../../src/env.ts";
import { parseUsageQuery, usageBody } from "../../../src/routes/usage.ts";
import type { UsageRow } from "../../../src/usage/usage-table.ts";
import { dayNumber } from "../../../src/usage/utc.ts";

const url = (query: string) => new URL(`https://relay.test/usage${query}`);

describe("parseUsageQuery", () => {
  it("defaults to 30 days and takes 1 to 90", () => {
    expect(parseUsageQuery(url(""))).toBe(30);
    expect(parseUsageQuery(url("?days=1"))).toBe(1);
    expect(parseUsageQuery(url("?days=90&token=x"))).toBe(90);
  });

  it.each([
    ["?days=0", '"days" must be'],
    ["?days=91", '"days" must be'],
    ["?days=", '"days" must be'],
    ["?days=abc", '"days" must be'],
    ["?days=1.5", '"days" must be'],
    ["?days=-3", '"days" must be'],
    ["?days=0x10", '"days" must be'],
    ["?dayz=7", 'Unknown query parameter "dayz"'],
  ])("refuses %s with invalid_request", (query, text) => {
    expect(() => parseUsageQuery(url(query))).toThrow(
      expect.objectContaining({ code: "invalid_request", message: expect.stringContaining(text) }),
    );
  });
});

describe("usageBody", () => {
  const now = Date.parse("2026-12-03T10:00:00Z");
  const today = dayNumber(now);
  const row = (day: number, model: string, output: number): UsageRow => ({
    day,
    provider: "openai",
    model,
    answers: 2,
    inputTokens: 10,
    outputTokens: output,
    reasoningTokens: 1,
  });
  // Two days in November (one outside a 7-day window), two in December.
  const rows = [
    row(today - 20, "a", 100),
    row(today - 3, "a", 7),
    row(today - 1, "b", 5),
    row(today, "a", 3),
    row(today, "b", 4),
  ];

  it("sums today, the period, the month, per model and per day", () => {
    const body = usageBody(rows, 7, now, { MAX_OUTPUT_TOKENS_PER_DAY: "50" } as Env);
    expect(body.today).toEqual({
      date: "2026-12-03",
      answers: 4,
      inputTokens: 20,
      outputTokens: 7,
      reasoningTokens: 2,
    });
    expect(body.period).toMatchObject({ from: "2026-11-27", to: "2026-12-03", days: 7 });
    expect(body.period.outputTokens).toBe(19);
    expect(body.month).toMatchObject({ from: "2026-12-01", outputTokens: 12, answers: 6 });
    expect(body.models).toEqual([
      {
        provider: "openai",
        model: "a",
        answers: 4,
        inputTokens: 20,
        outputTokens: 10,
        reasoningTokens: 2,
      },
      {
        provider: "openai",
        model: "b",
        answers: 4,
        inputTokens: 20,
        outputTokens: 9,
        reasoningTokens: 2,
      },
    ]);
    expect(body.daily.map((day) => [day.date, day.outputTokens])).toEqual([
      ["2026-11-30", 7],
      ["2026-12-02", 5],
      ["2026-12-03", 7],
    ]);
    expect(body.quota).toEqual({
      outputTokensPerDay: 50,
      outputTokensPerMonth: null,
      dayResetsAt: "2026-12-04T00:00:00.000Z",
      monthResetsAt: "2027-01-01T00:00:00.000Z",
    });
  });
});

// Inside workerd, against the real usage ledger (in an Account): exact sums under concurrent records, one row
// written per answer, and a day's slot reused once it is RETAIN_DAYS old.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RETAIN_DAYS, type UsageEntry } from "../../src/usage/usage-table.ts";

const DAY_MS = 86_400_000;
const ledger = (name: string) => {
  const namespace = env.ACCOUNTS;
  if (!namespace) throw new Error("the ACCOUNTS binding is missing from wrangler.toml");
  return namespace.get(namespace.idFromName(name));
};
/** Records `usage` as an answer's end does: one `ended` call, no slot or chat row. */
const record = (stub: ReturnType<typeof ledger>, usage: UsageEntry) =>
  stub.ended({ lease: "none", usage });
const entry = (at: number, model: string, output: number): UsageEntry => ({
  at,
  provider: "demo",
  model,
  inputTokens: 3,
  outputTokens: output,
  reasoningTokens: 1,
});

describe("the usage ledger", () => {
  it("adds 50 concurrent answers exactly and writes one row for each", async () => {
    const stub = ledger("tok_concurrent");
    const now = Date.parse("2026-12-01T12:00:00Z");
    const before = (await stub.stats()).usageRows;
    const outputs = Array.from({ length: 50 }, (_, i) => i + 1);
    await Promise.all(
      outputs.map((output, i) => record(stub, entry(now + i, i % 2 ? "a" : "b", output))),
    );
    const rows = await stub.rows(0, Number.MAX_SAFE_INTEGER);
    const sum = (key: "answers" | "inputTokens" | "outputTokens" | "reasoningTokens") =>
      rows.reduce((total, row) => total + row[key], 0);
    expect(sum("answers")).toBe(50);
    expect(sum("outputTokens")).toBe(outputs.reduce((a, b) => a + b, 0));
    expect(sum("inputTokens")).toBe(150);
    expect(sum("reasoningTokens")).toBe(50);
    expect(rows.map((row) => row.model)).toEqual(["a", "b"]);
    const written = (await stub.stats()).usageRows - before;
    console.log(`usage ledger rows written for 50 answers: ${written}`);
    expect(written).toBe(50);
  });

  it("counts the day and month totals the quota reads, by UTC day", async () => {
    const stub = ledger("tok_quota_use");
    const dec1 = Date.parse("2026-12-01T00:00:00Z");
    await record(stub, entry(Date.parse("2026-11-30T23:59:59Z"), "a", 1000));
    await record(stub, entry(dec1, "a", 7));
    await record(stub, entry(dec1 + DAY_MS + 5, "a", 11));
    await record(stub, entry(dec1 + DAY_MS + 9, "b", 13));
    expect(await stub.quotaUse(dec1 + DAY_MS + 60_000)).toEqual({ day: 24, month: 31 });
    expect(await stub.quotaUse(dec1 - 1)).toEqual({ day: 1000, month: 1000 });
  });

  it(`reuses a day's slot after ${RETAIN_DAYS} days in the same one-row UPSERT`, async () => {
    const stub = ledger("tok_ring");
    const day0 = Date.parse("2026-01-01T10:00:00Z");
    await record(stub, entry(day0, "a", 5));
    await record(stub, entry(day0, "a", 5));
    const before = (await stub.stats()).usageRows;
    await record(stub, entry(day0 + RETAIN_DAYS * DAY_MS, "a", 2));
    expect((await stub.stats()).usageRows - before).toBe(1);
    const rows = await stub.rows(0, Number.MAX_SAFE_INTEGER);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ answers: 1, outputTokens: 2 });
    // A record arriving that late for the old day no longer lands anywhere.
    await record(stub, entry(day0, "a", 99));
    expect((await stub.rows(0, Number.MAX_SAFE_INTEGER))[0]).toMatchObject({ outputTokens: 2 });
  });

  it("turns odd token counts into whole non-negative numbers", async () => {
    const stub = ledger("tok_odd");
    const at = Date.parse("2026-12-01T00:00:00Z");
    await record(stub, { ...entry(at, "a", 2.7), inputTokens: -4, reasoningTokens: Number.NaN });
    expect((await stub.rows(0, Number.MAX_SAFE_INTEGER))[0]).toMatchObject({
      inputTokens: 0,
      outputTokens: 2,
      reasoningTokens: 0,
    });
  });
});

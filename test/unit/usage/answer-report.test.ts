// The answer report: tokens (reported or estimated), the log line and the data point.
import { describe, expect, it, vi } from "vitest";
import type { Env } from "../../../src/env.ts";
import {
  type AnswerReport,
  answerDataPoint,
  answerLogLine,
  answerTokens,
  reportAnswer,
  shortHash,
} from "../../../src/usage/answer-report.ts";

const report = (extra: Partial<AnswerReport> = {}): AnswerReport => ({
  route: "session",
  session: "ses_0123456789abcdef",
  messageId: "msg_1",
  principal: "tok_0123456789abcdef0123456789abcdef",
  usageKey: "tok_0123456789abcdef0123456789abcdef",
  provider: "openai",
  model: "gpt-4o-mini",
  call: { retries: 0, fallback: false, provider: "openai", model: "gpt-4o-mini" },
  status: "complete",
  errorCode: undefined,
  startedAt: 1_000,
  firstTextAt: 1_120,
  endedAt: 1_900,
  usage: { inputTokens: 11, outputTokens: 5, reasoningTokens: 2 },
  answerChars: 20,
  contextChars: 400,
  ...extra,
});

describe("answerTokens", () => {
  it("takes the upstream's usage", () => {
    expect(answerTokens(report())).toEqual({
      inputTokens: 11,
      outputTokens: 5,
      reasoningTokens: 2,
      estimated: false,
    });
  });

  it("estimates 4 characters a token when the upstream reported none (a cancel)", () => {
    expect(answerTokens(report({ usage: undefined, status: "cancelled", answerChars: 9 }))).toEqual(
      { inputTokens: 100, outputTokens: 3, reasoningTokens: 0, estimated: true },
    );
  });

  it("counts nothing for a call no upstream accepted", () => {
    const failed = report({
      usage: undefined,
      status: "error",
      answerChars: 0,
      firstTextAt: undefined,
      call: { retries: 2, fallback: false },
    });
    expect(answerTokens(failed)).toMatchObject({ inputTokens: 0, outputTokens: 0 });
  });
});

describe("answerLogLine", () => {
  it("has every field, with the session and principal hashed", async () => {
    const line = await answerLogLine(report(), answerTokens(report()));
    expect(line).toEqual({
      event: "sluice.answer",
      route: "session",
      session: await shortHash("ses_0123456789abcdef"),
      messageId: "msg_1",
      principal: await shortHash("tok_0123456789abcdef0123456789abcdef"),
      provider: "openai",
      model: "gpt-4o-mini",
      status: "complete",
      errorCode: null,
      ttftMs: 120,
      durationMs: 900,
      inputTokens: 11,
      outputTokens: 5,
      reasoningTokens: 2,
      usageEstimated: false,
      retries: 0,
      fallback: false,
    });
    expect(line.principal).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(line)).not.toContain("0123456789abcdef0123");
  });

  it("names the fallback that answered, and no time to first token without text", async () => {
    const fallen = report({
      call: { retries: 3, fallback: true, provider: "demo", model: "sluice-demo" },
      firstTextAt: undefined,
      status: "error",
      errorCode: "upstream_timeout",
    });
    const line = await answerLogLine(fallen, answerTokens(fallen));
    expect(line).toMatchObject({
      provider: "demo",
      model: "sluice-demo",
      retries: 3,
      fallback: true,
      ttftMs: null,
      errorCode: "upstream_timeout",
    });
    expect(answerDataPoint(line)).toEqual({
      indexes: [line.principal],
      blobs: ["demo", "sluice-demo", "error", "upstream_timeout", "session"],
      doubles: [1, -1, 900, 11, 5, 2, 3, 1, 1],
    });
  });
});

describe("reportAnswer", () => {
  it("never rejects: a failing account and dataset are logged, and the line is still written", async () => {
    const logs: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((line: string) => logs.push(line));
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const broken = {
      ACCOUNTS: {
        idFromName: (name: string) => name,
        get: () => ({ ended: () => Promise.reject(new Error("account down")) }),
      },
      METRICS: {
        writeDataPoint: () => {
          throw new Error("dataset down");
        },
      },
    } as unknown as Env;
    try {
      const end = { limitKey: "tok_a", lease: "msg_1" };
      await expect(reportAnswer(broken, report(), end)).resolves.toBe(undefined);
      expect(logs).toHaveLength(1);
      expect(JSON.parse(logs[0] ?? "")).toMatchObject({
        event: "sluice.answer",
        messageId: "msg_1",
      });
      expect(error.mock.calls.map((call) => String(call[0])).sort()).toEqual([
        "ending the answer in its account failed:",
        "metrics data point failed:",
      ]);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  });
});

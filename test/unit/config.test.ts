// numberSetting: every numeric var's default, bounds and message, and the vars that use it.
import { describe, expect, it, vi } from "vitest";
import { describe as describeRule, type NumberRule, numberSetting } from "../../src/config.ts";
import { outputCap } from "../../src/providers/config.ts";
import { retryPolicy } from "../../src/providers/retry-policy.ts";
import { COALESCE_MS, coalesceWindow } from "../../src/providers/sse-events.ts";
import { contextBudget } from "../../src/session/context.ts";
import { stallTimeout } from "../../src/streams/stall-watchdog.ts";

const POSITIVE: NumberRule = { min: 1, integer: true, unit: "tokens", invalid: "error" };
const RANGE: NumberRule = { default: 5, min: 0, max: 10, integer: true, invalid: "error" };
const TUNING: NumberRule = { default: 7, min: 0, unit: "days", invalid: "default" };

describe("numberSetting", () => {
  it.each<[string, string | undefined, NumberRule, number | undefined]>([
    ["unset, no default", undefined, POSITIVE, undefined],
    ["blank, no default", "  ", POSITIVE, undefined],
    ["unset, a default", undefined, RANGE, 5],
    ["a whole number", "42", POSITIVE, 42],
    ["surrounding spaces", " 42 ", POSITIVE, 42],
    ["exponent form", "1e3", POSITIVE, 1000],
    ["the lower bound", "0", RANGE, 0],
    ["the upper bound", "10", RANGE, 10],
    ["a fraction where fractions are fine", "1.5", TUNING, 1.5],
    ["not a number, falling back", "soon", TUNING, 7],
    ["negative, falling back", "-1", TUNING, 7],
    ["infinite, falling back", "Infinity", TUNING, 7],
  ])("reads %s", (_name, value, rule, expected) => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(numberSetting("SOME_VAR", value, rule)).toBe(expected);
    warn.mockRestore();
  });

  it.each<[string, string, NumberRule, string]>([
    ["zero", "0", POSITIVE, "SOME_VAR must be a positive whole number of tokens."],
    ["a fraction", "2.5", POSITIVE, "SOME_VAR must be a positive whole number of tokens."],
    ["not a number", "many", POSITIVE, "SOME_VAR must be a positive whole number of tokens."],
    ["over the top", "11", RANGE, "SOME_VAR must be a whole number from 0 to 10."],
    ["under the bottom", "-1", RANGE, "SOME_VAR must be a whole number from 0 to 10."],
    ["beyond safe integers", "1e300", RANGE, "SOME_VAR must be a whole number from 0 to 10."],
  ])("refuses %s with config_error naming the var", (_name, value, rule, message) => {
    expect(() => numberSetting("SOME_VAR", value, rule)).toThrow(
      expect.objectContaining({ code: "config_error", message }),
    );
  });

  it("warns once per var, in one format, without the value", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    numberSetting("ONCE_VAR", "bad-1", TUNING);
    numberSetting("ONCE_VAR", "bad-2", TUNING);
    expect(warn.mock.calls).toEqual([["ONCE_VAR must be a non-negative number of days; using 7."]]);
    warn.mockRestore();
  });

  it.each<[NumberRule, string]>([
    [{ invalid: "error" }, "a number"],
    [{ integer: true, invalid: "error" }, "a whole number"],
    [{ min: 0, unit: "milliseconds", invalid: "error" }, "a non-negative number of milliseconds"],
    [{ min: 1, integer: true, invalid: "error" }, "a positive whole number"],
    [{ min: 3, integer: true, invalid: "error" }, "a whole number of at least 3"],
    [
      { min: 0, max: 600_000, integer: true, unit: "milliseconds", invalid: "error" },
      "a whole number of milliseconds from 0 to 600000",
    ],
  ])("describes %o as %s", (rule, text) => {
    expect(describeRule(rule)).toBe(text);
  });
});

describe("the vars read with it keep their defaults and bounds", () => {
  it.each<[string, () => unknown, unknown]>([
    ["MAX_OUTPUT_TOKENS unset", () => outputCap(undefined), undefined],
    ["MAX_OUTPUT_TOKENS 100", () => outputCap("100"), 100],
    ["CONTEXT_BUDGET_CHARS unset", () => contextBudget(undefined), 60_000],
    ["CONTEXT_BUDGET_CHARS 0", () => contextBudget("0"), 60_000],
    ["CONTEXT_BUDGET_CHARS 500", () => contextBudget("500"), 500],
    ["DELTA_COALESCE_MS unset", () => coalesceWindow(undefined), COALESCE_MS],
    ["DELTA_COALESCE_MS 0 (off)", () => coalesceWindow("0"), 0],
    ["DELTA_COALESCE_MS 16", () => coalesceWindow("16"), 16],
    ["DELTA_COALESCE_MS over 1000", () => coalesceWindow("5000"), COALESCE_MS],
    ["STALL_TIMEOUT_MS unset", () => stallTimeout(undefined), 60_000],
    ["STALL_TIMEOUT_MS 1.5", () => stallTimeout("1.5"), 60_000],
    ["STALL_TIMEOUT_MS 250", () => stallTimeout("250"), 250],
    [
      "the retry policy unset",
      () => retryPolicy({}),
      { retries: 2, baseDelayMs: 250, connectMs: 10_000, firstTokenMs: 60_000 },
    ],
    [
      "the retry policy, retries over ten cut to ten, a zero timeout ignored",
      () => retryPolicy({ UPSTREAM_RETRIES: "50", CONNECT_TIMEOUT_MS: "0" }),
      { retries: 10, baseDelayMs: 250, connectMs: 10_000, firstTokenMs: 60_000 },
    ],
  ])("%s", (_name, read, expected) => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(read()).toEqual(expected);
    warn.mockRestore();
  });

  it("refuses a MAX_OUTPUT_TOKENS that is not a positive whole number, as before", () => {
    expect(() => outputCap("0")).toThrow("MAX_OUTPUT_TOKENS must be a positive whole number.");
  });
});

import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_BACKOFF } from "../../../src/client/backoff.ts";

const lowest = () => 0;
const highest = () => 0.999_999;

describe("backoffDelay", () => {
  it("doubles its ceiling per attempt, from initialMs", () => {
    const ceilings = [0, 1, 2, 3].map((attempt) => backoffDelay(attempt, DEFAULT_BACKOFF, highest));
    expect(ceilings).toEqual([250, 500, 1000, 2000]);
  });

  it("draws from the upper half of the ceiling, never sooner", () => {
    expect(backoffDelay(0, DEFAULT_BACKOFF, lowest)).toBe(125);
    expect(backoffDelay(3, DEFAULT_BACKOFF, lowest)).toBe(1000);
  });

  it("is capped at maxMs, even after days of attempts", () => {
    for (const attempt of [6, 20, 1_000, Number.MAX_SAFE_INTEGER]) {
      expect(backoffDelay(attempt, DEFAULT_BACKOFF, highest)).toBe(DEFAULT_BACKOFF.maxMs);
      expect(backoffDelay(attempt, DEFAULT_BACKOFF, lowest)).toBe(DEFAULT_BACKOFF.maxMs / 2);
    }
  });

  it("spreads clients that retry at the same moment", () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(4)));
    expect(delays.size).toBeGreaterThan(10);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(2_000);
      expect(delay).toBeLessThanOrEqual(4_000);
    }
  });

  it("treats a negative or fractional attempt as the nearest sane one", () => {
    expect(backoffDelay(-3, { initialMs: 100, maxMs: 1_000 }, highest)).toBe(100);
    expect(backoffDelay(1.7, { initialMs: 100, maxMs: 1_000 }, highest)).toBe(200);
  });
});

// admitPrompt: the slot and the quota asked at once; a refused quota frees the slot; no quota
// means no ledger call; an unreachable ledger lets the prompt through.
import { describe, expect, it } from "vitest";
import type { Env } from "../../../src/env.ts";
import { admitPrompt } from "../../../src/usage/admit.ts";

/** Fake CLIENT_LIMITS and USAGE namespaces that log each call's start and end (20 ms apart). */
function fakes(quotaUse: () => Promise<{ day: number; month: number }>) {
  const calls: string[] = [];
  const limiter = {
    async acquire() {
      calls.push("acquire:start");
      await new Promise((resolve) => setTimeout(resolve, 20));
      calls.push("acquire:end");
      return true;
    },
    async release() {
      calls.push("release");
    },
  };
  const ledger = {
    async quotaUse() {
      calls.push("quota:start");
      await new Promise((resolve) => setTimeout(resolve, 20));
      calls.push("quota:end");
      return quotaUse();
    },
  };
  const namespace = (stub: object) => ({ idFromName: (name: string) => name, get: () => stub });
  const env = { CLIENT_LIMITS: namespace(limiter), USAGE: namespace(ledger) } as unknown as Env;
  return { env, calls };
}

const caller = { id: "tok_a", limitKey: "tok_a" };
const withQuota = (env: Env, perDay: string): Env => ({
  ...env,
  MAX_OUTPUT_TOKENS_PER_DAY: perDay,
});

describe("admitPrompt", () => {
  it("asks the limiter and the ledger at once, not one after the other, and names the ledger", async () => {
    const { env, calls } = fakes(async () => ({ day: 0, month: 0 }));
    expect(await admitPrompt(withQuota(env, "10"), caller, "msg_1")).toBe("tok_a");
    expect(calls.slice(0, 2).sort()).toEqual(["acquire:start", "quota:start"]);
  });

  it("frees the slot it took when the quota refuses", async () => {
    const { env, calls } = fakes(async () => ({ day: 10, month: 10 }));
    await expect(admitPrompt(withQuota(env, "10"), caller, "msg_1")).rejects.toMatchObject({
      code: "quota_exceeded",
    });
    expect(calls.at(-1)).toBe("release");
  });

  it("does not call the ledger without a quota", async () => {
    const { env, calls } = fakes(async () => ({ day: 0, month: 0 }));
    await admitPrompt(env, caller, "msg_1");
    expect(calls).toEqual(["acquire:start", "acquire:end"]);
  });

  it("lets the prompt through when the ledger cannot be reached", async () => {
    const { env } = fakes(async () => {
      throw new Error("Durable Object reset");
    });
    await expect(admitPrompt(withQuota(env, "1"), caller, "msg_1")).resolves.toBe("tok_a");
  });

  it("is a config_error when a quota is set but USAGE is not bound", async () => {
    await expect(admitPrompt(withQuota({} as Env, "1"), caller, "m")).rejects.toMatchObject({
      code: "config_error",
      message: expect.stringContaining("USAGE"),
    });
  });
});

// admitPrompt: one call to the caller's account carries the slot and the quota (none without a
// quota or an answer that counts); its refusals become rate_limited and quota_exceeded.
import { describe, expect, it } from "vitest";
import type { Admission, AdmitRequest } from "../../../src/account/Account.ts";
import type { Env } from "../../../src/env.ts";
import { admitPrompt } from "../../../src/usage/admit.ts";

/** A fake ACCOUNTS namespace whose `admit` answers `admission` and records each request. */
function fakes(admission: Admission) {
  const calls: Array<{ key: string; request: AdmitRequest }> = [];
  const env = {
    ACCOUNTS: {
      idFromName: (name: string) => name,
      get: (key: string) => ({
        async admit(request: AdmitRequest) {
          calls.push({ key, request });
          return admission;
        },
      }),
    },
  } as unknown as Env;
  return { env, calls };
}

const caller = { id: "tok_a", limitKey: "tok_a" };
const open = { id: "open", limitKey: "ip:203.0.113.9" };
const withQuota = (env: Env, perDay: string): Env => ({
  ...env,
  MAX_OUTPUT_TOKENS_PER_DAY: perDay,
});

describe("admitPrompt", () => {
  it.each([
    ["a token, no quota", caller, undefined, "tok_a", "tok_a", false],
    ["a token with a quota", caller, "10", "tok_a", "tok_a", true],
    ["open mode, no quota: nothing counts", open, undefined, "ip:203.0.113.9", undefined, false],
    [
      "open mode with a quota: the IP's ledger",
      open,
      "10",
      "ip:203.0.113.9",
      "ip:203.0.113.9",
      true,
    ],
  ])("%s: one call to the account of the limit key", async (_, who, perDay, key, ledger, quota) => {
    const { env, calls } = fakes({ admitted: true });
    const mark = { session: "s", title: null };
    const configured = perDay ? withQuota(env, perDay) : env;
    expect(await admitPrompt(configured, who, "msg_1", mark)).toBe(ledger);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.key).toBe(key);
    expect(calls[0]?.request).toMatchObject({ lease: "msg_1", limit: 4, mark });
    expect(calls[0]?.request.quota !== undefined).toBe(quota);
  });

  it("turns a refusal over the slots into rate_limited, with the limit in the message", async () => {
    const { env } = fakes({ admitted: false, over: "slots" });
    const limited = { ...env, MAX_CONCURRENT_GENERATIONS: "2" };
    await expect(admitPrompt(limited, caller, "msg_1")).rejects.toMatchObject({
      code: "rate_limited",
      message: expect.stringContaining("2 answers streaming"),
    });
  });

  it("turns a refusal over the quota into quota_exceeded, with the reset time", async () => {
    const { env } = fakes({ admitted: false, over: "quota", used: { day: 10, month: 10 } });
    await expect(admitPrompt(withQuota(env, "10"), caller, "msg_1")).rejects.toMatchObject({
      code: "quota_exceeded",
      message: expect.stringContaining("daily quota of 10 output tokens"),
    });
  });

  it("is a config_error when a quota is set but ACCOUNTS is not bound", async () => {
    await expect(admitPrompt(withQuota({} as Env, "1"), caller, "m")).rejects.toMatchObject({
      code: "config_error",
      message: expect.stringContaining("ACCOUNTS"),
    });
  });

  it("admits without a call when nothing is bound and no quota is set", async () => {
    await expect(admitPrompt({} as Env, caller, "m")).resolves.toBe("tok_a");
  });
});

// Inside workerd, against the real Account: a prompt's admission (quota, then slot, then mark)
// and an answer's end (slot, chat row, usage row) are each one call, a refusal holds nothing,
// and the slots outlive the object's eviction.

import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AdmitRequest } from "../../src/account/Account.ts";

let names = 0;
const account = () => {
  const namespace = env.ACCOUNTS;
  if (!namespace) throw new Error("the ACCOUNTS binding is missing from wrangler.toml");
  names += 1;
  return namespace.get(namespace.idFromName(`tok_account_${names}_${Date.now()}`));
};
const ask = (lease: string, extra: Partial<AdmitRequest> = {}): AdmitRequest => ({
  lease,
  limit: 2,
  ttlMs: 60_000,
  ...extra,
});
const usage = (outputTokens: number) => ({
  at: Date.now(),
  provider: "demo",
  model: "m",
  inputTokens: 1,
  outputTokens,
  reasoningTokens: 0,
});
const summary = { title: "T", messages: 2, preview: "p", at: Date.now() };

describe("an Account", () => {
  it("admits up to its limit, refuses the next, and frees a slot when an answer ends", async () => {
    const stub = account();
    expect(await stub.admit(ask("a"))).toEqual({ admitted: true });
    expect(await stub.admit(ask("b"))).toEqual({ admitted: true });
    // The same lease again is the one it holds, not a third answer.
    expect(await stub.admit(ask("b"))).toEqual({ admitted: true });
    expect(await stub.admit(ask("c"))).toEqual({ admitted: false, over: "slots" });
    await stub.ended({ lease: "a" });
    expect(await stub.admit(ask("c"))).toEqual({ admitted: true });
  });

  it.each([
    ["under the daily quota", { perDay: 10 }, 9, true],
    ["at the daily quota", { perDay: 10 }, 10, false],
    ["at the monthly quota", { perMonth: 5 }, 5, false],
    ["no quota asked", undefined, 1_000, true],
  ])("%s: admitted %s", async (_, quota, used, admitted) => {
    const stub = account();
    await stub.ended({ lease: "old", usage: usage(used) });
    const answer = await stub.admit(ask("new", { quota }));
    expect(answer.admitted).toBe(admitted);
    if (!answer.admitted) expect(answer).toMatchObject({ over: "quota", used: { day: used } });
    // A refusal over the quota holds no slot: both slots are still free.
    expect((await stub.admit(ask("x"))).admitted).toBe(true);
    expect((await stub.admit(ask("y"))).admitted).toBe(!admitted);
  });

  it("sets the streaming mark only when admitted, and the end writes one chat and one usage row", async () => {
    const stub = account();
    await stub.created("s1", 1);
    await stub.created("s2", 2);
    await stub.admit(ask("a", { mark: { session: "s1", title: "First" } }));
    await stub.admit(ask("b"));
    const refused = await stub.admit(ask("c", { mark: { session: "s2", title: "No" } }));
    expect(refused.admitted).toBe(false);
    const listed = (await stub.list({ limit: 10 })).chats;
    expect(listed.map((chat) => [chat.session, chat.streaming, chat.title])).toEqual([
      ["s2", false, null],
      ["s1", true, "First"],
    ]);
    const before = await stub.stats();
    await stub.ended({ lease: "a", chat: { session: "s1", summary }, usage: usage(3) });
    const after = await stub.stats();
    expect([after.chatRows - before.chatRows, after.usageRows - before.usageRows]).toEqual([1, 1]);
    const [first] = (await stub.list({ limit: 1 })).chats;
    expect(first).toMatchObject({ session: "s1", streaming: false, messages: 2, preview: "p" });
    expect((await stub.quotaUse(Date.now())).day).toBe(3);
  });

  it("writes one lease row per slot taken, renewed and freed, and nothing else for slots alone", async () => {
    const stub = account();
    await stub.admit(ask("a"));
    await stub.beat("a", 60_000);
    await stub.ended({ lease: "a" });
    expect(await stub.stats()).toEqual({ chatRows: 0, usageRows: 0, leaseRows: 3 });
  });

  it("frees an expired lease's slot and deletes its row, also after an eviction", async () => {
    const stub = account();
    await stub.admit(ask("short", { limit: 1, ttlMs: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await evictDurableObject(stub);
    expect(await stub.admit(ask("next", { limit: 1 }))).toEqual({ admitted: true });
    const keys = await runInDurableObject(stub, (_, state) =>
      [...state.storage.kv.list({ prefix: "lease:" })].map(([key]) => key),
    );
    expect(keys).toEqual(["lease:next"]);
  });

  it("keeps its slots and their streaming marks when the runtime evicts it", async () => {
    const stub = account();
    await stub.created("s1", 1);
    await stub.admit(ask("a", { mark: { session: "s1", title: "Long" } }));
    await stub.admit(ask("b"));
    await evictDurableObject(stub);
    const listed = (await stub.list({ limit: 10 })).chats;
    expect(listed.map((chat) => [chat.session, chat.streaming, chat.title])).toEqual([
      ["s1", true, "Long"],
    ]);
    expect(await stub.admit(ask("c"))).toEqual({ admitted: false, over: "slots" });
    await stub.ended({ lease: "a" });
    expect(await stub.admit(ask("c"))).toEqual({ admitted: true });
  });
});

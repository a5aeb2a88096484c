/**
 * Whether a prompt may start an answer: a slot (the concurrency limit) and the
 * token quota, asked of their two Durable Objects at once, so the quota adds no round trip
 * before the first token.
 */
import type { Principal } from "../auth.ts";
import type { Env } from "../env.ts";
import { acquireSlot, releaseSlot } from "../limits/limits.ts";
import { checkQuota, quotaLimits, usageKey } from "./quota.ts";

/**
 * Takes the slot `lease` of the caller's limit key and checks the quota of its usage ledger,
 * in parallel. Resolves with the ledger key the answer's tokens count in (undefined: none).
 * Throws `rate_limited`, `quota_exceeded` or `config_error`; on a throw no slot is held.
 */
export async function admitPrompt(
  env: Env,
  caller: Pick<Principal, "id" | "limitKey">,
  lease: string,
): Promise<string | undefined> {
  const limits = quotaLimits(env);
  const ledger = usageKey(caller.id, caller.limitKey, limits);
  const [slot, quota] = await Promise.allSettled([
    acquireSlot(env, caller.limitKey, lease),
    checkQuota(env, ledger, limits),
  ]);
  if (quota.status === "rejected") {
    if (slot.status === "fulfilled") await releaseSlot(env, caller.limitKey, lease);
    throw quota.reason;
  }
  if (slot.status === "rejected") throw slot.reason;
  return ledger;
}

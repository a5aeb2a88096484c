/**
 * Whether a prompt may start an answer: a generation slot (the concurrency limit) and the
 * token quota, asked of their two Durable Objects at once, so the quota adds no round trip
 * before the first token.
 */
import type { Env } from "../env.ts";
import { acquireSlot, releaseSlot } from "../limits/limits.ts";
import { checkQuota, type QuotaLimits } from "./quota.ts";

/**
 * Takes the slot `lease` of `limitKey` and checks the quota of ledger `usage`, in parallel.
 * Throws `rate_limited`, `quota_exceeded` or `config_error`; on a throw no slot is held.
 */
export async function admitPrompt(
  env: Env,
  limitKey: string,
  usage: string | undefined,
  limits: QuotaLimits,
  lease: string,
): Promise<void> {
  const [slot, quota] = await Promise.allSettled([
    acquireSlot(env, limitKey, lease),
    checkQuota(env, usage, limits),
  ]);
  if (quota.status === "rejected") {
    if (slot.status === "fulfilled") await releaseSlot(env, limitKey, lease);
    throw quota.reason;
  }
  if (slot.status === "rejected") throw slot.reason;
}

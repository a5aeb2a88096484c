/**
 * Whether a prompt may start an answer: a slot (the concurrency limit) and the token quota,
 * both asked of the client's Account object in one call, so the quota adds no round trip.
 */
import { accountOf } from "../account/stub.ts";
import type { Principal } from "../auth.ts";
import type { StreamingMark } from "../directory/chat-list.ts";
import type { Env } from "../env.ts";
import { SluiceError } from "../errors.ts";
import { concurrentLimit, LEASE_TTL_MS, slotsTaken } from "../limits/limits.ts";
import { hasQuota, quotaLimits, quotaVerdict, usageKey } from "./quota.ts";

/**
 * Takes the slot `lease` in the caller's account and checks its quota, in one call; sets the
 * session's streaming `mark` when admitted. Resolves with the ledger key the answer's tokens
 * count in (undefined: none). Throws `rate_limited`, `quota_exceeded` or `config_error`; on a
 * throw no slot is held.
 */
export async function admitPrompt(
  env: Env,
  caller: Pick<Principal, "id" | "limitKey">,
  lease: string,
  mark?: StreamingMark,
): Promise<string | undefined> {
  const limits = quotaLimits(env);
  const ledger = usageKey(caller.id, caller.limitKey, limits);
  const quota = ledger !== undefined && hasQuota(limits) ? limits : undefined;
  const account = accountOf(env, caller.limitKey);
  if (!account) {
    if (!quota) return ledger;
    throw new SluiceError(
      "config_error",
      "A token quota is set but the ACCOUNTS Durable Object binding is missing; add it to wrangler.toml.",
    );
  }
  const limit = concurrentLimit(env);
  const admission = await account.admit({ lease, limit, ttlMs: LEASE_TTL_MS, quota, mark });
  if (admission.admitted) return ledger;
  if (admission.over === "slots") throw slotsTaken(limit);
  const now = Date.now();
  throw quotaVerdict(admission.used, limits, now) ?? slotsTaken(limit);
}

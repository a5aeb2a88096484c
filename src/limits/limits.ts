/** The per-client limits: requests per minute, and answers streaming at once. */
import { accountOf } from "../account/stub.ts";
import { numberSetting } from "../config.ts";
import type { StreamingMark } from "../directory/chat-list.ts";
import type { Env } from "../env.ts";
import { SluiceError } from "../errors.ts";

/** The window of the REQUEST_LIMITER binding in wrangler.toml, told to clients as Retry-After. */
export const REQUEST_WINDOW_S = 60;
/** An answer's slot lasts this long unless the session renews it (on its 30 s heartbeat). */
export const LEASE_TTL_MS = 120_000;
/** Answers a client may stream at once when MAX_CONCURRENT_GENERATIONS is not set. */
export const DEFAULT_CONCURRENT = 4;

/** Counts one request of `key`, or throws `rate_limited`. Without the binding, no limit. */
export async function countRequest(env: Env, key: string): Promise<void> {
  if (!env.REQUEST_LIMITER) return;
  const { success } = await env.REQUEST_LIMITER.limit({ key });
  if (!success) {
    throw new SluiceError(
      "rate_limited",
      `Too many requests from this client; retry in ${REQUEST_WINDOW_S} s.`,
      REQUEST_WINDOW_S,
    );
  }
}

/** Answers a client may have streaming at once (MAX_CONCURRENT_GENERATIONS). */
export function concurrentLimit(env: Pick<Env, "MAX_CONCURRENT_GENERATIONS">): number {
  return numberSetting("MAX_CONCURRENT_GENERATIONS", env.MAX_CONCURRENT_GENERATIONS, {
    default: DEFAULT_CONCURRENT,
    min: 1,
    integer: true,
    unit: "answers",
    invalid: "default",
  });
}

/** The refusal of a prompt whose client has `limit` answers streaming already. */
export function slotsTaken(limit: number): SluiceError {
  return new SluiceError(
    "rate_limited",
    `This client already has ${limit} answers streaming; wait for one to finish.`,
    5,
  );
}

/**
 * Keeps a slot (and the session's streaming mark, when given) alive; failures only shorten it
 * to its TTL, so they are not worth a word. The promise never rejects; in a Worker (not an
 * object) it must be handed to `waitUntil`.
 */
export async function renewSlot(
  env: Env,
  key: string,
  lease: string,
  mark?: StreamingMark,
): Promise<void> {
  await accountOf(env, key)
    ?.beat(lease, LEASE_TTL_MS, mark)
    .catch(() => {});
}

/** Frees a slot; if this fails, the lease expires by itself within LEASE_TTL_MS. Never rejects. */
export async function releaseSlot(env: Env, key: string, lease: string): Promise<void> {
  await accountOf(env, key)
    ?.release(lease)
    .catch(() => {});
}

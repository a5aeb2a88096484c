/** The per-client limits: requests per minute, and answers streaming at once. */
import { numberSetting } from "../config.ts";
import type { Env } from "../env.ts";
import { SluiceError } from "../errors.ts";

/** The window of the REQUEST_LIMITER binding in wrangler.toml, told to clients as Retry-After. */
export const REQUEST_WINDOW_S = 60;
/** An answer's slot lasts this long unless the session renews it (on its 30 s heartbeat). */
export const LEASE_TTL_MS = 120_000;
const DEFAULT_CONCURRENT = 4;

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

function limiter(env: Env, key: string) {
  if (!env.CLIENT_LIMITS) return undefined;
  return env.CLIENT_LIMITS.get(env.CLIENT_LIMITS.idFromName(key));
}

/** Takes an answer slot for `lease`, or throws `rate_limited` when the client has too many. */
export async function acquireSlot(env: Env, key: string, lease: string): Promise<void> {
  const stub = limiter(env, key);
  if (!stub) return;
  const limit = numberSetting("MAX_CONCURRENT_GENERATIONS", env.MAX_CONCURRENT_GENERATIONS, {
    default: DEFAULT_CONCURRENT,
    min: 1,
    integer: true,
    unit: "answers",
    invalid: "default",
  });
  if (!(await stub.acquire(lease, limit, LEASE_TTL_MS))) {
    throw new SluiceError(
      "rate_limited",
      `This client already has ${limit} answers streaming; wait for one to finish.`,
      5,
    );
  }
}

/**
 * Keeps a slot alive; failures only shorten it to its TTL, so they are not worth a word. The
 * promise never rejects; in a Worker (not an object) it must be handed to `waitUntil`.
 */
export async function renewSlot(env: Env, key: string, lease: string): Promise<void> {
  await limiter(env, key)
    ?.renew(lease, LEASE_TTL_MS)
    .catch(() => {});
}

/** Frees a slot; if this fails, the lease expires by itself within LEASE_TTL_MS. Never rejects. */
export async function releaseSlot(env: Env, key: string, lease: string): Promise<void> {
  await limiter(env, key)
    ?.release(lease)
    .catch(() => {});
}

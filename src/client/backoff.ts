/** Reconnect delays: exponential, capped, and jittered so a relay restart is not met by a stampede. */

/** How long to wait before reconnect attempt `n` (0-based). */
export interface BackoffOptions {
  /** Ceiling of the first delay, in milliseconds. */
  initialMs: number;
  /** The ceiling never grows past this, in milliseconds. */
  maxMs: number;
}

/** A first retry within a quarter second, then doubling up to ten seconds. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 10_000 };

/**
 * The delay before reconnect attempt `attempt` (0 for the first retry after a drop).
 *
 * "Equal jitter": the ceiling doubles per attempt up to `maxMs`, and the delay is drawn from the
 * upper half of it. The random half spreads clients that lost the same relay at the same moment;
 * the fixed half keeps a flapping network from turning into a tight retry loop.
 *
 * @param random - a source of numbers in [0, 1); tests pass a fixed one.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  // Capping the exponent too keeps 2 ** attempt finite after days of retries.
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30);
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Waits out the last 5 s of a wall-clock minute: rate-limit windows (Miniflare's, and the
 * benchmarks' in-memory one) roll over on the minute, and a count that straddles it would
 * start afresh, so a test that counts to the limit would see one request too many pass.
 */
export async function awayFromMinuteEdge(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 5_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

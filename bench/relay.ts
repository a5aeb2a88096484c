/**
 * The relay under test (test/helpers/relay.ts), pointed at the stamped upstream, with the
 * per-client limits lifted: every benchmark client comes from 127.0.0.1, so with the defaults
 * they would all count as one client and most prompts would be refused as `rate_limited`.
 */
import { type Relay, startRelay } from "../test/helpers/relay.ts";

export function startBenchRelay(
  upstreamBaseUrl: string,
  vars: Record<string, string> = {},
): Promise<Relay> {
  return startRelay(
    {
      PROVIDER: "openai",
      OPENAI_BASE_URL: upstreamBaseUrl,
      OPENAI_API_KEY: "bench",
      MODEL: "bench",
      MAX_CONCURRENT_GENERATIONS: "1000000",
      ...vars,
    },
    { requestsPerMinute: 1_000_000, services: "lean" },
  );
}

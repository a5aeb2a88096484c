// How many rounds a randomized sweep runs: a few in `npm test`, the full count in `npm run test:heavy`.
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** True under `npm run test:heavy` (SLUICE_HEAVY=1), set by test/vitest.config.ts. */
    heavy: boolean;
  }
}

/**
 * `quick` rounds in the ordinary run, `full` in the heavy one. The rounds are seeded, so the
 * quick run is the first `quick` of the full run's rounds: it repeats less, never differs.
 */
export function sweep(quick: number, full: number): number {
  return inject("heavy") ? full : quick;
}

/** Percentiles and medians over samples, and summaries of one set of samples. */

/** The `p`-th percentile (0-100) of ascending `sorted` by nearest rank; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/** The median of `values` (any order); NaN when empty. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  const high = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? high : ((sorted[middle - 1] ?? high) + high) / 2;
}

/** The usual latency percentiles of a sample set, in its own unit. */
export interface Summary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = Float64Array.from(samples).sort();
  const list = Array.from(sorted);
  return {
    count: list.length,
    p50: percentile(list, 50),
    p95: percentile(list, 95),
    p99: percentile(list, 99),
    max: list.at(-1) ?? Number.NaN,
  };
}

/** Each field of `summaries` reduced to its median, so one noisy repetition cannot skew it. */
export function medianSummary(summaries: readonly Summary[]): Summary {
  const pick = (key: keyof Summary) => median(summaries.map((summary) => summary[key]));
  return {
    count: summaries.reduce((sum, summary) => sum + summary.count, 0),
    p50: pick("p50"),
    p95: pick("p95"),
    p99: pick("p99"),
    max: pick("max"),
  };
}

/** `value` rounded to `digits` decimals, for results that stay readable. */
export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/**
 * Repetitions of each contender run before the measured ones and not recorded. The first relay
 * a benchmark starts costs more CPU than the ones after it (session 6: `users` gave 10.3 s for
 * its first Sluice relay and 8.7 s for both later ones; `/chat` opens 6-7 ms per user against
 * 2-3.5 ms), which would count against whichever contender goes first.
 */
export const WARM_UP_REPS = 1;

/** `items` rotated left by `by`, so each repetition starts with another contender. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

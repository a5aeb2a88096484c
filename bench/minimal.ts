/**
 * Minimal relay: the same stamped streams over `/chat` through Sluice and through a minimal
 * relay of our own (bench/minimal-relay-worker.ts), at one concurrency: workerd CPU per token
 * and per-token latency of both, in the same run. Each repetition runs both in rotated order,
 * each on a fresh relay, and reads the CPU time of that relay's own workerd.
 */
import { sleep } from "./clock.ts";
import { runLoad } from "./load.ts";
import { startMinimalRelay } from "./minimal-relay.ts";
import { startBenchRelay } from "./relay.ts";
import { median, medianSummary, rotate, type Summary, summarize, WARM_UP_REPS } from "./stats.ts";
import { startTracked, type TrackedRelay } from "./tracked-relay.ts";
import { type Plan, startUpstream, type UpstreamPlace } from "./upstream.ts";

/**
 * The relays the issue-11 benchmarks compare. `limited` is the minimal relay with the
 * per-client limit calls Sluice makes for each chat (bench/minimal-relay-worker.ts): not a
 * goal's baseline, the cost of those calls alone.
 */
export type Contender = "sluice" | "minimal" | "limited";
export const CONTENDERS: readonly Contender[] = ["sluice", "minimal", "limited"];

export function isContender(name: string | undefined): name is Contender {
  return CONTENDERS.some((contender) => contender === name);
}

export interface MinimalConfig {
  streams: number;
  reps: number;
  plan: Plan;
  upstream: UpstreamPlace;
}

export interface MinimalRow {
  relay: Contender;
  /** Per-token latency, receipt minus emission, ms; each field the median over repetitions. */
  lagMs: Summary;
  /** workerd CPU per token delivered, µs (median). */
  cpuUsPerToken: number;
  /** workerd CPU per second of wall time (median). */
  cpuCores: number;
  /** Event-loop delay p99 of the load generator, ms (median). */
  clientLoopP99Ms: number;
  errorCount: number;
}

export interface MinimalResult {
  config: MinimalConfig;
  rows: MinimalRow[];
}

/** Limits no benchmark client reaches: the calls are made, the verdicts always admit. */
const LIFTED = { requestsPerMinute: 1_000_000, concurrent: 1_000_000 };

/** Starts `relay` (Sluice and the limited relay with their limits lifted, as bench/relay.ts does). */
export function startContender(relay: Contender, upstreamBaseUrl: string): Promise<TrackedRelay> {
  return startTracked(() => {
    if (relay === "sluice") return startBenchRelay(upstreamBaseUrl);
    return startMinimalRelay(upstreamBaseUrl, relay === "limited" ? LIFTED : undefined);
  });
}

interface Sample {
  lag: Summary;
  cpuUsPerToken: number;
  cpuCores: number;
  clientLoopP99Ms: number;
  errors: number;
}

export async function benchMinimal(
  config: MinimalConfig,
  log: (line: string) => void,
): Promise<MinimalResult> {
  const upstream = await startUpstream(config.upstream);
  const samples = new Map<Contender, Sample[]>(CONTENDERS.map((relay) => [relay, []]));
  const duration = config.plan.tokens * config.plan.intervalMs;
  const rampMs = Math.max(config.plan.intervalMs, Math.min(config.streams * 2, duration / 2));
  try {
    // Negative repetitions warm up and are not recorded (WARM_UP_REPS).
    for (let rep = -WARM_UP_REPS; rep < config.reps; rep += 1) {
      for (const name of rotate(CONTENDERS, Math.max(rep, 0))) {
        const relay = await startContender(name, upstream.baseUrl);
        try {
          const endpoints = { relay: relay.url, upstream: upstream.baseUrl };
          const warm = { tokens: 5, intervalMs: config.plan.intervalMs };
          await runLoad({ transport: "ws", endpoints, streams: 2, plan: warm, rampMs });
          const cpuBefore = relay.cpuMs();
          const load = await runLoad({
            transport: "ws",
            endpoints,
            streams: config.streams,
            plan: config.plan,
            rampMs,
          });
          const cpu = relay.cpuMs() - cpuBefore;
          const tokens = load.results.reduce((sum, result) => sum + result.tokens, 0);
          const sample: Sample = {
            lag: summarize(load.results.flatMap((result) => result.lags)),
            cpuUsPerToken: tokens === 0 ? Number.NaN : (cpu * 1000) / tokens,
            cpuCores: cpu / load.wallMs,
            clientLoopP99Ms: load.clientLoopP99Ms,
            errors: load.results.filter((result) => result.error !== undefined).length,
          };
          if (rep >= 0) samples.get(name)?.push(sample);
          log(
            `  ${name.padEnd(7)} ${config.streams} streams ${rep < 0 ? "warm-up" : `rep ${rep + 1}`}: p50 ${sample.lag.p50.toFixed(2)} ms, ` +
              `p99 ${sample.lag.p99.toFixed(2)} ms, ${sample.cpuUsPerToken.toFixed(0)} µs CPU per token, ` +
              `errors ${sample.errors}`,
          );
        } finally {
          await relay.dispose();
        }
        await sleep(250);
      }
    }
  } finally {
    await upstream.close();
  }
  const rows = CONTENDERS.map((relay): MinimalRow => {
    const list = samples.get(relay) ?? [];
    return {
      relay,
      lagMs: medianSummary(list.map((sample) => sample.lag)),
      cpuUsPerToken: median(list.map((sample) => sample.cpuUsPerToken)),
      cpuCores: median(list.map((sample) => sample.cpuCores)),
      clientLoopP99Ms: median(list.map((sample) => sample.clientLoopP99Ms)),
      errorCount: list.reduce((sum, sample) => sum + sample.errors, 0),
    };
  });
  return { config, rows };
}

/**
 * Relay overhead: N concurrent streams read stamped tokens through the relay (WebSocket, SSE)
 * and, as the baseline in the same run, straight from the upstream. Each level gets a fresh
 * relay; each repetition runs the three transports in a rotated order so none always goes first.
 */
import type { Transport } from "./clients.ts";
import { now, sleep } from "./clock.ts";
import { runLoad } from "./load.ts";
import { cpuMs, ownProcesses } from "./proc.ts";
import { startBenchRelay } from "./relay.ts";
import { median, medianSummary, rotate, type Summary, summarize } from "./stats.ts";
import { type Plan, startUpstream, type UpstreamPlace } from "./upstream.ts";

export interface OverheadConfig {
  /** Concurrent streams of each level. */
  levels: number[];
  reps: number;
  plan: Plan;
  upstream: UpstreamPlace;
  /** Which transports to run; the baseline `direct` is always wanted for ratios. */
  transports: Transport[];
}

/** One transport at one level, every field the median over the repetitions. */
export interface TransportRow {
  transport: Transport;
  streams: number;
  /** Per-token latency, receipt minus emission, ms. */
  lagMs: Summary;
  /** Prompt sent to first token, ms. */
  ttfcMs: Summary;
  /** Failed streams by reason, summed over repetitions. */
  errors: Record<string, number>;
  errorCount: number;
  /** Event-loop delay p99 of the load generator, ms. */
  clientLoopP99Ms: number;
  /** CPU used by workerd per second of wall time (1 = one core busy). */
  relayCpuCores: number;
  /** workerd CPU time per token delivered, in microseconds: the relay's cost, load aside. */
  relayCpuUsPerToken: number;
}

export interface OverheadResult {
  config: OverheadConfig;
  rows: TransportRow[];
}

/** Starts spread over about 2 ms per stream, at least one token interval, at most half a stream. */
function rampMs(streams: number, plan: Plan): number {
  const duration = plan.tokens * plan.intervalMs;
  return Math.max(plan.intervalMs, Math.min(streams * 2, duration / 2));
}

function workerdCpuMs(): number {
  return ownProcesses("workerd").reduce((sum, pid) => sum + cpuMs(pid), 0);
}

interface Sample {
  lag: Summary;
  ttfc: Summary;
  errors: string[];
  clientLoopP99Ms: number;
  relayCpuCores: number;
  relayCpuUsPerToken: number;
}

function toRow(transport: Transport, streams: number, samples: Sample[]): TransportRow {
  const errors: Record<string, number> = {};
  for (const error of samples.flatMap((sample) => sample.errors)) {
    errors[error] = (errors[error] ?? 0) + 1;
  }
  return {
    transport,
    streams,
    lagMs: medianSummary(samples.map((sample) => sample.lag)),
    ttfcMs: medianSummary(samples.map((sample) => sample.ttfc)),
    errors,
    errorCount: Object.values(errors).reduce((sum, count) => sum + count, 0),
    clientLoopP99Ms: median(samples.map((sample) => sample.clientLoopP99Ms)),
    relayCpuCores: median(samples.map((sample) => sample.relayCpuCores)),
    relayCpuUsPerToken: median(samples.map((sample) => sample.relayCpuUsPerToken)),
  };
}

export async function benchOverhead(
  config: OverheadConfig,
  log: (line: string) => void,
): Promise<OverheadResult> {
  const upstream = await startUpstream(config.upstream);
  const rows: TransportRow[] = [];
  try {
    for (const streams of config.levels) {
      const relay = await startBenchRelay(upstream.baseUrl);
      const endpoints = { relay: relay.url, upstream: upstream.baseUrl };
      const samples = new Map<Transport, Sample[]>(config.transports.map((t) => [t, []]));
      try {
        // Warm-up, not recorded: first connections, lazy module loads and JIT would land in rep 1.
        for (const transport of config.transports) {
          const plan = { tokens: 5, intervalMs: config.plan.intervalMs };
          await runLoad({ transport, endpoints, streams: 2, plan, rampMs: plan.intervalMs });
        }
        for (let rep = 0; rep < config.reps; rep += 1) {
          for (const transport of rotate(config.transports, rep)) {
            const cpuBefore = workerdCpuMs();
            const before = now();
            const load = await runLoad({
              transport,
              endpoints,
              streams,
              plan: config.plan,
              rampMs: rampMs(streams, config.plan),
            });
            const cpu = workerdCpuMs() - cpuBefore;
            const tokens = load.results.reduce((sum, result) => sum + result.tokens, 0);
            const ok = load.results.filter((result) => result.error === undefined);
            const sample: Sample = {
              lag: summarize(load.results.flatMap((result) => result.lags)),
              ttfc: summarize(ok.flatMap((result) => result.ttfcMs ?? [])),
              errors: load.results.flatMap((result) => result.error ?? []),
              clientLoopP99Ms: load.clientLoopP99Ms,
              relayCpuCores: cpu / (now() - before),
              relayCpuUsPerToken: tokens === 0 ? Number.NaN : (cpu * 1000) / tokens,
            };
            samples.get(transport)?.push(sample);
            log(
              `  ${transport.padEnd(6)} ${String(streams).padStart(3)} streams rep ${rep + 1}: ` +
                `p50 ${sample.lag.p50.toFixed(2)} ms, p99 ${sample.lag.p99.toFixed(2)} ms, ` +
                `errors ${sample.errors.length}`,
            );
            await sleep(250);
          }
        }
      } finally {
        await relay.dispose();
      }
      for (const [transport, list] of samples) rows.push(toRow(transport, streams, list));
    }
  } finally {
    await upstream.close();
  }
  return { config, rows };
}

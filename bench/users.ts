/**
 * Users: many users at once, each with its own token, each reading one slow answer over
 * `/chat`, through Sluice (AUTH_TOKENS lists every user's token; no limit is lifted, so each
 * user has its own) and through the minimal relay (which checks no token), in the same run.
 * Measured: the gap between consecutive chunks of a stream minus the upstream's interval
 * (jitter), workerd CPU and the wall time of the whole load.
 */
import { randomBytes } from "node:crypto";
import { DEFAULT_CONCURRENT } from "../src/limits/limits.ts";
import { startRelay } from "../test/helpers/relay.ts";
import { sleep } from "./clock.ts";
import { runLoad } from "./load.ts";
import { CONTENDERS, type Contender } from "./minimal.ts";
import { startMinimalRelay } from "./minimal-relay.ts";
import { median, medianSummary, rotate, type Summary, summarize, WARM_UP_REPS } from "./stats.ts";
import { startTracked, type TrackedRelay } from "./tracked-relay.ts";
import { type Plan, startUpstream, type UpstreamPlace } from "./upstream.ts";

export interface UsersConfig {
  users: number;
  reps: number;
  plan: Plan;
  upstream: UpstreamPlace;
}

export interface UsersRow {
  relay: Contender;
  /** Gaps between consecutive chunks of a stream, all streams pooled, ms (median of reps). */
  gapMs: Summary;
  /** gap p99 minus the interval, ms. */
  jitterP99Ms: number;
  /** workerd CPU over the load, s (median). */
  cpuSeconds: number;
  /** workerd CPU per token delivered, µs (median). */
  cpuUsPerToken: number;
  /**
   * workerd CPU per user by phase, ms (medians): `open` connects every socket, `start` runs
   * from the first prompt until every stream has its first token, `rest` is the remaining
   * tokens and every answer's end. Absent from result files written before session 6.
   */
  cpuPerUserMs?: Phases;
  /**
   * When the late gaps (over the interval by more than LATE_MS) came: the seconds since the
   * load's first token with the most of them, and how many, all repetitions pooled. Bursts
   * of work (answers starting or ending together, a heartbeat, a collection) show as a
   * second here. Absent from result files written before session 7.
   */
  lateGaps?: Array<{ second: number; count: number }>;
  /** First stream started to last stream ended, ms (median). */
  wallMs: number;
  clientLoopP99Ms: number;
  errors: Record<string, number>;
  errorCount: number;
}

export interface Phases {
  open: number;
  start: number;
  rest: number;
}

export interface UsersResult {
  config: UsersConfig;
  rows: UsersRow[];
}

/** The users' tokens: distinct, unguessable-looking, without commas (AUTH_TOKENS splits on them). */
function userTokens(users: number): string[] {
  return Array.from({ length: users }, (_, i) => `user${i}-${randomBytes(12).toString("hex")}`);
}

/** wrangler.toml's request limit per client, which the users run keeps as it is. */
const REQUESTS_PER_MINUTE = 240;

function startUsersRelay(name: Contender, upstreamBaseUrl: string, tokens: string[]) {
  return startTracked(() => {
    if (name === "minimal") return startMinimalRelay(upstreamBaseUrl);
    // Sluice's limits as they are for both: requests per minute and answers at once per token.
    const limits = { requestsPerMinute: REQUESTS_PER_MINUTE, concurrent: DEFAULT_CONCURRENT };
    if (name === "limited") return startMinimalRelay(upstreamBaseUrl, limits);
    return startRelay(
      {
        PROVIDER: "openai",
        OPENAI_BASE_URL: upstreamBaseUrl,
        OPENAI_API_KEY: "bench",
        MODEL: "bench",
        AUTH_TOKENS: tokens.join(","),
      },
      // The platform's services as lean as production's (bench/README.md "Platform services").
      { requestsPerMinute: limits.requestsPerMinute, services: "lean" },
    );
  });
}

/** A gap this much over the interval counts as late in `lateGaps`. */
export const LATE_MS = 20;
/** The seconds `lateGaps` names. */
const LATE_SECONDS_SHOWN = 5;

interface Sample {
  gaps: Summary;
  /** Late gaps by second since the load's first token. */
  late: Map<number, number>;
  cpuMs: number;
  phases: Phases;
  cpuUsPerToken: number;
  wallMs: number;
  clientLoopP99Ms: number;
  errors: string[];
}

async function measure(
  relay: TrackedRelay,
  upstream: string,
  config: UsersConfig,
  tokens: string[],
) {
  const endpoints = { relay: relay.url, upstream };
  const rampMs = Math.min(config.users * 2, (config.plan.tokens * config.plan.intervalMs) / 2);
  const warm = { tokens: 3, intervalMs: 50 };
  await runLoad({ transport: "ws", endpoints, streams: 2, plan: warm, rampMs: 50, tokens });
  const cpuBefore = relay.cpuMs();
  let connectedAt = cpuBefore;
  let startedAt = cpuBefore;
  const load = await runLoad({
    transport: "ws",
    endpoints,
    streams: config.users,
    plan: config.plan,
    rampMs,
    tokens,
    onConnected: () => {
      connectedAt = relay.cpuMs();
    },
    whileStreaming: async () => {
      startedAt = relay.cpuMs();
    },
  });
  const cpuMs = relay.cpuMs() - cpuBefore;
  const perUser = (ms: number) => ms / config.users;
  const phases: Phases = {
    open: perUser(connectedAt - cpuBefore),
    start: perUser(startedAt - connectedAt),
    rest: perUser(cpuBefore + cpuMs - startedAt),
  };
  const delivered = load.results.reduce((sum, result) => sum + result.tokens, 0);
  const gaps = load.results.flatMap((result) =>
    result.arrivals.slice(1).map((at, index) => at - (result.arrivals[index] ?? at)),
  );
  const firstToken = Math.min(...load.results.map((result) => result.arrivals[0] ?? Infinity));
  const late = new Map<number, number>();
  for (const result of load.results) {
    result.arrivals.forEach((at, index) => {
      const previous = result.arrivals[index - 1];
      if (previous === undefined || at - previous <= config.plan.intervalMs + LATE_MS) return;
      const second = Math.floor((at - firstToken) / 1000);
      late.set(second, (late.get(second) ?? 0) + 1);
    });
  }
  return {
    gaps: summarize(gaps),
    late,
    cpuMs,
    phases,
    cpuUsPerToken: delivered === 0 ? Number.NaN : (cpuMs * 1000) / delivered,
    wallMs: load.wallMs,
    clientLoopP99Ms: load.clientLoopP99Ms,
    errors: load.results.flatMap((result) => result.error ?? []),
  } satisfies Sample;
}

export async function benchUsers(
  config: UsersConfig,
  log: (line: string) => void,
): Promise<UsersResult> {
  const upstream = await startUpstream(config.upstream);
  const tokens = userTokens(config.users);
  const samples = new Map<Contender, Sample[]>(CONTENDERS.map((name) => [name, []]));
  try {
    // Negative repetitions warm up and are not recorded (WARM_UP_REPS).
    for (let rep = -WARM_UP_REPS; rep < config.reps; rep += 1) {
      for (const name of rotate(CONTENDERS, Math.max(rep, 0))) {
        const relay = await startUsersRelay(name, upstream.baseUrl, tokens);
        try {
          const sample = await measure(relay, upstream.baseUrl, config, tokens);
          if (rep >= 0) samples.get(name)?.push(sample);
          log(
            `  ${name.padEnd(7)} ${config.users} users ${rep < 0 ? "warm-up" : `rep ${rep + 1}`}: gap p99 ${sample.gaps.p99.toFixed(0)} ms, ` +
              `CPU ${(sample.cpuMs / 1000).toFixed(1)} s, wall ${(sample.wallMs / 1000).toFixed(1)} s, ` +
              `errors ${sample.errors.length}`,
          );
        } finally {
          await relay.dispose();
        }
        await sleep(500);
      }
    }
  } finally {
    await upstream.close();
  }
  const rows = CONTENDERS.map((relay): UsersRow => {
    const list = samples.get(relay) ?? [];
    const errors: Record<string, number> = {};
    for (const error of list.flatMap((sample) => sample.errors)) {
      errors[error] = (errors[error] ?? 0) + 1;
    }
    const gapMs = medianSummary(list.map((sample) => sample.gaps));
    const late = new Map<number, number>();
    for (const [second, count] of list.flatMap((sample) => [...sample.late])) {
      late.set(second, (late.get(second) ?? 0) + count);
    }
    const lateGaps = [...late]
      .sort((a, b) => b[1] - a[1])
      .slice(0, LATE_SECONDS_SHOWN)
      .map(([second, count]) => ({ second, count }));
    return {
      relay,
      gapMs,
      jitterP99Ms: gapMs.p99 - config.plan.intervalMs,
      cpuSeconds: median(list.map((sample) => sample.cpuMs)) / 1000,
      cpuUsPerToken: median(list.map((sample) => sample.cpuUsPerToken)),
      cpuPerUserMs: {
        open: median(list.map((sample) => sample.phases.open)),
        start: median(list.map((sample) => sample.phases.start)),
        rest: median(list.map((sample) => sample.phases.rest)),
      },
      lateGaps,
      wallMs: median(list.map((sample) => sample.wallMs)),
      clientLoopP99Ms: median(list.map((sample) => sample.clientLoopP99Ms)),
      errors,
      errorCount: Object.values(errors).reduce((sum, count) => sum + count, 0),
    };
  });
  return { config, rows };
}

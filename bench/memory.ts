/**
 * Memory: resident set of the relay's workerd process with 0, 100 and 500 answers streaming at
 * once over WebSocket. Each level gets a fresh relay, so one level's sessions do not count in
 * the next; the idle figure is taken after one request has loaded the Worker.
 */
import { sleep } from "./clock.ts";
import { runLoad } from "./load.ts";
import { ownProcesses, rssBytes } from "./proc.ts";
import { startBenchRelay } from "./relay.ts";
import { median } from "./stats.ts";
import { type Plan, startUpstream, type UpstreamPlace } from "./upstream.ts";

export interface MemoryConfig {
  levels: number[];
  /** Long enough that every stream is still running when memory is sampled. */
  plan: Plan;
  upstream: UpstreamPlace;
}

export interface MemoryRow {
  streams: number;
  /** workerd RSS before any stream, after one request loaded the Worker. */
  idleBytes: number;
  /** Median workerd RSS while all streams ran. */
  rssBytes: number;
  /** (rss - idle) / streams. */
  perStreamBytes: number;
  errors: number;
}

export interface MemoryResult {
  config: MemoryConfig;
  rows: MemoryRow[];
}

const workerdRss = () => ownProcesses("workerd").reduce((sum, pid) => sum + rssBytes(pid), 0);

async function sampleRss(times: number, everyMs: number): Promise<number> {
  const samples: number[] = [];
  for (let index = 0; index < times; index += 1) {
    samples.push(workerdRss());
    await sleep(everyMs);
  }
  return median(samples);
}

export async function benchMemory(config: MemoryConfig): Promise<MemoryResult> {
  const upstream = await startUpstream(config.upstream);
  const rows: MemoryRow[] = [];
  try {
    for (const streams of config.levels) {
      const relay = await startBenchRelay(upstream.baseUrl);
      try {
        await (await fetch(`${relay.url}/sessions/none`)).body?.cancel();
        await sleep(500);
        const idleBytes = await sampleRss(3, 100);
        let rss = idleBytes;
        let errors = 0;
        if (streams > 0) {
          const load = await runLoad({
            transport: "ws",
            endpoints: { relay: relay.url, upstream: upstream.baseUrl },
            streams,
            plan: config.plan,
            rampMs: Math.min(streams * 2, 1_000),
            whileStreaming: async () => {
              rss = await sampleRss(5, 200);
            },
          });
          errors = load.results.filter((result) => result.error !== undefined).length;
        }
        const perStreamBytes = streams === 0 ? 0 : (rss - idleBytes) / streams;
        rows.push({ streams, idleBytes, rssBytes: rss, perStreamBytes, errors });
      } finally {
        await relay.dispose();
      }
    }
  } finally {
    await upstream.close();
  }
  return { config, rows };
}

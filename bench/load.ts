/**
 * Runs N concurrent streams of one transport: connects them all (a few at a time, so the
 * connection storm is not what gets measured), then starts them spread over a ramp so their
 * tokens do not all leave in lockstep, and collects every result. Failures are results too.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import {
  connect,
  type Endpoints,
  type ReadyStream,
  type StreamResult,
  type Transport,
} from "./clients.ts";
import { now } from "./clock.ts";
import type { Plan } from "./upstream.ts";

export interface LoadOptions {
  transport: Transport;
  endpoints: Endpoints;
  streams: number;
  plan: Plan;
  /** Starts are spread evenly over this many ms. */
  rampMs: number;
  /** One token per user: stream i is user `tokens[i % length]`; none leaves the relay open. */
  tokens?: readonly string[];
  /** Called once every stream has its first token (or ended), while they all stream. */
  whileStreaming?: (streams: readonly ReadyStream[]) => Promise<void>;
  /** Called once every stream is connected, before the first one starts. */
  onConnected?: () => void;
}

export interface LoadResult {
  results: StreamResult[];
  /** The load generator's own event-loop delay p99 in ms: high means the client distorts. */
  clientLoopP99Ms: number;
  wallMs: number;
}

/** Connections opened at once while setting up. */
const CONNECT_CONCURRENCY = 25;

/**
 * How long one stream may take before it counts as failed (`timeout`): ten times its own
 * duration plus a minute. A saturated relay delivers late but delivers; only a stream that
 * never ends should count as an error.
 */
export function streamTimeoutMs(plan: Plan, rampMs: number): number {
  return plan.tokens * plan.intervalMs * 10 + rampMs + 60_000;
}

function failed(error: unknown): StreamResult {
  const reason = error instanceof Error ? error.message : "connect_failed";
  return { lags: [], ttfcMs: undefined, tokens: 0, arrivals: [], error: `connect:${reason}` };
}

async function connectAll(options: LoadOptions, timeoutMs: number) {
  const ready: Array<ReadyStream | StreamResult> = [];
  for (let first = 0; first < options.streams; first += CONNECT_CONCURRENCY) {
    const size = Math.min(CONNECT_CONCURRENCY, options.streams - first);
    const batch = Array.from({ length: size }, (_, offset) => {
      const token = options.tokens?.[(first + offset) % options.tokens.length];
      return connect(options.transport, options.endpoints, options.plan, timeoutMs, token).catch(
        failed,
      );
    });
    ready.push(...(await Promise.all(batch)));
  }
  return ready;
}

const isReady = (value: ReadyStream | StreamResult): value is ReadyStream => "start" in value;

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const timeoutMs = streamTimeoutMs(options.plan, options.rampMs);
  const connected = await connectAll(options, timeoutMs);
  options.onConnected?.();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const startedAt = now();
  const running = connected.map((stream, index) => {
    if (!isReady(stream)) return Promise.resolve(stream);
    const delay = (index / options.streams) * options.rampMs;
    return new Promise<StreamResult>((resolve) => {
      setTimeout(() => resolve(stream.start()), delay);
    });
  });
  if (options.whileStreaming) {
    const streams = connected.filter(isReady);
    await Promise.all(streams.map((stream) => stream.firstToken));
    await options.whileStreaming(streams);
  }
  const results = await Promise.all(running);
  const wallMs = now() - startedAt;
  loop.disable();
  for (const stream of connected) if (isReady(stream)) stream.close();
  return { results, clientLoopP99Ms: loop.percentile(99) / 1e6, wallMs };
}

/**
 * Routes: one long answer from an upstream that writes as fast as it can, asked on each route
 * of the relay (native SSE, OpenAI-compatible, AI SDK over HTTP and over WebSocket), timed from
 * the request to the answer's last event. The native route is the baseline of the same run.
 */
import { sleep } from "./clock.ts";
import { startMinimalRelay } from "./minimal-relay.ts";
import { startBenchRelay } from "./relay.ts";
import { ASK_ROUTES, type AskRoute, askOnRoute } from "./route-clients.ts";
import { benchFloor, type FloorRow } from "./routes-floor.ts";
import { median, rotate } from "./stats.ts";
import { startTracked } from "./tracked-relay.ts";
import { startUpstream, type UpstreamPlace } from "./upstream.ts";

export interface RoutesConfig {
  /** Tokens in the answer; the upstream writes them back to back. */
  tokens: number;
  reps: number;
  upstream: UpstreamPlace;
}

export interface RouteRow {
  route: AskRoute;
  /** Request to last event, median over the repetitions, ms. */
  lastEventMs: number;
  /** Request to first token, median, ms. */
  firstTokenMs: number;
  /** SSE messages or frames the client received, median. */
  messages: number;
  /** workerd CPU per answer, median, ms. */
  cpuMs: number;
  /** Every repetition's request-to-last-event time, ms, in the order run. */
  samplesMs: number[];
  /** Failed answers by reason. */
  errors: Record<string, number>;
  errorCount: number;
}

export interface RoutesResult {
  config: RoutesConfig;
  rows: RouteRow[];
  /** The runtime's own cost of the answer's frames, by wire (bench/routes-floor.ts). */
  floor?: FloorRow[];
}

/** The baseline every other route is divided by. */
export const BASELINE_ROUTE: AskRoute = "messages";

export async function benchRoutes(
  config: RoutesConfig,
  log: (line: string) => void,
): Promise<RoutesResult> {
  const upstream = await startUpstream(config.upstream);
  const relay = await startTracked(() => startBenchRelay(upstream.baseUrl));
  const timeoutMs = 120_000 + config.tokens * 5;
  const samples = new Map<
    AskRoute,
    Array<Awaited<ReturnType<typeof askOnRoute>> & { cpuMs: number }>
  >(ASK_ROUTES.map((route) => [route, []]));
  try {
    // Warm-up, not recorded: first connections, lazy module loads and JIT.
    for (const route of ASK_ROUTES) {
      await askOnRoute(route, relay.url, { tokens: 200, intervalMs: 0 }, timeoutMs);
    }
    for (let rep = 0; rep < config.reps; rep += 1) {
      for (const route of rotate(ASK_ROUTES, rep)) {
        const cpuBefore = relay.cpuMs();
        const answer = await askOnRoute(
          route,
          relay.url,
          { tokens: config.tokens, intervalMs: 0 },
          timeoutMs,
        ).catch((error: unknown) => ({
          lastEventMs: Number.NaN,
          firstTokenMs: Number.NaN,
          tokens: 0,
          messages: 0,
          error: error instanceof Error ? error.message : String(error),
        }));
        samples.get(route)?.push({ ...answer, cpuMs: relay.cpuMs() - cpuBefore });
        log(
          `  ${route.padEnd(11)} rep ${rep + 1}: ${answer.lastEventMs.toFixed(0)} ms to the last event, ` +
            `${answer.messages} messages${answer.error ? `, error ${answer.error}` : ""}`,
        );
        await sleep(250);
      }
    }
  } finally {
    await relay.dispose();
    await upstream.close();
  }
  // The same number of frames as the answer's, on the minimal relay's Worker, same run.
  const floorRelay = await startTracked(() => startMinimalRelay(upstream.baseUrl));
  let floor: FloorRow[];
  try {
    floor = await benchFloor(floorRelay, config.tokens, config.reps, log);
  } finally {
    await floorRelay.dispose();
  }
  const rows = ASK_ROUTES.map((route): RouteRow => {
    const list = samples.get(route) ?? [];
    const ok = list.filter((answer) => answer.error === undefined);
    const errors: Record<string, number> = {};
    for (const answer of list) {
      if (answer.error !== undefined) errors[answer.error] = (errors[answer.error] ?? 0) + 1;
    }
    return {
      route,
      lastEventMs: median(ok.map((answer) => answer.lastEventMs)),
      firstTokenMs: median(ok.map((answer) => answer.firstTokenMs)),
      messages: median(ok.map((answer) => answer.messages)),
      cpuMs: median(ok.map((answer) => answer.cpuMs)),
      samplesMs: list.map((answer) => answer.lastEventMs),
      errors,
      errorCount: list.length - ok.length,
    };
  });
  return { config, rows, floor };
}

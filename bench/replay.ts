/**
 * Replay: one long answer streams into a session, one event per token (the upstream writes a
 * token every millisecond), and holds its last token back, so the answer is still in progress
 * (which `GET /api/chat/:id/stream` and the WebSocket transport's resume need). Meanwhile a new
 * client on each protocol replays it from the start; each is timed from its request to the
 * last token sent so far. Then the answer is cancelled.
 */
import { now, sleep } from "./clock.ts";
import { startBenchRelay } from "./relay.ts";
import {
  createSession,
  REPLAY_ROUTES,
  type ReplayRoute,
  replayOnRoute,
  type TimedAnswer,
} from "./route-clients.ts";
import { streamSse } from "./sse-client.ts";
import { median, rotate } from "./stats.ts";
import { startTracked } from "./tracked-relay.ts";
import {
  type Plan,
  planPrompt,
  readStamps,
  startUpstream,
  type UpstreamPlace,
} from "./upstream.ts";
import { parseRecord, readNativeSse } from "./wire-readers.ts";

export interface ReplayConfig {
  /** Tokens in the answer, the last one held back. */
  tokens: number;
  reps: number;
  /** Upper bound on the held tail; the answer is cancelled as soon as the replays are done. */
  holdMs: number;
  upstream: UpstreamPlace;
}

export interface ReplayRow {
  route: ReplayRoute;
  /** Request to the last token so far, median over repetitions, ms. */
  lastEventMs: number;
  /** Request to the first token, median, ms. */
  firstTokenMs: number;
  messages: number;
  /** workerd CPU per replay, median, ms. */
  cpuMs: number;
  /** Of the failed replays: tokens received before the failure, median. */
  failedAfterTokens: number;
  /** Of the failed replays: request to the failure, median, ms. */
  failedAfterMs: number;
  errors: Record<string, number>;
  errorCount: number;
}

export interface ReplayResult {
  config: ReplayConfig;
  /** Events in the session when the replays began (`lastSeq`): start, one per chunk. */
  events: number;
  /** Tokens each replay had to deliver (all but the held one). */
  tokens: number;
  /** How long the answer took to stream into the session, ms. */
  produceMs: number;
  rows: ReplayRow[];
  /** Set when the answer could not be set up; no replay ran. */
  error?: string;
}

/** The session's `lastSeq` (GET /sessions/:id). */
async function lastSeq(relay: string, session: string): Promise<number> {
  const body = parseRecord(await (await fetch(`${relay}/sessions/${session}`)).text());
  return typeof body?.lastSeq === "number" ? body.lastSeq : Number.NaN;
}

export async function benchReplay(
  config: ReplayConfig,
  log: (line: string) => void,
): Promise<ReplayResult> {
  const upstream = await startUpstream(config.upstream);
  // Every token its own event, however fast they come: the answer replayed is one of N events.
  const relay = await startTracked(() =>
    startBenchRelay(upstream.baseUrl, { DELTA_COALESCE_MS: "0" }),
  );
  const plan: Plan = { tokens: config.tokens, intervalMs: 1, holdMs: config.holdMs };
  const ready = config.tokens - 1;
  const timeoutMs = 60_000 + config.tokens * 5;
  const samples = new Map<ReplayRoute, Array<TimedAnswer & { cpuMs: number }>>(
    REPLAY_ROUTES.map((route) => [route, []]),
  );
  const result: ReplayResult = { config, events: 0, tokens: ready, produceMs: 0, rows: [] };
  const controller = new AbortController();
  try {
    const session = await createSession(relay.url);
    // The producer: asks on the native route and reads along, to know when all but the tail is in.
    let produced = 0;
    let allIn: () => void = () => {};
    const inProgress = new Promise<void>((resolve) => {
      allIn = resolve;
    });
    const startedAt = now();
    const producer = streamSse(
      `${relay.url}/sessions/${session}/messages`,
      {
        method: "POST",
        body: { content: planPrompt(plan) },
        timeoutMs: config.holdMs + timeoutMs,
        signal: controller.signal,
        clock: now,
      },
      (message) => {
        const text = readNativeSse(message.event, message.data).text;
        if (text) produced += readStamps(text).length;
        if (produced >= ready) allIn();
      },
    );
    const ended = producer.then((outcome) => `the answer ended early (${outcome ?? "done"})`);
    const early = await Promise.race([inProgress.then(() => undefined), ended]);
    if (early !== undefined) throw new Error(early);
    result.produceMs = now() - startedAt;
    result.events = await lastSeq(relay.url, session);
    log(`  ${ready} tokens in ${result.produceMs.toFixed(0)} ms, ${result.events} events`);
    // The upstream began holding the tail a moment ago; stop replaying well before it lets go.
    const lastStart = now() + config.holdMs - 10_000;
    for (let rep = 0; rep < config.reps; rep += 1) {
      for (const route of rotate(REPLAY_ROUTES, rep)) {
        if (now() > lastStart) throw new Error(`the held tail ran out at repetition ${rep + 1}`);
        const cpuBefore = relay.cpuMs();
        const answer = await replayOnRoute(route, relay.url, session, ready, timeoutMs);
        samples.get(route)?.push({ ...answer, cpuMs: relay.cpuMs() - cpuBefore });
        log(
          `  ${route.padEnd(13)} rep ${rep + 1}: ${answer.lastEventMs.toFixed(0)} ms to the last event` +
            `${answer.error ? `, error ${answer.error}` : ""}`,
        );
        await sleep(250);
      }
    }
    await (await fetch(`${relay.url}/sessions/${session}/cancel`, { method: "POST" })).text();
    await producer;
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
  } finally {
    controller.abort();
    await relay.dispose();
    await upstream.close();
  }
  result.rows = REPLAY_ROUTES.map((route): ReplayRow => {
    const list = samples.get(route) ?? [];
    const ok = list.filter((answer) => answer.error === undefined);
    const failed = list.filter((answer) => answer.error !== undefined);
    const errors: Record<string, number> = {};
    for (const answer of failed) {
      const error = answer.error ?? "error";
      errors[error] = (errors[error] ?? 0) + 1;
    }
    return {
      route,
      lastEventMs: median(ok.map((answer) => answer.lastEventMs)),
      firstTokenMs: median(ok.map((answer) => answer.firstTokenMs)),
      messages: median(ok.map((answer) => answer.messages)),
      cpuMs: median(ok.map((answer) => answer.cpuMs)),
      failedAfterTokens: median(failed.map((answer) => answer.tokens)),
      failedAfterMs: median(failed.map((answer) => answer.lastEventMs)),
      errors,
      errorCount: list.length - ok.length,
    };
  });
  return result;
}

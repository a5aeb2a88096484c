/**
 * Time to first token: prompts one at a time, the upstream sending its first token at once,
 * through Sluice's `/chat`, through the minimal relay, and straight from the upstream (the
 * baseline). Each round opens a new session, asks once (new session), waits, asks again on
 * the same socket (existing session). "Added" is a relay's median minus the direct median.
 */
import { type AskedAnswer, ChatSocket } from "./chat-socket.ts";
import { now, sleep } from "./clock.ts";
import { CONTENDERS, type Contender, isContender, startContender } from "./minimal.ts";
import { streamSse } from "./sse-client.ts";
import { median, rotate } from "./stats.ts";
import type { TrackedRelay } from "./tracked-relay.ts";
import {
  type Plan,
  planPrompt,
  readStamps,
  startUpstream,
  type UpstreamPlace,
} from "./upstream.ts";
import { readOpenAiSse } from "./wire-readers.ts";

export interface TtftConfig {
  /** Prompts per kind (new session, existing session) and relay. */
  prompts: number;
  upstream: UpstreamPlace;
}

export type SessionKind = "new" | "existing";

export interface TtftRow {
  relay: Contender | "direct";
  kind: SessionKind | "none";
  /** Prompt sent to first token received, median, ms. */
  firstTokenMs: number;
  /** The median minus the direct median, ms (0 for direct itself). */
  addedMs: number;
  /** Prompt sent to the upstream's first token written, median, ms: the time before the upstream. */
  toUpstreamMs: number;
  samples: number;
  errorCount: number;
}

export interface TtftResult {
  config: TtftConfig;
  rows: TtftRow[];
}

const PLAN: Plan = { tokens: 1, intervalMs: 0 };
/** Between a `done` and the next prompt, so the session has finished storing the answer. */
const PAUSE_MS = 50;
const TIMEOUT_MS = 30_000;

/** One prompt's times: to its first token, and to the upstream writing it. */
type Timing = Pick<AskedAnswer, "firstTokenMs" | "toUpstreamMs">;

/** Times to the first token and to its stamp (the upstream's write), reading the upstream directly. */
async function directFirstToken(upstreamBaseUrl: string): Promise<Timing> {
  const body = {
    model: "bench",
    stream: true,
    messages: [{ role: "user", content: planPrompt(PLAN) }],
  };
  const sentAt = now();
  const timing: Timing = { firstTokenMs: Number.NaN, toUpstreamMs: Number.NaN };
  const outcome = await streamSse(
    `${upstreamBaseUrl}/chat/completions`,
    {
      method: "POST",
      body,
      timeoutMs: TIMEOUT_MS,
      signal: new AbortController().signal,
      clock: now,
    },
    (message) => {
      const text = readOpenAiSse(message.data).text;
      const [stamp] = text ? readStamps(text) : [];
      if (stamp !== undefined && Number.isNaN(timing.firstTokenMs)) {
        timing.firstTokenMs = message.receivedAt - sentAt;
        timing.toUpstreamMs = stamp - sentAt;
      }
    },
  );
  if (outcome !== undefined) throw new Error(outcome);
  return timing;
}

/** One round on a relay: a new session's first prompt, then a second prompt in it. */
async function round(relay: TrackedRelay): Promise<Record<SessionKind, Timing>> {
  const socket = await ChatSocket.open(relay.url, TIMEOUT_MS);
  try {
    const first = await socket.ask(planPrompt(PLAN), TIMEOUT_MS);
    if (first.error) throw new Error(first.error);
    await sleep(PAUSE_MS);
    const second = await socket.ask(planPrompt(PLAN), TIMEOUT_MS);
    if (second.error) throw new Error(second.error);
    return { new: first, existing: second };
  } finally {
    socket.close();
  }
}

export async function benchTtft(
  config: TtftConfig,
  log: (line: string) => void,
): Promise<TtftResult> {
  const upstream = await startUpstream(config.upstream);
  const relays = new Map<Contender, TrackedRelay>();
  const samples = new Map<string, Timing[]>();
  const errors = new Map<string, number>();
  const push = (key: string, value: Timing) =>
    samples.set(key, [...(samples.get(key) ?? []), value]);
  const fail = (key: string) => errors.set(key, (errors.get(key) ?? 0) + 1);
  try {
    // Started one after the other, so each one's workerd is told apart (tracked-relay.ts).
    for (const name of CONTENDERS) relays.set(name, await startContender(name, upstream.baseUrl));
    // Warm-up rounds, not recorded.
    for (const relay of relays.values()) for (let i = 0; i < 3; i += 1) await round(relay);
    await directFirstToken(upstream.baseUrl);
    const order: Array<Contender | "direct"> = ["direct", ...CONTENDERS];
    for (let index = 0; index < config.prompts; index += 1) {
      // Interleaved, so a noisy moment on the shared machine hits every contender alike.
      for (const name of rotate(order, index)) {
        try {
          if (name === "direct") {
            push("direct/none", await directFirstToken(upstream.baseUrl));
            continue;
          }
          const relay = relays.get(name);
          if (!relay) continue;
          const times = await round(relay);
          push(`${name}/new`, times.new);
          push(`${name}/existing`, times.existing);
        } catch {
          fail(name === "direct" ? "direct/none" : `${name}/new`);
        }
        await sleep(PAUSE_MS);
      }
    }
  } finally {
    for (const relay of relays.values()) await relay.dispose();
    await upstream.close();
  }
  const direct = median((samples.get("direct/none") ?? []).map((timing) => timing.firstTokenMs));
  const rows: TtftRow[] = [];
  const kinds = ["new", "existing"].flatMap((kind) => CONTENDERS.map((name) => `${name}/${kind}`));
  for (const key of ["direct/none", ...kinds]) {
    const [relay, kind] = key.split("/");
    const list = samples.get(key) ?? [];
    const firstTokenMs = median(list.map((timing) => timing.firstTokenMs));
    const toUpstreamMs = median(list.map((timing) => timing.toUpstreamMs));
    rows.push({
      relay: isContender(relay) ? relay : "direct",
      kind: kind === "new" || kind === "existing" ? kind : "none",
      firstTokenMs,
      addedMs: relay === "direct" ? 0 : firstTokenMs - direct,
      toUpstreamMs,
      samples: list.length,
      errorCount: errors.get(key) ?? 0,
    });
    log(
      `  ${key.padEnd(16)} median ${firstTokenMs.toFixed(2)} ms (to upstream ${toUpstreamMs.toFixed(2)}) over ${list.length} prompts`,
    );
  }
  return { config, rows };
}

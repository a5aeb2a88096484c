/**
 * Storage cost: SQLite rows the session object writes for one 1,000-token answer, at several
 * token paces (the event log also writes on a timer, so slower answers can cost more rows).
 * Read through the harness Worker's counters route (bench/harness-worker.ts). Also the rows
 * the usage ledger writes per answer (a quota is set, so open mode counts usage per IP).
 */
import { connect } from "./clients.ts";
import { startHarness } from "./harness.ts";
import { streamTimeoutMs } from "./load.ts";
import { startUpstream } from "./upstream.ts";

export interface StorageConfig {
  tokens: number;
  /** Milliseconds between tokens; each pace is one session, all run at once. */
  intervalsMs: number[];
}

export interface StorageRow {
  intervalMs: number;
  tokens: number;
  /** Rows written by the answer: after it minus before the prompt. */
  answerRows: number;
  /** Rows written since the session was created, creation included. */
  totalRows: number;
  /** Rows in the events table and messages table afterwards. */
  eventRows: number;
  messageRows: number;
  error: string | undefined;
}

export interface StorageResult {
  config: StorageConfig;
  rows: StorageRow[];
  /**
   * A 1,000-token answer with reasoning and two client tool calls (the demo model), its two
   * results and its continuation: rows written for the whole round trip.
   */
  toolRoundTrip?: { rows: number; error: string | undefined };
  /** Rows the usage ledger wrote for all the answers, and per answer. */
  usage?: { answers: number; rowsWritten: number; rowsPerAnswer: number };
}

async function ledgerRows(relay: string): Promise<number> {
  const value: unknown = await (await fetch(`${relay}/__bench/usage`)).json();
  const rows = typeof value === "object" && value !== null ? Reflect.get(value, "rowsWritten") : 0;
  if (typeof rows !== "number") throw new Error(`usage counters lack rowsWritten: ${rows}`);
  return rows;
}

/** The ledger's rows once it stopped growing: it is written just after each answer ends. */
async function settledLedgerRows(relay: string, atLeast: number): Promise<number> {
  let rows = await ledgerRows(relay);
  for (let i = 0; i < 100; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const next = await ledgerRows(relay);
    if (next === rows && rows >= atLeast) return rows;
    rows = next;
  }
  return rows;
}

interface Counters {
  rowsWritten: number;
  eventRows: number;
  messageRows: number;
}

async function counters(relay: string, session: string): Promise<Counters> {
  const response = await fetch(`${relay}/__bench/storage/${session}`);
  const value: unknown = await response.json();
  const read = (key: string) => {
    const field = typeof value === "object" && value !== null ? Reflect.get(value, key) : undefined;
    if (typeof field !== "number")
      throw new Error(`storage counters lack ${key}: ${JSON.stringify(value)}`);
    return field;
  };
  return {
    rowsWritten: read("rowsWritten"),
    eventRows: read("eventRows"),
    messageRows: read("messageRows"),
  };
}

async function oneAnswer(
  endpoints: { relay: string; upstream: string },
  tokens: number,
  intervalMs: number,
): Promise<StorageRow> {
  const plan = { tokens, intervalMs };
  const stream = await connect("ws", endpoints, plan, streamTimeoutMs(plan, 0));
  const session = stream.session ?? "";
  const before = await counters(endpoints.relay, session);
  const result = await stream.start();
  const after = await counters(endpoints.relay, session);
  return {
    intervalMs,
    tokens,
    answerRows: after.rowsWritten - before.rowsWritten,
    totalRows: after.rowsWritten,
    eventRows: after.eventRows,
    messageRows: after.messageRows,
    error: result.error,
  };
}

/** Frames of one `/chat` socket, with a wait for the `count`-th frame of a type. */
async function chatSocket(url: string) {
  const ws = new WebSocket(url);
  const frames: Array<Record<string, unknown>> = [];
  ws.addEventListener("message", (event) => frames.push(JSON.parse(String(event.data))));
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", reject, { once: true });
  });
  const until = async (type: string, count = 1) => {
    const deadline = Date.now() + 30_000;
    while (frames.filter((frame) => frame.type === type).length < count) {
      if (Date.now() > deadline) throw new Error(`no ${type} within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  return { ws, frames, until };
}

/** The rows of a client tool round trip on the demo model (see `toolRoundTrip`). */
async function benchToolRoundTrip(): Promise<{ rows: number; error: string | undefined }> {
  const relay = await startHarness({ PROVIDER: "demo", DEMO_DELAY_MS: "0" });
  try {
    const socket = await chatSocket(`${relay.wsUrl}/chat`);
    await socket.until("session");
    const session = String(socket.frames[0]?.session);
    const before = await counters(relay.url, session);
    socket.ws.send(
      JSON.stringify({ prompt: "/tool weather Paris\n/tool time Paris\n/tokens 1000" }),
    );
    await socket.until("done");
    const results = socket.frames
      .filter((frame) => frame.type === "tool-call")
      .map((frame) => ({ toolCallId: frame.toolCallId, output: "ok" }));
    socket.ws.send(JSON.stringify({ type: "tool-results", results }));
    await socket.until("done", 2);
    const after = await counters(relay.url, session);
    socket.ws.close();
    const failed = socket.frames.find((frame) => frame.type === "error");
    return {
      rows: after.rowsWritten - before.rowsWritten,
      error: failed ? String(failed.code) : undefined,
    };
  } finally {
    await relay.dispose();
  }
}

export async function benchStorage(config: StorageConfig): Promise<StorageResult> {
  const toolRoundTrip = await benchToolRoundTrip();
  const upstream = await startUpstream("inline");
  const relay = await startHarness({
    PROVIDER: "openai",
    OPENAI_BASE_URL: upstream.baseUrl,
    OPENAI_API_KEY: "bench",
    MODEL: "bench",
    MAX_OUTPUT_TOKENS_PER_DAY: "1000000000",
  });
  try {
    const endpoints = { relay: relay.url, upstream: upstream.baseUrl };
    const before = await ledgerRows(relay.url);
    const rows = await Promise.all(
      config.intervalsMs.map((intervalMs) => oneAnswer(endpoints, config.tokens, intervalMs)),
    );
    const answers = rows.length;
    const rowsWritten = (await settledLedgerRows(relay.url, before + answers)) - before;
    const usage = { answers, rowsWritten, rowsPerAnswer: rowsWritten / answers };
    return { config, rows, toolRoundTrip, usage };
  } finally {
    await relay.dispose();
    await upstream.close();
  }
}

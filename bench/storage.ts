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

export async function benchStorage(config: StorageConfig): Promise<StorageResult> {
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
    return { config, rows, usage: { answers, rowsWritten, rowsPerAnswer: rowsWritten / answers } };
  } finally {
    await relay.dispose();
    await upstream.close();
  }
}

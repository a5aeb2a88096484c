// A 10 MB answer from a local OpenAI-compatible upstream: it streams, is stored, replays to a
// late client and comes back from the history exactly, and no SQLite value or row written
// along the way passes Cloudflare's 2 MB limit: the store's own check would have failed the
// answer, and the object's SQLite files are scanned afterwards.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_PIECE_BYTES, MAX_SQL_ROW_BYTES } from "../../src/session/row-limit.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { type Frame, TestSocket } from "../helpers/socket.ts";
import { startUpstream, type Upstream } from "../helpers/upstreams.ts";

const TOKENS = 250;
/** Characters of 1, 2, 3 and 4 UTF-8 bytes: pieces are cut by bytes, never inside a character. */
const BLOCK = "ascii é € 😀 ".repeat(2_240);
const tokens = Array.from({ length: TOKENS }, (_, i) => `[${i}]${BLOCK.slice(i % 7)}`);
const ANSWER = tokens.join("");

let relay: Relay | undefined;
let upstream: Upstream;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-large-"));
  upstream = await startUpstream("openai", { tokens });
  relay = await startRelay(
    {
      PROVIDER: "openai",
      OPENAI_API_KEY: SECRETS.openaiKey,
      OPENAI_BASE_URL: upstream.baseUrl,
      MODEL: "test-model",
    },
    { persist: dir },
  );
});
afterAll(async () => {
  await relay?.dispose();
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

function text(frames: Frame[]): string {
  return frames
    .filter((frame) => frame.type === "chunk")
    .map((frame) => String(frame.content))
    .join("");
}

/** Every `.sqlite` file under `root`. */
function sqliteFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".sqlite"))
    .map((name) => join(root, name));
}

/** The largest value and the largest row, in bytes, of every table in a SQLite file. */
function largest(file: string): { value: number; row: number; tables: Record<string, number> } {
  const db = new DatabaseSync(file);
  try {
    let value = 0;
    let row = 0;
    const tables: Record<string, number> = {};
    const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    for (const { name } of names) {
      const table = `"${String(name)}"`;
      const columns = db
        .prepare(`SELECT name FROM pragma_table_info(${`'${String(name)}'`})`)
        .all();
      const sizes = columns.map(
        ({ name: column }) => `IFNULL(LENGTH(CAST("${String(column)}" AS BLOB)), 0)`,
      );
      if (sizes.length === 0) continue;
      const result = db
        .prepare(
          `SELECT COUNT(*) AS n, MAX(MAX(${sizes.join(", ")}, 0)) AS v, MAX(${sizes.join(" + ")}) AS r FROM ${table}`,
        )
        .get();
      value = Math.max(value, Number(result?.v ?? 0));
      row = Math.max(row, Number(result?.r ?? 0));
      tables[String(name)] = Number(result?.n ?? 0);
    }
    return { value, row, tables };
  } finally {
    db.close();
  }
}

describe("a 10 MB answer", () => {
  it("streams, replays to a late client, comes back from the history exactly, and writes nothing over 2 MB", async () => {
    expect(Buffer.byteLength(ANSWER)).toBeGreaterThan(10_000_000);
    const live = relay;
    if (!live) throw new Error("no relay");
    const began = Date.now();
    const client = await TestSocket.open(`${live.wsUrl}/chat`);
    const session = String((await client.waitFor("session")).session);
    client.send({ prompt: "Write ten megabytes." });
    await client.waitFor("chunk", 0, 20_000);
    // A client joining mid-answer is brought up to date from the answer's start.
    const late = await TestSocket.open(`${live.wsUrl}/chat?session=${session}`);
    const done = await client.waitFor("done", 0, 30_000);
    expect(done).toMatchObject({ status: "complete" });
    expect(text(client.frames)).toBe(ANSWER);
    await late.waitFor("done", 0, 30_000);
    expect(text(late.frames)).toBe(ANSWER);

    // After the answer: a resume from 0 replays it from storage, and the history holds it whole.
    const resumed = await TestSocket.open(`${live.wsUrl}/chat?session=${session}&after=0`);
    await resumed.waitFor("done", 0, 30_000);
    expect(text(resumed.frames)).toBe(ANSWER);
    const response = await fetch(`${live.url}/sessions/${session}`);
    const history = (await response.json()) as { messages: Array<{ content: string }> };
    expect(history.messages.at(-1)?.content).toBe(ANSWER);
    for (const socket of [client, late, resumed]) await socket.close();
    console.log(`10 MB answer: streamed, replayed twice and read back in ${Date.now() - began} ms`);

    await live.dispose();
    relay = undefined;
    const files = sqliteFiles(dir);
    expect(files.length).toBeGreaterThan(0);
    const scans = files.map(largest);
    const sessionDb = scans.find((scan) => (scan.tables.message_pieces ?? 0) > 0);
    // The answer is in pieces of at most MAX_PIECE_BYTES: ten or more of them, and its events too.
    expect(sessionDb?.tables.message_pieces).toBeGreaterThanOrEqual(9);
    expect(sessionDb?.tables.event_pieces).toBeGreaterThan(0);
    for (const scan of scans) {
      expect(scan.value).toBeLessThanOrEqual(MAX_PIECE_BYTES);
      expect(scan.row).toBeLessThan(MAX_SQL_ROW_BYTES);
    }
    console.log(
      `SQLite scan: largest value ${Math.max(...scans.map((s) => s.value))} bytes, largest row ${Math.max(...scans.map((s) => s.row))} bytes`,
    );
  }, 60_000);
});

// Inside workerd, against a real Durable Object's SQLite: long texts are stored in pieces
// under Cloudflare's row limit and read back whole, and a write the platform would refuse
// fails here too, although the local runtime would take it.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { SessionEvent } from "../../src/protocol.ts";
import {
  MAX_PIECE_BYTES,
  MAX_SQL_ROW_BYTES,
  splitUtf8,
  utf8Bytes,
} from "../../src/session/row-limit.ts";
import { SessionStore } from "../../src/session/store.ts";
import { mulberry32 } from "../helpers/rechunk.ts";

/** Characters of 1, 2, 3 and 4 UTF-8 bytes (the last a surrogate pair). */
const MIXED = ["a", "\u00e9", "\u20ac", "\u{1F600}"];

function text(bytes: number, seed: number): string {
  const random = mulberry32(seed);
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const char = MIXED[Math.floor(random() * 4)] ?? "a";
    parts.push(char);
    size += utf8Bytes(char);
  }
  return parts.join("");
}

/** Runs `body` with a store over a fresh object's SQLite. */
async function withStore<T>(body: (store: SessionStore, sql: SqlStorage) => T): Promise<T> {
  const stub = env.SESSIONS.get(env.SESSIONS.newUniqueId());
  return runInDurableObject(stub, (_instance, state) =>
    body(new SessionStore(state.storage), state.storage.sql),
  );
}

/** The longest value (in bytes) of each column of `table`. */
function longest(sql: SqlStorage, table: string, column: string): number {
  const row = sql.exec(`SELECT MAX(LENGTH(CAST(${column} AS BLOB))) AS n FROM ${table}`).one();
  return Number(row.n ?? 0);
}

describe("splitUtf8", () => {
  it("cuts into pieces under the byte limit, never inside a character, that join to the text", () => {
    for (let seed = 1; seed <= 20; seed += 1) {
      const original = text(5_000 + seed * 37, seed);
      const max = 7 + seed;
      const pieces = splitUtf8(original, max);
      expect(pieces.join("")).toBe(original);
      for (const piece of pieces) {
        expect(new TextEncoder().encode(piece).length).toBeLessThanOrEqual(max);
        // A lone surrogate would mean a pair was cut.
        expect(piece.isWellFormed()).toBe(true);
      }
    }
  });

  it("counts bytes as the UTF-8 encoder does", () => {
    const sample = text(10_000, 7);
    expect(utf8Bytes(sample)).toBe(new TextEncoder().encode(sample).length);
  });
});

describe("the row limit", () => {
  it("the local runtime stores a value over 2 MB: nothing but our own check stops it", async () => {
    await withStore((_store, sql) => {
      sql.exec("CREATE TABLE big (v TEXT)");
      sql.exec("INSERT INTO big VALUES (?)", "x".repeat(MAX_SQL_ROW_BYTES + 1));
      expect(longest(sql, "big", "v")).toBe(MAX_SQL_ROW_BYTES + 1);
    });
  });

  it("a write production would refuse throws before it reaches SQL, and writes nothing", async () => {
    await withStore((store) => {
      const user = {
        id: "u1",
        role: "user" as const,
        content: "é".repeat(MAX_SQL_ROW_BYTES / 2 + 1),
        status: "complete" as const,
        createdAt: 1,
      };
      const before = store.rowsWritten;
      expect(() => store.insertPrompt(user, "a1")).toThrow(/row limit/);
      expect(store.rowsWritten).toBe(before);
      expect(store.messageCount()).toBe(0);
    });
  });

  it("a 5 MB answer is stored in pieces under the limit and read back exactly", async () => {
    const answer = text(5_000_000, 42);
    await withStore((store, sql) => {
      const position = store.insertPrompt(
        { id: "u1", role: "user", content: "q", status: "complete", createdAt: 1 },
        "a1",
      );
      const before = store.rowsWritten;
      store.finishMessage(position, { content: answer, status: "complete" });
      const pieces = Math.ceil(utf8Bytes(answer) / MAX_PIECE_BYTES);
      // One update and a row per further piece; all counted.
      expect(store.rowsWritten - before).toBeGreaterThanOrEqual(pieces);
      expect(store.rowsWritten - before).toBeLessThanOrEqual(pieces + 1);
      expect(store.history().at(-1)?.content).toBe(answer);
      expect(longest(sql, "messages", "content")).toBeLessThanOrEqual(MAX_PIECE_BYTES);
      expect(longest(sql, "message_pieces", "content")).toBeLessThanOrEqual(MAX_PIECE_BYTES);
      // Finishing again (after a failed finish) replaces the pieces.
      store.finishMessage(position, { content: "short", status: "complete" });
      expect(store.history().at(-1)?.content).toBe("short");
    });
  });

  it("reads the history newest first, long texts whole, for a reader that may stop early", async () => {
    const long = text(3_000_000, 7);
    await withStore((store) => {
      for (let i = 0; i < 30; i += 1) {
        const position = store.insertPrompt(
          { id: `u${i}`, role: "user", content: `q${i}`, status: "complete", createdAt: i },
          `a${i}`,
        );
        store.finishMessage(position, { content: i === 20 ? long : `a${i}`, status: "complete" });
      }
      const all = [...store.newestFirst()];
      expect(all).toEqual(store.history().reverse());
      expect(all[18]?.content).toBe(long);
      const newest: string[] = [];
      for (const message of store.newestFirst()) {
        newest.push(message.content);
        if (newest.length === 3) break;
      }
      expect(newest).toEqual(["a29", "q29", "a28"]);
    });
  });

  it("an event batch with a 3 MB event is stored in pieces and replays exactly", async () => {
    const content = text(3_000_000, 9);
    const events: SessionEvent[] = [
      { type: "chunk", seq: 1, messageId: "a1", content: "first" },
      { type: "chunk", seq: 2, messageId: "a1", content },
      { type: "done", seq: 3, messageId: "a1", status: "complete" },
    ];
    await withStore((store, sql) => {
      store.appendEvents(events, 1, 1);
      store.appendEvents([{ type: "chunk", seq: 4, messageId: "a1", content: "after" }], 4, 2);
      expect(store.eventsAfter(0)).toEqual([
        ...events,
        { type: "chunk", seq: 4, messageId: "a1", content: "after" },
      ]);
      expect(store.eventsAfter(2).map((event) => event.seq)).toEqual([3, 4]);
      expect(longest(sql, "events", "frames")).toBeLessThanOrEqual(MAX_PIECE_BYTES);
      expect(longest(sql, "event_pieces", "frames")).toBeLessThanOrEqual(MAX_PIECE_BYTES);
      // Pruning a batch takes its pieces with it.
      store.pruneEvents(2);
      expect(sql.exec("SELECT COUNT(*) AS n FROM event_pieces").one().n).toBe(0);
      expect(store.eventsAfter(0).map((event) => event.seq)).toEqual([4]);
    });
  });
});

describe("the tables of pieces", () => {
  const tables = (sql: SqlStorage) =>
    sql
      .exec(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY name",
      )
      .toArray()
      .map((row) => String(row.name));

  it("are created by the first text that needs one, and found again by a new store", async () => {
    const stub = env.SESSIONS.get(env.SESSIONS.newUniqueId());
    await runInDurableObject(stub, (_instance, state) => {
      const { sql } = state.storage;
      const store = new SessionStore(state.storage);
      const position = store.insertPrompt(
        { id: "u1", role: "user", content: "q", status: "complete", createdAt: 1 },
        "a1",
      );
      store.finishMessage(position, { content: "short", status: "complete" });
      store.appendEvents([{ type: "chunk", seq: 1, messageId: "a1", content: "x" }], 1, 1);
      expect(tables(sql)).toEqual(["events", "messages", "meta"]);
      const answer = text(MAX_PIECE_BYTES + 10, 3);
      store.finishMessage(position, { content: answer, status: "complete" });
      expect(tables(sql)).toEqual(["events", "message_pieces", "messages", "meta"]);
      // A store opened later (a restarted object) finds the table and reads the answer whole.
      const again = new SessionStore(state.storage);
      expect(again.history().at(-1)?.content).toBe(answer);
      expect(again.messageCount()).toBe(2);
    });
  });

  it("are read again after a rolled-back transaction, as are the counts the store keeps", async () => {
    const stub = env.SESSIONS.get(env.SESSIONS.newUniqueId());
    await runInDurableObject(stub, (_instance, state) => {
      const store = new SessionStore(state.storage);
      const user = {
        id: "u1",
        role: "user",
        content: "q",
        status: "complete",
        createdAt: 5,
      } as const;
      const position = store.insertPrompt(user, "a1");
      const answer = text(MAX_PIECE_BYTES + 10, 4);
      expect(() =>
        store.transaction(() => {
          store.insertPrompt({ ...user, id: "u2", createdAt: 9 }, "a2");
          store.finishMessage(position, { content: answer, status: "complete" });
          throw new Error("rolled back");
        }),
      ).toThrow("rolled back");
      expect(tables(state.storage.sql)).toEqual(["events", "messages", "meta"]);
      expect(store.messageCount()).toBe(2);
      expect(store.lastActivity()).toBe(5);
      expect(store.history().map((message) => message.content)).toEqual(["q", ""]);
    });
  });
});

/**
 * A principal's list of its chats, kept in its Account object (src/account/Account.ts), so
 * `GET /sessions` is one call to one object and never visits a session. Sessions tell it what
 * changed (src/directory/listing.ts).
 *
 * Rows written are the bill: an answer costs one row here (the upsert at its end). The table is
 * keyed by session id alone (WITHOUT ROWID, so no second index row per write); the list is
 * sorted at read time, which costs rows read, billed at a small fraction of rows written.
 * Whether an answer streams is kept in memory here: set at its start, cleared at its end,
 * renewed by the session's heartbeat, and forgotten if it is not renewed (a session that died).
 * The answer's slot lease stores it too (src/limits/leases.ts), and gives it back after an eviction.
 */
import type { ChatPage, ChatSummary, ListRequest } from "../protocol.ts";
import { encodeCursor } from "./cursor.ts";

/** A streaming mark not renewed for this long belongs to a session that died mid-answer. */
export const STREAMING_MARK_MS = 90_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS chats (
  session TEXT PRIMARY KEY,
  title TEXT,
  created_at INTEGER NOT NULL,
  last_activity INTEGER NOT NULL,
  messages INTEGER NOT NULL DEFAULT 0,
  preview TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;`;

/** What a session reports when an answer ended. */
export interface AnswerSummary {
  title: string | null;
  messages: number;
  preview: string;
  /** When the answer ended. */
  at: number;
}

type Row = Record<string, SqlStorageValue>;

/** A session's streaming mark: the chat list shows it as answering, with its title so far. */
export interface StreamingMark {
  session: string;
  title: string | null;
}

/** The chat list of one Account: a table, and the marks of the sessions answering now. */
export class ChatList {
  /** Rows written since this object started; the storage-cost test reads it. */
  rowsWritten = 0;
  /** Sessions answering now: when their mark was set or renewed, and their title so far. */
  private readonly streaming = new Map<string, { at: number; title: string | null }>();

  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  private write(query: string, ...bindings: SqlStorageValue[]): void {
    const cursor = this.sql.exec(query, ...bindings);
    cursor.toArray();
    this.rowsWritten += cursor.rowsWritten;
  }

  /** A session was created (idempotent: creating twice keeps the first). */
  created(session: string, at: number): void {
    this.write(
      "INSERT OR IGNORE INTO chats (session, created_at, last_activity) VALUES (?, ?, ?)",
      session,
      at,
      at,
    );
  }

  /** An answer started, or is still running (the session's heartbeat); nothing is written. */
  streamingNow(session: string, title: string | null): void {
    this.streaming.set(session, { at: Date.now(), title });
  }

  /** An answer ended: one row written, whether the chat was listed before or not. */
  answered(session: string, summary: AnswerSummary): void {
    this.streaming.delete(session);
    this.write(
      `INSERT INTO chats (session, title, created_at, last_activity, messages, preview)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (session) DO UPDATE SET title = excluded.title,
         last_activity = excluded.last_activity, messages = excluded.messages,
         preview = excluded.preview`,
      session,
      summary.title,
      summary.at,
      summary.at,
      summary.messages,
      summary.preview,
    );
  }

  /** The chat was renamed; its place in the list does not change. */
  renamed(session: string, title: string): void {
    const mark = this.streaming.get(session);
    if (mark) mark.title = title;
    this.write("UPDATE chats SET title = ? WHERE session = ?", title, session);
  }

  /** The chat was deleted or expired. */
  removed(session: string): void {
    this.streaming.delete(session);
    this.write("DELETE FROM chats WHERE session = ?", session);
  }

  /** One page, newest activity first; ties in time are ordered by session id. */
  list(request: ListRequest): ChatPage {
    const { limit, cursor } = request;
    const rows = cursor
      ? this.sql
          .exec<Row>(
            `SELECT * FROM chats WHERE last_activity < ?1 OR (last_activity = ?1 AND session < ?2)
             ORDER BY last_activity DESC, session DESC LIMIT ?3`,
            cursor.at,
            cursor.session,
            limit + 1,
          )
          .toArray()
      : this.sql
          .exec<Row>(
            "SELECT * FROM chats ORDER BY last_activity DESC, session DESC LIMIT ?",
            limit + 1,
          )
          .toArray();
    const now = Date.now();
    const chats = rows.slice(0, limit).map((row) => this.summary(row, now));
    const last = chats.at(-1);
    const more = rows.length > limit && last !== undefined;
    return {
      chats,
      cursor: more ? encodeCursor({ at: last.lastActivity, session: last.session }) : null,
    };
  }

  private summary(row: Row, now: number): ChatSummary {
    const session = String(row.session);
    let mark = this.streaming.get(session);
    if (mark && now - mark.at > STREAMING_MARK_MS) {
      this.streaming.delete(session);
      mark = undefined;
    }
    const stored = typeof row.title === "string" ? row.title : null;
    return {
      session,
      title: stored ?? mark?.title ?? null,
      createdAt: Number(row.created_at),
      lastActivity: Number(row.last_activity),
      messages: Number(row.messages),
      preview: String(row.preview),
      streaming: mark !== undefined,
    };
  }
}

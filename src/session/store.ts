/**
 * The session's durable state in the Durable Object's SQLite: the message history and the
 * event log (events are stored in batches, one row per batch, never one row per token).
 * A text longer than one piece (src/session/row-limit.ts) is stored as its first piece in its
 * row and the rest in a side table, and read back whole; every write is measured first.
 *
 * Rows written are the bill, and every index is a row more per insert: messages are keyed by
 * their position alone (no AUTOINCREMENT, whose counter table is another row, and no index on
 * the message id, which is random and only read back with the whole history).
 */
import { type ErrorCode, isErrorCode } from "../errors.ts";
import type {
  MessagePart,
  MessageStatus,
  SessionEvent,
  SessionOptions,
  StoredMessage,
} from "../protocol.ts";
import type { Usage } from "../providers/types.ts";
import {
  boundBytes,
  MAX_BOUND_BYTES,
  MAX_PIECE_BYTES,
  MAX_SQL_ROW_BYTES,
  splitUtf8,
} from "./row-limit.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
  position INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  finish TEXT,
  error_code TEXT,
  input_tokens INTEGER,
  output_tokens INTEGER,
  parts TEXT
);
CREATE TABLE IF NOT EXISTS events (
  first_seq INTEGER PRIMARY KEY,
  last_seq INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  frames TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS message_pieces (
  position INTEGER NOT NULL,
  piece INTEGER NOT NULL,
  content TEXT NOT NULL,
  PRIMARY KEY (position, piece)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS event_pieces (
  first_seq INTEGER NOT NULL,
  piece INTEGER NOT NULL,
  frames TEXT NOT NULL,
  PRIMARY KEY (first_seq, piece)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS message_part_pieces (
  position INTEGER NOT NULL,
  piece INTEGER NOT NULL,
  parts TEXT NOT NULL,
  PRIMARY KEY (position, piece)
) WITHOUT ROWID;`;

/**
 * Columns added after the first schema, each with the statement that adds it: a database
 * written before them gets them when it opens (old rows read them as NULL).
 */
const ADDED_COLUMNS = {
  /** An assistant message's parts as JSON (its first piece; the rest in message_part_pieces). NULL: one text part. */
  parts: "ALTER TABLE messages ADD COLUMN parts TEXT",
} as const;

/** How an assistant message ended. */
export interface MessageOutcome {
  content: string;
  /** The answer's parts; left out, the message is one text part (`content`). */
  parts?: MessagePart[];
  status: Exclude<MessageStatus, "streaming">;
  finish?: string;
  errorCode?: ErrorCode;
  usage?: Usage;
}

type Row = Record<string, SqlStorageValue>;

const STATUSES: readonly string[] = ["streaming", "complete", "incomplete", "error", "cancelled"];

function isStatus(value: unknown): value is MessageStatus {
  return typeof value === "string" && STATUSES.includes(value);
}

/** Stored parts JSON (our own rows), or the one text part of a row written without parts. */
function partsOf(json: SqlStorageValue | undefined, content: string): MessagePart[] {
  if (typeof json === "string") {
    const parsed: unknown = JSON.parse(json);
    if (Array.isArray(parsed)) return parsed;
  }
  return content === "" ? [] : [{ type: "text", text: content }];
}

function toMessage(row: Row): StoredMessage {
  const role = row.role === "assistant" ? "assistant" : "user";
  const content = String(row.content);
  const message: StoredMessage = {
    id: String(row.id),
    role,
    content,
    parts: partsOf(row.parts, content),
    status: isStatus(row.status) ? row.status : "incomplete",
    createdAt: Number(row.created_at),
  };
  if (typeof row.finish === "string") message.finish = row.finish;
  if (isErrorCode(row.error_code)) message.errorCode = row.error_code;
  if (typeof row.input_tokens === "number" && typeof row.output_tokens === "number") {
    message.usage = { inputTokens: row.input_tokens, outputTokens: row.output_tokens };
  }
  return message;
}

/** Reads and writes one session's tables, counting the rows it writes (the storage bill). */
export class SessionStore {
  /** Rows written since this object started; the storage benchmark and tests read it. */
  rowsWritten = 0;

  private readonly sql: SqlStorage;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
    this.sql.exec(SCHEMA);
    this.migrate();
  }

  /** Adds the columns a database written by an older schema lacks (docs/storage.md "Migrations"). */
  private migrate(): void {
    const have = new Set(this.rows("PRAGMA table_info(messages)").map((row) => String(row.name)));
    for (const [column, statement] of Object.entries(ADDED_COLUMNS)) {
      if (!have.has(column)) this.sql.exec(statement);
    }
  }

  /**
   * Every write goes through here: one that production would refuse for its size throws
   * before it reaches SQL, so a test fails locally whenever Cloudflare would.
   */
  private write(query: string, ...bindings: SqlStorageValue[]): void {
    const bytes = boundBytes(bindings);
    if (bytes > MAX_BOUND_BYTES) {
      throw new RangeError(
        `A SQLite write of ${bytes} bytes would pass Cloudflare's ${MAX_SQL_ROW_BYTES}-byte row limit.`,
      );
    }
    const cursor = this.sql.exec(query, ...bindings);
    cursor.toArray();
    this.rowsWritten += cursor.rowsWritten;
  }

  private rows(query: string, ...bindings: SqlStorageValue[]): Row[] {
    return this.sql.exec<Row>(query, ...bindings).toArray();
  }

  /** Runs `work` as one transaction: its writes are one commit. */
  transaction<T>(work: () => T): T {
    return this.storage.transactionSync(work);
  }

  /** The session id, once the session was created. */
  sessionId(): string | undefined {
    const [row] = this.rows("SELECT value FROM meta WHERE key = 'session'");
    return row === undefined ? undefined : String(row.value);
  }

  /** Marks this object as the session `id`, owned by `owner`, with its options. */
  create(id: string, owner: string, options: SessionOptions): void {
    this.storage.transactionSync(() => {
      this.write("INSERT OR IGNORE INTO meta (key, value) VALUES ('session', ?)", id);
      this.write("INSERT OR IGNORE INTO meta (key, value) VALUES ('owner', ?)", owner);
      this.write(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('on_abandon', ?)",
        options.onAbandon,
      );
    });
  }

  /** The principal that created the session. */
  owner(): string | undefined {
    const [row] = this.rows("SELECT value FROM meta WHERE key = 'owner'");
    return row === undefined ? undefined : String(row.value);
  }

  /** Records when the session was created (the first time only): idle time counts from it. */
  markCreated(at: number): void {
    this.write("INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', ?)", String(at));
  }

  /** When the session was created, if it recorded it. */
  createdAt(): number | undefined {
    const [row] = this.rows("SELECT value FROM meta WHERE key = 'created_at'");
    return row === undefined ? undefined : Number(row.value);
  }

  /** The title the session was given by a rename, if it was. */
  title(): string | undefined {
    const [row] = this.rows("SELECT value FROM meta WHERE key = 'title'");
    return row === undefined ? undefined : String(row.value);
  }

  /** Gives the session a title (one row). */
  setTitle(title: string): void {
    this.write("INSERT OR REPLACE INTO meta (key, value) VALUES ('title', ?)", title);
  }

  /** The text of the first user message, once there is one. */
  firstPrompt(): string | undefined {
    const [row] = this.rows(
      "SELECT content FROM messages WHERE role = 'user' ORDER BY position LIMIT 1",
    );
    return row === undefined ? undefined : String(row.content);
  }

  /** The text of the newest message that has any. */
  lastMessage(): string | undefined {
    const [row] = this.rows(
      "SELECT content FROM messages WHERE content != '' ORDER BY position DESC LIMIT 1",
    );
    return row === undefined ? undefined : String(row.content);
  }

  /** When the newest message was created (its turn's prompt), or undefined without messages. */
  lastActivity(): number | undefined {
    const [row] = this.rows("SELECT created_at AS at FROM messages ORDER BY position DESC LIMIT 1");
    return typeof row?.at === "number" ? row.at : undefined;
  }

  /** How many messages the session holds. */
  messageCount(): number {
    const [row] = this.rows("SELECT COUNT(*) AS count FROM messages");
    return Number(row?.count ?? 0);
  }

  /** The options the session was created with. */
  options(): SessionOptions {
    const [row] = this.rows("SELECT value FROM meta WHERE key = 'on_abandon'");
    return { onAbandon: row?.value === "cancel" ? "cancel" : "continue" };
  }

  /** The whole history, oldest first. */
  history(): StoredMessage[] {
    return this.messages("SELECT * FROM messages ORDER BY position");
  }

  /** The message at `position`, if there is one. */
  messageAt(position: number): StoredMessage | undefined {
    return this.messages("SELECT * FROM messages WHERE position = ?", position)[0];
  }

  private messages(query: string, ...bindings: SqlStorageValue[]): StoredMessage[] {
    const rows = this.rows(query, ...bindings);
    if (rows.length === 0) return [];
    const rest = this.pieces("SELECT position AS key, content AS text FROM message_pieces");
    const partsRest = this.pieces("SELECT position AS key, parts AS text FROM message_part_pieces");
    return rows.map((row) => {
      const key = Number(row.position);
      const more = rest.get(key);
      const moreParts = partsRest.get(key);
      return toMessage({
        ...row,
        content: String(row.content) + (more ?? ""),
        parts: typeof row.parts === "string" ? row.parts + (moreParts ?? "") : null,
      });
    });
  }

  /** A meta value (the tool wait, settings), if set. */
  meta(key: string): string | undefined {
    const [row] = this.rows("SELECT value FROM meta WHERE key = ?", key);
    return row === undefined ? undefined : String(row.value);
  }

  /** Sets (or with `undefined`, deletes) a meta value; one row. */
  setMeta(key: string, value: string | undefined): void {
    if (value === undefined) this.write("DELETE FROM meta WHERE key = ?", key);
    else this.write("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }

  /** Marks the finished message at `position` as `streaming` again: a continuation writes it. */
  reopenMessage(position: number): void {
    this.write("UPDATE messages SET status = 'streaming' WHERE position = ?", position);
  }

  /** The pieces after the first of each long text, joined per key (`key`, `text` columns). */
  private pieces(query: string, ...bindings: SqlStorageValue[]): Map<number, string> {
    const joined = new Map<number, string[]>();
    for (const row of this.rows(`${query} ORDER BY key, piece`, ...bindings)) {
      const key = Number(row.key);
      const list = joined.get(key) ?? [];
      list.push(String(row.text));
      joined.set(key, list);
    }
    return new Map([...joined].map(([key, list]) => [key, list.join("")]));
  }

  /**
   * Stores a user message and the assistant message that will answer it, in one transaction;
   * returns the assistant message's position, by which it is finished.
   */
  insertTurn(user: StoredMessage, assistantId: string): number {
    return this.storage.transactionSync(() => {
      const insert = (id: string, role: string, content: string, status: string) =>
        this.write(
          "INSERT INTO messages (id, role, content, status, created_at) VALUES (?, ?, ?, ?, ?)",
          id,
          role,
          content,
          status,
          user.createdAt,
        );
      insert(user.id, "user", user.content, "complete");
      insert(assistantId, "assistant", "", "streaming");
      const [row] = this.rows("SELECT last_insert_rowid() AS position");
      return Number(row?.position);
    });
  }

  /**
   * Records how the assistant message at `position` ended; a long answer in pieces. With
   * parts, the text and the parts JSON share the row, so each is cut at half a piece.
   */
  finishMessage(position: number, outcome: MessageOutcome): void {
    const pieceBytes = outcome.parts ? MAX_PIECE_BYTES / 2 : MAX_PIECE_BYTES;
    const [first = "", ...rest] = splitUtf8(outcome.content, pieceBytes);
    const [firstParts, ...restParts] = outcome.parts
      ? splitUtf8(JSON.stringify(outcome.parts), pieceBytes)
      : [null];
    this.storage.transactionSync(() => {
      this.write(
        `UPDATE messages SET content = ?, parts = ?, status = ?, finish = ?, error_code = ?,
         input_tokens = ?, output_tokens = ? WHERE position = ?`,
        first,
        firstParts ?? null,
        outcome.status,
        outcome.finish ?? null,
        outcome.errorCode ?? null,
        outcome.usage?.inputTokens ?? null,
        outcome.usage?.outputTokens ?? null,
        position,
      );
      // Written once per message; a second finish (after a failed one) replaces the pieces.
      this.write("DELETE FROM message_pieces WHERE position = ?", position);
      for (const [index, piece] of rest.entries()) {
        this.write(
          "INSERT INTO message_pieces (position, piece, content) VALUES (?, ?, ?)",
          position,
          index + 1,
          piece,
        );
      }
      if (restParts.length > 0 || outcome.parts) {
        this.write("DELETE FROM message_part_pieces WHERE position = ?", position);
      }
      for (const [index, piece] of restParts.entries()) {
        this.write(
          "INSERT INTO message_part_pieces (position, piece, parts) VALUES (?, ?, ?)",
          position,
          index + 1,
          piece,
        );
      }
    });
  }

  /** Assistant messages still marked `streaming`: after a restart, no generation owns them. */
  orphanedMessages(): Array<{ position: number; id: string }> {
    return this.rows("SELECT position, id FROM messages WHERE status = 'streaming'").map((row) => ({
      position: Number(row.position),
      id: String(row.id),
    }));
  }

  /**
   * Appends a batch of events as one row (more when it is longer than a piece). The batch
   * covers the numbers from `firstSeq` (at most its first event's) to its last event's: a
   * batch written after a restart also covers the numbers lost with the dead instance.
   */
  appendEvents(events: readonly SessionEvent[], firstSeq: number, now: number): void {
    const last = events.at(-1);
    if (last === undefined) return;
    const [first = "", ...rest] = splitUtf8(JSON.stringify(events));
    this.storage.transactionSync(() => {
      this.write(
        "INSERT INTO events (first_seq, last_seq, created_at, frames) VALUES (?, ?, ?, ?)",
        firstSeq,
        last.seq,
        now,
        first,
      );
      for (const [index, piece] of rest.entries()) {
        this.write(
          "INSERT INTO event_pieces (first_seq, piece, frames) VALUES (?, ?, ?)",
          firstSeq,
          index + 1,
          piece,
        );
      }
    });
  }

  /** Stored events with a sequence number above `after`, in order. */
  eventsAfter(after: number): SessionEvent[] {
    const batches = this.rows(
      "SELECT first_seq, frames FROM events WHERE last_seq > ? ORDER BY first_seq",
      after,
    );
    const from = batches[0]?.first_seq;
    if (from === undefined) return [];
    const rest = this.pieces(
      "SELECT first_seq AS key, frames AS text FROM event_pieces WHERE first_seq >= ?",
      from,
    );
    // Our own rows, written by appendEvents from typed events.
    const events = batches.flatMap(
      (row) =>
        JSON.parse(String(row.frames) + (rest.get(Number(row.first_seq)) ?? "")) as SessionEvent[],
    );
    return events.filter((event) => event.seq > after);
  }

  /** The lowest stored sequence number, or undefined when none is stored. */
  firstStoredSeq(): number | undefined {
    const [row] = this.rows("SELECT MIN(first_seq) AS seq FROM events");
    return typeof row?.seq === "number" ? row.seq : undefined;
  }

  /** The highest stored sequence number, or 0. */
  lastStoredSeq(): number {
    const [row] = this.rows("SELECT MAX(last_seq) AS seq FROM events");
    return typeof row?.seq === "number" ? row.seq : 0;
  }

  /** Deletes event batches written before `before`, always keeping the newest batch. */
  pruneEvents(before: number): void {
    this.write(
      "DELETE FROM events WHERE created_at < ? AND first_seq < (SELECT MAX(first_seq) FROM events)",
      before,
    );
    this.write("DELETE FROM event_pieces WHERE first_seq NOT IN (SELECT first_seq FROM events)");
  }
}

/**
 * The session's durable state in the Durable Object's SQLite: its meta (id, owner, options,
 * title, tool wait) and the message history here, the event log in event-rows.ts, the tables
 * in store-rows.ts. A text longer than one piece (src/session/row-limit.ts) is stored as its
 * first piece in its row and the rest in a side table, and read back whole; every write is
 * measured first.
 */
import type { SessionOptions, StoredMessage } from "../protocol.ts";
import { EventRows } from "./event-rows.ts";
import { MAX_PIECE_BYTES, splitUtf8 } from "./row-limit.ts";
import { type MessageOutcome, type Row, toMessage } from "./store-rows.ts";

export type { MessageOutcome } from "./store-rows.ts";

/** The meta keys the session writes; a new database has none of them. */
const META_KEYS = ["session", "owner", "on_abandon", "created_at", "title", "tool_wait"];

/** Reads and writes one session's tables, counting the rows it writes (the storage bill). */
export class SessionStore extends EventRows {
  /**
   * Meta values read or written by this object, by key (undefined: not set). Every meta write
   * goes through this class, so what it holds is what is stored.
   */
  private readonly metaRead = new Map<string, string | undefined>(
    this.fresh ? META_KEYS.map((key) => [key, undefined]) : [],
  );
  /** How many messages are stored, once counted: only `insertPrompt` adds any. */
  private count: number | undefined;
  /** When the newest message was created (undefined: none), null until read. */
  private newest: number | undefined | null = this.fresh ? undefined : null;

  protected override forget(): void {
    super.forget();
    this.metaRead.clear();
    this.count = undefined;
    this.newest = null;
  }

  /** The session id, once the session was created. */
  sessionId(): string | undefined {
    return this.meta("session");
  }

  /** Whether this object is the session `session`, created by `principal`. */
  isOwnedBy(session: string, principal: string): boolean {
    return this.sessionId() === session && this.owner() === principal;
  }

  /**
   * Marks this object as the session `id`, owned by `owner`, with its options, created `at`
   * (idle time counts from it), in one statement. A second call changes nothing: the first
   * creation's values stay.
   */
  create(id: string, owner: string, options: SessionOptions, at: number): void {
    this.write(
      `INSERT OR IGNORE INTO meta (key, value) VALUES
       ('session', ?), ('owner', ?), ('on_abandon', ?), ('created_at', ?)`,
      id,
      owner,
      options.onAbandon,
      String(at),
    );
    for (const key of ["session", "owner", "on_abandon", "created_at"]) this.metaRead.delete(key);
  }

  /** The principal that created the session. */
  owner(): string | undefined {
    return this.meta("owner");
  }

  /** When the session was created, if it recorded it. */
  createdAt(): number | undefined {
    const value = this.meta("created_at");
    return value === undefined ? undefined : Number(value);
  }

  /** The title the session was given by a rename, if it was. */
  title(): string | undefined {
    return this.meta("title");
  }

  /** Gives the session a title (one row). */
  setTitle(title: string): void {
    this.setMeta("title", title);
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
    if (this.newest === null) {
      const [row] = this.rows(
        "SELECT created_at AS at FROM messages ORDER BY position DESC LIMIT 1",
      );
      this.newest = typeof row?.at === "number" ? row.at : undefined;
    }
    return this.newest;
  }

  /** How many messages the session holds. */
  messageCount(): number {
    if (this.count === undefined) {
      const [row] = this.rows("SELECT COUNT(*) AS count FROM messages");
      this.count = Number(row?.count ?? 0);
    }
    return this.count;
  }

  /** The options the session was created with. */
  options(): SessionOptions {
    return { onAbandon: this.meta("on_abandon") === "cancel" ? "cancel" : "continue" };
  }

  /** The whole history, oldest first. */
  history(): StoredMessage[] {
    return this.messages("SELECT * FROM messages ORDER BY position");
  }

  /** The message at `position`, if there is one. */
  messageAt(position: number): StoredMessage | undefined {
    return this.messages("SELECT * FROM messages WHERE position = ?", position)[0];
  }

  /**
   * The history newest first, a row at a time: a reader that stops early (a context within
   * its budget) reads no older row.
   */
  *newestFirst(): Generator<StoredMessage> {
    let whole: ((row: Row) => StoredMessage) | undefined;
    for (const row of this.sql.exec<Row>("SELECT * FROM messages ORDER BY position DESC")) {
      whole ??= this.joiner();
      yield whole(row);
    }
  }

  private messages(query: string, ...bindings: SqlStorageValue[]): StoredMessage[] {
    const rows = this.rows(query, ...bindings);
    if (rows.length === 0) return [];
    return rows.map(this.joiner());
  }

  /** Makes a row a message, its long texts joined from their pieces (read once, here). */
  private joiner(): (row: Row) => StoredMessage {
    const rest = this.pieces(
      "message_pieces",
      "SELECT position AS key, content AS text FROM message_pieces",
    );
    const partsRest = this.pieces(
      "message_part_pieces",
      "SELECT position AS key, parts AS text FROM message_part_pieces",
    );
    return (row) => {
      const key = Number(row.position);
      const more = rest.get(key);
      const moreParts = partsRest.get(key);
      return toMessage({
        ...row,
        content: String(row.content) + (more ?? ""),
        parts: typeof row.parts === "string" ? row.parts + (moreParts ?? "") : null,
      });
    };
  }

  /** A meta value (the tool wait, settings), if set; read once, then kept. */
  meta(key: string): string | undefined {
    if (!this.metaRead.has(key)) {
      const [row] = this.rows("SELECT value FROM meta WHERE key = ?", key);
      this.metaRead.set(key, row === undefined ? undefined : String(row.value));
    }
    return this.metaRead.get(key);
  }

  /** Sets (or with `undefined`, deletes) a meta value; one row. */
  setMeta(key: string, value: string | undefined): void {
    // Forgotten first: if the write throws, the next read asks the table.
    this.metaRead.delete(key);
    if (value === undefined) this.write("DELETE FROM meta WHERE key = ?", key);
    else this.write("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
    this.metaRead.set(key, value);
  }

  /** Marks the finished message at `position` as `streaming` again: a continuation writes it. */
  reopenMessage(position: number): void {
    this.write("UPDATE messages SET status = 'streaming' WHERE position = ?", position);
  }

  /**
   * Stores a user message and the assistant message that will answer it, in one transaction;
   * returns the assistant message's position, by which it is finished.
   */
  insertPrompt(user: StoredMessage, assistantId: string): number {
    const count = this.messageCount();
    const inserted = this.write(
      `INSERT INTO messages (id, role, content, status, created_at)
       VALUES (?, 'user', ?, 'complete', ?), (?, 'assistant', '', 'streaming', ?)
       RETURNING position`,
      user.id,
      user.content,
      user.createdAt,
      assistantId,
      user.createdAt,
    );
    this.count = count + 2;
    this.newest = user.createdAt;
    // RETURNING's order is SQLite's choice; the answer came second, so it has the higher one.
    return Math.max(...inserted.map((row) => Number(row.position)));
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
      : [];
    this.transaction(() => {
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
      this.replacePieces("message_pieces", "content", position, rest);
      this.replacePieces("message_part_pieces", "parts", position, restParts);
    });
  }

  /** Replaces the pieces (from the second on) of the message at `position` in `table`. */
  private replacePieces(
    table: "message_pieces" | "message_part_pieces",
    column: "content" | "parts",
    position: number,
    pieces: string[],
  ): void {
    if (this.hasPieces(table)) this.write(`DELETE FROM ${table} WHERE position = ?`, position);
    const insert = `INSERT INTO ${table} (position, piece, ${column}) VALUES (?, ?, ?)`;
    this.writePieces(table, insert, position, pieces);
  }

  /** Assistant messages still marked `streaming`: after a restart, no answer owns them. */
  orphanedMessages(): Array<{ position: number; id: string }> {
    if (this.fresh) return [];
    return this.rows("SELECT position, id FROM messages WHERE status = 'streaming'").map((row) => ({
      position: Number(row.position),
      id: String(row.id),
    }));
  }
}

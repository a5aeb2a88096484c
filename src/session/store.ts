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
import { type MessageOutcome, toMessage } from "./store-rows.ts";

export type { MessageOutcome } from "./store-rows.ts";

/** Reads and writes one session's tables, counting the rows it writes (the storage bill). */
export class SessionStore extends EventRows {
  /** The session id and owner, read once: both are written once, at creation. */
  private id: string | undefined;
  private creator: string | undefined;

  /** The session id, once the session was created (kept once read: it never changes). */
  sessionId(): string | undefined {
    this.id ??= this.meta("session");
    return this.id;
  }

  /** Whether this object is the session `session`, created by `principal`. */
  isOwnedBy(session: string, principal: string): boolean {
    return this.sessionId() === session && this.owner() === principal;
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

  /** The principal that created the session (kept once read: it never changes). */
  owner(): string | undefined {
    this.creator ??= this.meta("owner");
    return this.creator;
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

  /**
   * Stores a user message and the assistant message that will answer it, in one transaction;
   * returns the assistant message's position, by which it is finished.
   */
  insertPrompt(user: StoredMessage, assistantId: string): number {
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

  /** Assistant messages still marked `streaming`: after a restart, no answer owns them. */
  orphanedMessages(): Array<{ position: number; id: string }> {
    return this.rows("SELECT position, id FROM messages WHERE status = 'streaming'").map((row) => ({
      position: Number(row.position),
      id: String(row.id),
    }));
  }
}

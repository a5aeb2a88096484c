/**
 * The session's SQLite tables and the row-level helpers every part of its store uses: the
 * schema (and its migrations), measured writes, counted rows, long texts read back whole.
 * Rows written are the bill, and every index is a row more per insert: messages are keyed by
 * their position alone (no AUTOINCREMENT, whose counter table is another row, and no index on
 * the message id, which is random and only read back with the whole history). The tables of
 * pieces (texts longer than one row takes) are created by the first such text: most sessions
 * never have one, and a new session's schema is most of what its first write costs.
 */
import { type ErrorCode, isErrorCode } from "../errors.ts";
import { isStatus, type MessagePart, type MessageStatus, type StoredMessage } from "../protocol.ts";
import type { Usage } from "../providers/types.ts";
import { boundBytes, MAX_BOUND_BYTES, MAX_SQL_ROW_BYTES } from "./row-limit.ts";

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
);`;

/** The pieces after the first of each long text: message content, event batches, message parts. */
const PIECE_TABLES = {
  message_pieces:
    "position INTEGER NOT NULL, piece INTEGER NOT NULL, content TEXT NOT NULL, PRIMARY KEY (position, piece)",
  event_pieces:
    "first_seq INTEGER NOT NULL, piece INTEGER NOT NULL, frames TEXT NOT NULL, PRIMARY KEY (first_seq, piece)",
  message_part_pieces:
    "position INTEGER NOT NULL, piece INTEGER NOT NULL, parts TEXT NOT NULL, PRIMARY KEY (position, piece)",
} as const;

export type PieceTable = keyof typeof PIECE_TABLES;

/** Which of `tables` hold pieces. */
const piecesOf = (tables: Set<string>) =>
  new Set([...tables].filter((name) => name.endsWith("_pieces")));

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

export type Row = Record<string, SqlStorageValue>;

/** Stored parts JSON (our own rows), or the one text part of a row written without parts. */
function partsOf(json: SqlStorageValue | undefined, content: string): MessagePart[] {
  if (typeof json === "string") {
    const parsed: unknown = JSON.parse(json);
    if (Array.isArray(parsed)) return parsed;
  }
  return content === "" ? [] : [{ type: "text", text: content }];
}

export function toMessage(row: Row): StoredMessage {
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

/** The tables and the helpers that read and write them, counting the rows written. */
export class StoreRows {
  /** Rows written since this object started; the storage benchmark and tests read it. */
  rowsWritten = 0;

  protected readonly sql: SqlStorage;
  /** The tables of pieces this database has (created by its first long text). */
  private pieceTables: Set<string>;

  /**
   * True when this object found no tables, until its first write: a new session, whose reads
   * have known answers (no meta, no messages, no events) meanwhile.
   */
  protected fresh: boolean;

  constructor(protected readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
    const tables = this.tables();
    this.fresh = !tables.has("meta") && !tables.has("messages") && !tables.has("events");
    this.sql.exec(SCHEMA);
    // A new table has every column; an older one may lack some.
    if (tables.has("messages")) this.migrate();
    this.pieceTables = piecesOf(tables);
  }

  private tables(): Set<string> {
    const rows = this.rows("SELECT name FROM sqlite_master WHERE type = 'table'");
    return new Set(rows.map((row) => String(row.name)));
  }

  /** Whether `table` exists: without it, no text was ever long enough to need it. */
  protected hasPieces(table: PieceTable): boolean {
    return this.pieceTables.has(table);
  }

  /** Writes the pieces of one long text (from its second on) to `table`, creating it first. */
  protected writePieces(table: PieceTable, insert: string, key: number, pieces: string[]): void {
    if (pieces.length === 0) return;
    if (!this.pieceTables.has(table)) {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (${PIECE_TABLES[table]}) WITHOUT ROWID`);
      this.pieceTables.add(table);
    }
    for (const [index, piece] of pieces.entries()) this.write(insert, key, index + 1, piece);
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
  protected write(query: string, ...bindings: SqlStorageValue[]): Row[] {
    const bytes = boundBytes(bindings);
    if (bytes > MAX_BOUND_BYTES) {
      throw new RangeError(
        `A SQLite write of ${bytes} bytes would pass Cloudflare's ${MAX_SQL_ROW_BYTES}-byte row limit.`,
      );
    }
    this.fresh = false;
    const cursor = this.sql.exec<Row>(query, ...bindings);
    const rows = cursor.toArray();
    this.rowsWritten += cursor.rowsWritten;
    return rows;
  }

  protected rows(query: string, ...bindings: SqlStorageValue[]): Row[] {
    return this.sql.exec<Row>(query, ...bindings).toArray();
  }

  /**
   * Runs `work` as one transaction: its writes are one commit. If it throws, what this object
   * kept of the tables is read again (`forget`), since the rollback undid the writes it saw.
   */
  transaction<T>(work: () => T): T {
    try {
      return this.storage.transactionSync(work);
    } catch (error) {
      this.forget();
      throw error;
    }
  }

  /** Drops what this object kept of its tables; the next reads ask them. */
  protected forget(): void {
    this.pieceTables = piecesOf(this.tables());
  }

  /**
   * The pieces after the first of each long text in `table`, joined per key (`key`, `text`
   * columns); none when the table was never needed.
   */
  protected pieces(
    table: PieceTable,
    query: string,
    ...bindings: SqlStorageValue[]
  ): Map<number, string> {
    const joined = new Map<number, string[]>();
    if (!this.hasPieces(table)) return new Map();
    for (const row of this.rows(`${query} ORDER BY key, piece`, ...bindings)) {
      const key = Number(row.key);
      const list = joined.get(key) ?? [];
      list.push(String(row.text));
      joined.set(key, list);
    }
    return new Map([...joined].map(([key, list]) => [key, list.join("")]));
  }
}

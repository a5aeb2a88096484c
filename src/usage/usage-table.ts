/**
 * A principal's usage ledger, kept in its Account object (src/account/Account.ts): its tokens
 * per UTC day and model. Every answer of the principal, from any session anywhere, is one
 * record here, and the object runs one call at a time, so concurrent answers add up exactly:
 * each is one UPSERT.
 *
 * Storage is a ring of RETAIN_DAYS day slots per model, in a table keyed by (slot, provider,
 * model) WITHOUT ROWID (the key is the table, so no second index row). An answer on a day whose
 * slot still holds the day RETAIN_DAYS earlier overwrites it in the same UPSERT: every answer
 * writes exactly one row, and nothing ever needs a pruning pass. Readers filter on `day`.
 */
import { dayNumber, monthStartDay } from "./utc.ts";

/** Days of usage kept (and the most `GET /usage?days=` may ask for). */
export const RETAIN_DAYS = 90;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS usage (
  slot INTEGER NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  day INTEGER NOT NULL,
  answers INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  PRIMARY KEY (slot, provider, model)
) WITHOUT ROWID`;

// SET expressions read the row as it was, so `day` may be replaced in the same statement.
const RECORD = `
INSERT INTO usage (slot, provider, model, day, answers, input_tokens, output_tokens, reasoning_tokens)
VALUES (?, ?, ?, ?, 1, ?, ?, ?)
ON CONFLICT (slot, provider, model) DO UPDATE SET
  answers = CASE WHEN day = excluded.day THEN answers + 1 ELSE 1 END,
  input_tokens = CASE WHEN day = excluded.day THEN input_tokens + excluded.input_tokens ELSE excluded.input_tokens END,
  output_tokens = CASE WHEN day = excluded.day THEN output_tokens + excluded.output_tokens ELSE excluded.output_tokens END,
  reasoning_tokens = CASE WHEN day = excluded.day THEN reasoning_tokens + excluded.reasoning_tokens ELSE excluded.reasoning_tokens END,
  day = excluded.day
WHERE excluded.day >= day`;

/** One answer's tokens, as the ledger adds them. */
export interface UsageEntry {
  /** When the answer ended (ms since the epoch): its UTC day is the one it counts on. */
  at: number;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

/** The totals of one day and model. */
export interface UsageRow {
  /** Day number (days since 1970-01-01, UTC). */
  day: number;
  provider: string;
  model: string;
  answers: number;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

/** Output tokens used today and this month, for the quota check. */
export interface QuotaUse {
  day: number;
  month: number;
}

function count(value: SqlStorageValue | undefined): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** The usage table of one Account. */
export class UsageTable {
  /** Rows written since this object started; the storage-cost test reads it. */
  rowsWritten = 0;

  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  /** Adds one answer's tokens to its day and model: one UPSERT, one row written. */
  record(entry: UsageEntry): void {
    const day = dayNumber(entry.at);
    const cursor = this.sql.exec(
      RECORD,
      day % RETAIN_DAYS,
      entry.provider,
      entry.model,
      day,
      whole(entry.inputTokens),
      whole(entry.outputTokens),
      whole(entry.reasoningTokens),
    );
    cursor.toArray();
    this.rowsWritten += cursor.rowsWritten;
  }

  /** Output tokens of the day and of the UTC month that `now` falls in. */
  quotaUse(now: number): QuotaUse {
    const today = dayNumber(now);
    const [row] = this.sql
      .exec(
        `SELECT COALESCE(SUM(CASE WHEN day = ? THEN output_tokens END), 0) AS day,
                COALESCE(SUM(output_tokens), 0) AS month
         FROM usage WHERE day >= ? AND day <= ?`,
        today,
        monthStartDay(now),
        today,
      )
      .toArray();
    return { day: count(row?.day), month: count(row?.month) };
  }

  /** Every row from day number `from` to `to`, inclusive, oldest first. */
  rows(from: number, to: number): UsageRow[] {
    return this.sql
      .exec(
        "SELECT * FROM usage WHERE day >= ? AND day <= ? ORDER BY day, provider, model",
        from,
        to,
      )
      .toArray()
      .map((row) => ({
        day: count(row.day),
        provider: String(row.provider),
        model: String(row.model),
        answers: count(row.answers),
        inputTokens: count(row.input_tokens),
        outputTokens: count(row.output_tokens),
        reasoningTokens: count(row.reasoning_tokens),
      }));
  }

  /** Storage rows this instance has written. */
  stats(): { rowsWritten: number } {
    return { rowsWritten: this.rowsWritten };
  }
}

/** A token count as a non-negative integer: a provider's odd value never corrupts the sums. */
function whole(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/**
 * The event log's rows: events are stored in batches, one row per batch (more for a batch
 * longer than a piece), never one row per token; pruned after their retention.
 */
import type { SessionEvent } from "../protocol.ts";
import { splitUtf8 } from "./row-limit.ts";
import { StoreRows } from "./store-rows.ts";

/** The stored event batches of a session. */
export class EventRows extends StoreRows {
  /**
   * When the oldest stored batch was written: undefined when none is, null when not read yet.
   * A prompt prunes first, and this skips the prune when nothing has expired.
   */
  private oldestAt: number | null | undefined = this.fresh ? undefined : null;

  /**
   * Appends a batch of events as one row (more when it is longer than a piece). The batch
   * covers the numbers from `firstSeq` (at most its first event's) to its last event's: a
   * batch written after a restart also covers the numbers lost with the dead instance.
   */
  appendEvents(events: readonly SessionEvent[], firstSeq: number, now: number): void {
    const last = events.at(-1);
    if (last === undefined) return;
    const [first = "", ...rest] = splitUtf8(JSON.stringify(events));
    this.transaction(() => {
      this.write(
        "INSERT INTO events (first_seq, last_seq, created_at, frames) VALUES (?, ?, ?, ?)",
        firstSeq,
        last.seq,
        now,
        first,
      );
      this.writePieces(
        "event_pieces",
        "INSERT INTO event_pieces (first_seq, piece, frames) VALUES (?, ?, ?)",
        firstSeq,
        rest,
      );
    });
    if (this.oldestAt === undefined) this.oldestAt = now;
  }

  protected override forget(): void {
    super.forget();
    this.oldestAt = null;
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
      "event_pieces",
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
    if (this.fresh) return 0;
    const [row] = this.rows("SELECT MAX(last_seq) AS seq FROM events");
    return typeof row?.seq === "number" ? row.seq : 0;
  }

  /** Deletes event batches written before `before`, always keeping the newest batch. */
  pruneEvents(before: number): void {
    if (this.oldestAt === null) {
      const [row] = this.rows("SELECT MIN(created_at) AS at FROM events");
      this.oldestAt = typeof row?.at === "number" ? row.at : undefined;
    }
    if (this.oldestAt === undefined || this.oldestAt >= before) return;
    this.write(
      "DELETE FROM events WHERE created_at < ? AND first_seq < (SELECT MAX(first_seq) FROM events)",
      before,
    );
    if (this.hasPieces("event_pieces")) {
      this.write("DELETE FROM event_pieces WHERE first_seq NOT IN (SELECT first_seq FROM events)");
    }
    this.oldestAt = null;
  }
}

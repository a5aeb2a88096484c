/**
 * The session's event log: hands out sequence numbers, keeps the events not yet written in
 * memory and writes them in batches, and replays any range for a client that resumes.
 */
import type { ServerEvent, SessionEvent } from "../protocol.ts";
import type { SessionStore } from "./store.ts";

/** Distributive Omit, so each event type keeps its own fields. */
export type Unsequenced<E> = E extends unknown ? Omit<E, "seq"> : never;

/** When a batch is written: whichever comes first. */
export const BATCH = {
  /** Events in one stored row. Also the most a crash can lose, so restarts skip this many numbers. */
  maxEvents: 200,
  /**
   * Milliseconds a pending event may wait for its batch: the most of an answer a crash can
   * lose from storage. Longer means fewer rows for slow answers (bench/README.md "Storage").
   */
  maxAgeMs: 10_000,
} as const;

export class EventLog {
  private pending: SessionEvent[] = [];
  private oldestPendingAt = 0;
  private seq: number;

  /**
   * `interrupted`: the previous instance died during a generation. Its last batch may have been
   * lost with its events already sent, so numbering skips past any number a client could have
   * seen, and none is handed out twice. After a clean stop everything was written: no gap.
   */
  constructor(
    private readonly store: SessionStore,
    interrupted: boolean,
    private readonly now: () => number = Date.now,
  ) {
    const stored = store.lastStoredSeq();
    this.seq = interrupted ? stored + BATCH.maxEvents : stored;
  }

  /** The last sequence number handed out. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Numbers an event, queues it for storage and returns it. */
  append(event: Unsequenced<SessionEvent>): SessionEvent {
    this.seq += 1;
    const sequenced: SessionEvent = { ...event, seq: this.seq };
    if (this.pending.length === 0) this.oldestPendingAt = this.now();
    this.pending.push(sequenced);
    if (
      this.pending.length >= BATCH.maxEvents ||
      this.now() - this.oldestPendingAt >= BATCH.maxAgeMs
    ) {
      this.flush();
    }
    return sequenced;
  }

  /** Writes the pending events as one row. */
  flush(): void {
    if (this.pending.length === 0) return;
    this.store.appendEvents(this.pending, this.now());
    this.pending = [];
  }

  /** Every retained event after `after`, stored and pending, in order. */
  after(after: number): SessionEvent[] {
    const firstPending = this.pending[0]?.seq ?? Number.POSITIVE_INFINITY;
    const stored = after + 1 < firstPending ? this.store.eventsAfter(after) : [];
    return [
      ...stored.filter((event) => event.seq < firstPending),
      ...this.pending.filter((event) => event.seq > after),
    ];
  }

  /** Sends `client` the events after `after`, or tells it they are gone (never leaves it waiting). */
  replayTo(client: { send(frame: ServerEvent): void }, after: number): void {
    if (!this.canReplayFrom(after)) {
      const message = `Events after ${after} are no longer kept; load the history instead.`;
      client.send({ type: "error", code: "resume_unavailable", message });
      return;
    }
    for (const event of this.after(after)) client.send(event);
  }

  /** Whether events after `after` can still be replayed (false when retention removed some). */
  canReplayFrom(after: number): boolean {
    if (after >= this.seq) return true;
    const first = this.store.firstStoredSeq() ?? this.pending[0]?.seq;
    return first !== undefined && first <= after + 1;
  }
}

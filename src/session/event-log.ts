/**
 * The session's event log: hands out sequence numbers, keeps the events not yet written in
 * memory and writes them in batches, and replays any range for a client that resumes.
 */
import type { ServerEvent, SessionEvent } from "../protocol.ts";
import type { SessionStore } from "./store.ts";

/** Distributive Omit, so each event type keeps its own fields. */
export type Unsequenced<E> = E extends unknown ? Omit<E, "seq"> : never;

/** When a batch is written: whichever comes first. docs/storage.md "Flush policy". */
export const BATCH = {
  /** Events in one stored row. Also the most a crash can lose, so restarts skip this many numbers. */
  maxEvents: 200,
  /**
   * Milliseconds the oldest pending event waits before its batch is written, on a timer: a
   * reset loses at most the events of the last 2 s (this, plus a late timer and the write).
   * Every flush is one row, so a 1,000-token answer at 50 tokens/s (20 s) writes about ten.
   */
  maxAgeMs: 1_750,
} as const;

/** The part of the store the event log uses. */
export type EventStore = Pick<
  SessionStore,
  "appendEvents" | "eventsAfter" | "firstStoredSeq" | "lastStoredSeq"
>;

/** Time and timers, replaceable in tests. */
export interface Clock {
  now(): number;
  /** Runs `run` in `ms`; returns what cancels it. */
  after(ms: number, run: () => void): () => void;
}

const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  after: (ms, run) => {
    const timer = setTimeout(run, ms);
    return () => clearTimeout(timer);
  },
};

export interface EventLogOptions {
  /** A timed write failed; the caller ends what it was writing for. */
  onFlushError?: (error: unknown) => void;
  clock?: Clock;
}

export class EventLog {
  private pending: SessionEvent[] = [];
  /**
   * The first number the pending batch covers: its first event's, or lower after a restart,
   * so the numbers a dead instance lost belong to a stored batch and a client that saw one of
   * them still resumes from it.
   */
  private pendingFrom: number;
  private seq: number;
  /** Cancels the timed write of the pending batch, while one is due. */
  private cancelTimer: (() => void) | undefined;
  private readonly clock: Clock;
  private readonly onFlushError: (error: unknown) => void;

  /**
   * `interrupted`: the previous instance died during an answer. Its last batch may have been
   * lost with its events already sent, so numbering skips past any number a client could have
   * seen, and none is handed out twice. After a clean stop everything was written: no gap.
   */
  constructor(
    private readonly store: EventStore,
    interrupted: boolean,
    options: EventLogOptions = {},
  ) {
    const stored = store.lastStoredSeq();
    this.seq = interrupted ? stored + BATCH.maxEvents : stored;
    this.pendingFrom = stored + 1;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.onFlushError = options.onFlushError ?? ((error) => console.error("flush failed", error));
  }

  /** The last sequence number handed out. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Numbers an event and queues it for storage; never writes (see flushIfFull and flush). */
  append(event: Unsequenced<SessionEvent>): SessionEvent {
    this.seq += 1;
    const sequenced: SessionEvent = { ...event, seq: this.seq };
    this.pending.push(sequenced);
    this.cancelTimer ??= this.clock.after(BATCH.maxAgeMs, () => this.flushOnTimer());
    return sequenced;
  }

  /** Writes the pending batch once it holds `BATCH.maxEvents`. */
  flushIfFull(): void {
    if (this.pending.length >= BATCH.maxEvents) this.flush();
  }

  /** Writes the pending events as one batch; on failure they stay pending. */
  flush(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (this.pending.length === 0) return;
    this.store.appendEvents(this.pending, this.pendingFrom, this.clock.now());
    this.pendingFrom = this.seq + 1;
    this.pending = [];
  }

  private flushOnTimer(): void {
    this.cancelTimer = undefined;
    try {
      this.flush();
    } catch (error) {
      this.onFlushError(error);
    }
  }

  /** Every retained event after `after`, stored and pending, in order. */
  after(after: number): SessionEvent[] {
    const stored = after + 1 < this.pendingFrom ? this.store.eventsAfter(after) : [];
    return [
      ...stored.filter((event) => event.seq < this.pendingFrom),
      ...this.pending.filter((event) => event.seq > after),
    ];
  }

  /** Sends `client` the events after `after`, or tells it they are gone (never leaves it waiting). */
  replayTo(
    client: { send(frame: ServerEvent): void; replay?(frames: readonly ServerEvent[]): void },
    after: number,
  ): void {
    if (!this.canReplayFrom(after)) {
      const message = `Events after ${after} are no longer kept; load the history instead.`;
      client.send({ type: "error", code: "resume_unavailable", message });
      return;
    }
    const events = this.after(after);
    if (client.replay) client.replay(events);
    else for (const event of events) client.send(event);
  }

  /** Whether events after `after` can still be replayed (false when retention removed some). */
  canReplayFrom(after: number): boolean {
    if (after >= this.seq) return true;
    const first =
      this.store.firstStoredSeq() ?? (this.pending.length > 0 ? this.pendingFrom : undefined);
    return first !== undefined && first <= after + 1;
  }
}

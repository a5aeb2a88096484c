/**
 * Where a client stands in its session's event stream: which events it already delivered (to
 * skip them when a reconnect replays them) and where the next connection should resume.
 */

/** What a welcome frame says about the stream. */
export interface Welcome {
  lastSeq: number;
  generating: boolean;
}

/** Tracks the last delivered sequence number across connections. */
export class ResumeCursor {
  private seq = 0;
  /** Whether `seq` is a point the relay can resume from; until then, connections join. */
  private resumable = false;
  /** Whether the current connection joined (no `after`) rather than resumed. */
  private joining = false;

  /** The last sequence number delivered. */
  get lastSeq(): number {
    return this.seq;
  }

  /**
   * The `after` to open the next connection with, or undefined to join: a joiner is sent the
   * answer in progress from its start, and the history holds the rest.
   */
  next(): number | undefined {
    this.joining = !this.resumable;
    return this.resumable ? this.seq : undefined;
  }

  /** Notes the welcome frame of the connection opened after {@link next}. */
  welcome(frame: Welcome): void {
    // A joiner with no answer in progress is replayed nothing: everything up to lastSeq is in
    // the history, so a later resume starts there. A resume is replayed from its `after` instead.
    if (this.joining && !frame.generating && frame.lastSeq >= this.seq) {
      this.seq = frame.lastSeq;
      this.resumable = true;
    }
  }

  /** Whether an event is new; if so it counts as delivered. False for one seen before. */
  accept(seq: number): boolean {
    if (seq <= this.seq) return false;
    this.seq = seq;
    this.resumable = true;
    return true;
  }

  /** The relay no longer keeps the events after {@link lastSeq}: the next connection joins. */
  lost(): void {
    this.resumable = false;
  }
}

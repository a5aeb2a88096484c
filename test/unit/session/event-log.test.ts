// The event log's flush policy on a fake clock: how much a reset can lose, how many rows an
// answer costs, and how numbering and replay behave across a reset.
import { describe, expect, it } from "vitest";
import type { SessionEvent } from "../../../src/protocol.ts";
import { BATCH, type Clock, EventLog, type EventStore } from "../../../src/session/event-log.ts";

/** The bound docs/storage.md promises: a reset loses at most the last 2 s of events. */
const LOSS_BOUND_MS = 2_000;
/** Rows an answer writes besides its event batches: the prompt, the answer, its final update. */
const TURN_ROWS = 3;

interface Batch {
  firstSeq: number;
  events: SessionEvent[];
  at: number;
}

class FakeStore implements EventStore {
  batches: Batch[] = [];
  failures = 0;

  appendEvents(events: readonly SessionEvent[], firstSeq: number, now: number): void {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error("injected: appendEvents");
    }
    this.batches.push({ firstSeq, events: [...events], at: now });
  }
  eventsAfter(after: number): SessionEvent[] {
    return this.batches.flatMap((batch) => batch.events).filter((event) => event.seq > after);
  }
  firstStoredSeq(): number | undefined {
    return this.batches[0]?.firstSeq;
  }
  lastStoredSeq(): number {
    return this.batches.at(-1)?.events.at(-1)?.seq ?? 0;
  }
  storedSeqs(): Set<number> {
    return new Set(this.eventsAfter(0).map((event) => event.seq));
  }
}

class FakeClock implements Clock {
  time = 0;
  private timers: Array<{ at: number; run: () => void; live: boolean }> = [];

  now(): number {
    return this.time;
  }
  after(ms: number, run: () => void): () => void {
    const timer = { at: this.time + ms, run, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }
  /** Moves time to `to`, running each timer that falls due on the way, at its time. */
  advanceTo(to: number): void {
    for (;;) {
      const due = this.timers
        .filter((timer) => timer.live && timer.at <= to)
        .sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.time = due.at;
      due.live = false;
      due.run();
    }
    this.time = to;
  }
  pending(): number {
    return this.timers.filter((timer) => timer.live).length;
  }
}

const chunk = (i: number) => ({ type: "chunk", messageId: "m1", content: `t${i} ` }) as const;

/**
 * Streams a `tokens`-token answer `intervalMs` apart as ChatSession does (start, chunks with a
 * full-batch check after each, done, flush), checking the loss bound after every event.
 */
function streamAnswer(tokens: number, intervalMs: number) {
  const store = new FakeStore();
  const clock = new FakeClock();
  const log = new EventLog(store, false, { clock });
  const sentAt = new Map<number, number>();
  let worstLossMs = 0;
  // Batches are written in order, so the oldest unstored event is the one after the last stored.
  const check = () => {
    const oldest = sentAt.get(store.lastStoredSeq() + 1);
    if (oldest !== undefined) worstLossMs = Math.max(worstLossMs, clock.now() - oldest);
  };
  const send = (event: Parameters<EventLog["append"]>[0]) => {
    sentAt.set(log.append(event).seq, clock.now());
    log.flushIfFull();
    check();
  };
  send({ type: "start", messageId: "m1", userMessageId: "u1", prompt: "p" });
  for (let i = 0; i < tokens; i += 1) {
    clock.advanceTo(clock.now() + intervalMs);
    check();
    send(chunk(i));
  }
  send({ type: "done", messageId: "m1", status: "complete" });
  log.flush();
  return { store, clock, worstLossMs };
}

describe("the flush policy", () => {
  it("a 1,000-token answer at 50 tokens/s writes at most 20 rows and never holds an event unstored past 2 s", () => {
    const { store, clock, worstLossMs } = streamAnswer(1_000, 20);
    const rows = store.batches.length + TURN_ROWS;
    console.log(`1,000 tokens at 50 tokens/s: ${store.batches.length} batches, ${rows} rows`);
    expect(rows).toBeLessThanOrEqual(20);
    expect(worstLossMs).toBeLessThanOrEqual(BATCH.maxAgeMs);
    expect(BATCH.maxAgeMs).toBeLessThan(LOSS_BOUND_MS);
    expect(store.storedSeqs().size).toBe(1_002);
    // Idle afterwards: no timer left to keep the object awake.
    expect(clock.pending()).toBe(0);
  });

  it.each([
    [0, 6],
    [5, 6],
    [50, 29],
  ])(
    "at %i ms per token the answer writes %i event batches, each within the bound",
    (interval, batches) => {
      const { store, worstLossMs } = streamAnswer(1_000, interval);
      expect(store.batches.length).toBe(batches);
      expect(worstLossMs).toBeLessThanOrEqual(BATCH.maxAgeMs);
      expect(Math.max(...store.batches.map((batch) => batch.events.length))).toBeLessThanOrEqual(
        BATCH.maxEvents,
      );
    },
  );

  it("a stream that pauses is still written on time (the timer, not the next event, flushes)", () => {
    const store = new FakeStore();
    const clock = new FakeClock();
    const log = new EventLog(store, false, { clock });
    log.append(chunk(0));
    clock.advanceTo(BATCH.maxAgeMs - 1);
    expect(store.batches).toEqual([]);
    clock.advanceTo(BATCH.maxAgeMs);
    expect(store.batches).toHaveLength(1);
    expect(clock.pending()).toBe(0);
  });

  it("a timed write that fails is reported and its events stay pending for the next write", () => {
    const store = new FakeStore();
    const clock = new FakeClock();
    const errors: unknown[] = [];
    const log = new EventLog(store, false, { clock, onFlushError: (error) => errors.push(error) });
    store.failures = 1;
    log.append(chunk(0));
    clock.advanceTo(BATCH.maxAgeMs);
    expect(errors).toHaveLength(1);
    expect(log.after(0).map((event) => event.seq)).toEqual([1]);
    log.append(chunk(1));
    log.flush();
    expect(store.storedSeqs()).toEqual(new Set([1, 2]));
  });
});

describe("numbering and replay across a reset", () => {
  /** A store as a dead instance left it: seqs 1..36 written, 37..61 seen by clients and lost. */
  function afterReset() {
    const store = new FakeStore();
    const before = new EventLog(store, false, { clock: new FakeClock() });
    for (let i = 0; i < 36; i += 1) before.append(chunk(i));
    before.flush();
    const clock = new FakeClock();
    const log = new EventLog(store, true, { clock });
    log.append({ type: "error", messageId: "m1", code: "interrupted", message: "reset" });
    log.append({ type: "done", messageId: "m1", status: "incomplete" });
    log.flush();
    return { store, log };
  }

  it("skips past every number a client could have seen, so none is handed out twice", () => {
    const { log } = afterReset();
    expect(log.lastSeq).toBe(36 + BATCH.maxEvents + 2);
  });

  it("a client resuming from any number it could have seen gets the error and done, never resume_unavailable", () => {
    const { log, store } = afterReset();
    // The batch written after the reset covers the lost numbers.
    expect(store.batches.at(-1)?.firstSeq).toBe(37);
    for (const after of [0, 1, 35, 36, 37, 61, 100, 36 + BATCH.maxEvents]) {
      const sent: Array<{ type: string; code?: string }> = [];
      log.replayTo({ send: (frame) => sent.push(frame) }, after);
      expect(sent.slice(-2).map((frame) => frame.type)).toEqual(["error", "done"]);
      expect(sent.find((frame) => frame.code === "resume_unavailable")).toBeUndefined();
      expect(sent.at(-2)).toMatchObject({ code: "interrupted" });
    }
  });

  it("the same when nothing had been written before the reset", () => {
    const store = new FakeStore();
    const log = new EventLog(store, true, { clock: new FakeClock() });
    log.append({ type: "error", messageId: "m1", code: "interrupted", message: "reset" });
    log.append({ type: "done", messageId: "m1", status: "incomplete" });
    log.flush();
    for (const after of [0, 1, 60, 199]) {
      const sent: Array<{ type: string }> = [];
      log.replayTo({ send: (frame) => sent.push(frame) }, after);
      expect(sent.map((frame) => frame.type)).toEqual(["error", "done"]);
    }
  });
});

/**
 * How a compatibility route reads an answer: a batch of events at a time, each batch what is
 * ready. Not a ReadableStream: every JS stream hop costs per event in workerd (bench/README.md),
 * and a batch lets a reader that fell behind encode and write many events at once.
 */
import type { AnswerEvent } from "./answer-events.ts";

/** An answer's events as they become ready. */
export interface AnswerSource {
  /** The events ready now (at least one), or undefined once the answer has ended. */
  read(): Promise<AnswerEvent[] | undefined>;
  /** Stops reading; whatever feeds the answer is let go (a session's stream, an upstream call). */
  cancel(reason?: unknown): Promise<void>;
}

/** Every event of `source`, one by one; leaving the loop early cancels the source. */
export async function* answerEvents(source: AnswerSource): AsyncGenerator<AnswerEvent> {
  let finished = false;
  try {
    for (;;) {
      const batch = await source.read();
      if (batch === undefined) break;
      yield* batch;
    }
    finished = true;
  } finally {
    if (!finished) await source.cancel().catch(() => {});
  }
}

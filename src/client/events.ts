/** What a SluiceClient tells its listeners: the session's events and news of its connection. */
import type { ConnectionFrame, SessionEvent } from "../protocol.ts";

/** `connecting` before the first welcome, `open` once welcomed, `reconnecting` while waiting to retry. */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** What a listener receives: session events (with `seq`, each exactly once) and connection news. */
export type ClientEvent =
  | SessionEvent
  /** Welcome frame of every (re)connection; keep `session` to come back to it. */
  | Extract<ConnectionFrame, { type: "session" }>
  /**
   * A refusal without `seq`: `busy`, `prompt_empty`, ...; `resume_unavailable` (the client
   * rejoins by itself; reload the history); `session_not_found` (the client has closed).
   */
  | Extract<ConnectionFrame, { type: "error" }>
  /** The session was renamed (by this client or another). */
  | Extract<ConnectionFrame, { type: "renamed" }>
  /** The session was deleted or expired; the client has closed. */
  | Extract<ConnectionFrame, { type: "deleted" }>
  /** The connection changed state; `delayMs` is the wait before the next attempt. */
  | { type: "state"; state: ConnectionState; attempt: number; delayMs?: number };

/** Receives every {@link ClientEvent}. */
export type ClientListener = (event: ClientEvent) => void;

/** The listeners of one client. */
export class Listeners {
  private readonly set = new Set<ClientListener>();

  /** Adds a listener; returns a function that removes it. */
  add(listener: ClientListener): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }

  /** Calls every listener; one that throws does not keep the others from the event. */
  emit(event: ClientEvent): void {
    for (const listener of this.set) {
      try {
        listener(event);
      } catch (error) {
        // Rethrown outside the client's own call stack, so a page bug cannot break a reconnect.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

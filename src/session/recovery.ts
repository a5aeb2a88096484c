/** What a session does after a restart or eviction cut its answer short. */
import type { SessionEvent } from "../protocol.ts";
import type { Unsequenced } from "./event-log.ts";
import { PartsAssembler, partsText } from "./parts.ts";
import type { SessionStore } from "./store.ts";

const MESSAGE = "The relay restarted during this answer; the text up to the restart is kept.";

/**
 * Closes the answers a dead instance left `streaming`: each keeps the text that reached
 * storage, is marked `incomplete` with `interrupted`, and its clients get an `error` and a
 * `done`, so a reconnecting client never waits for an answer that will not come.
 */
export function recoverInterrupted(
  store: SessionStore,
  orphans: ReadonlyArray<{ position: number; id: string }>,
  emit: (event: Unsequenced<SessionEvent>) => void,
): void {
  if (orphans.length === 0) return;
  const stored = store.eventsAfter(0);
  for (const { position, id: messageId } of orphans) {
    // Its parts from its stored events (every step's: events are pruned only at a new prompt).
    const assembler = new PartsAssembler();
    for (const event of stored) if (event.messageId === messageId) assembler.apply(event);
    const parts =
      assembler.parts.length > 0 ? assembler.parts : (store.messageAt(position)?.parts ?? []);
    const content = partsText(parts);
    store.finishMessage(position, {
      content,
      parts,
      status: "incomplete",
      errorCode: "interrupted",
    });
    emit({ type: "error", messageId, code: "interrupted", message: MESSAGE });
    emit({ type: "done", messageId, status: "incomplete" });
  }
}

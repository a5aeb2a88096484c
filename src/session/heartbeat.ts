/**
 * The heartbeat of a long answer: the session's one alarm, due every HEARTBEAT_MS while an
 * answer streams, keeps the object from being evicted and renews what the answer holds (its
 * answer slot, its streaming mark in the chat list). A short answer never sets it.
 */
import type { ChatListing } from "../directory/listing.ts";
import type { Env } from "../env.ts";
import { renewSlot } from "../limits/limits.ts";
import type { Running } from "./answer-end.ts";
import { bestEffort } from "./best-effort.ts";

/** While an answer runs, an alarm this often keeps the object from being evicted. */
export const HEARTBEAT_MS = 30_000;
/**
 * An answer that runs this long sets the heartbeat alarm (due HEARTBEAT_MS after its start);
 * a shorter one never moves the alarm, which saves a commit of the alarm on every start.
 */
export const HEARTBEAT_ARM_MS = 10_000;

/** Sets the heartbeat alarm once the answer has run HEARTBEAT_ARM_MS; returns its cancel. */
export function armHeartbeat(storage: DurableObjectStorage): () => void {
  const timer = setTimeout(() => {
    bestEffort("setting the heartbeat alarm", () =>
      storage.setAlarm(Date.now() + HEARTBEAT_MS - HEARTBEAT_ARM_MS),
    );
  }, HEARTBEAT_ARM_MS);
  return () => clearTimeout(timer);
}

/** The alarm's work while `running` streams: renew its slot and mark, and set the next one. */
export async function heartbeat(
  env: Env,
  chats: ChatListing,
  storage: DurableObjectStorage,
  running: Running,
): Promise<void> {
  const mark = chats.markAt(running.limitKey);
  bestEffort("renewing the answer slot", () =>
    renewSlot(env, running.limitKey, running.run.messageId, mark),
  );
  await storage.setAlarm(Date.now() + HEARTBEAT_MS);
}

/**
 * What a session shows its clients about itself: the snapshot of `GET /sessions/:id`, the
 * welcome of a new client, and the end of them all when the session is deleted.
 */
import type { ChatListing } from "../directory/listing.ts";
import { sessionTitle } from "../directory/listing.ts";
import { SluiceError } from "../errors.ts";
import type { DeleteReason, SessionSnapshot } from "../protocol.ts";
import type { Running } from "./answer-end.ts";
import type { AnswerRunner } from "./answer-runner.ts";
import type { EventWire } from "./calls.ts";
import type { EventLog } from "./event-log.ts";
import { CLOSE_SESSION_GONE, type Client, type FanOut } from "./fanout.ts";
import type { SessionStore } from "./store.ts";

/** How long a delete waits for the answer it cancelled to end before it wipes the storage. */
const SETTLE_MS = 5_000;

/** The session as `GET /sessions/:id` shows it: options, position, history. */
export function describeSession(
  store: SessionStore,
  log: EventLog,
  session: string,
  generating: boolean,
): SessionSnapshot {
  return {
    session,
    ...store.options(),
    lastSeq: log.lastSeq,
    generating,
    title: sessionTitle(store),
    messages: store.history(),
  };
}

/**
 * Greets a new client and brings it up to date: the events after `after` when it resumes,
 * else the answer in progress from its start (a late joiner). Then it is live like the rest.
 */
export function welcome(
  log: EventLog,
  running: Running | undefined,
  client: Client,
  session: string,
  after: number | undefined,
): void {
  client.send({ type: "session", session, lastSeq: log.lastSeq, generating: !!running });
  if (after !== undefined) log.replayTo(client, after);
  else if (running) log.replayTo(client, running.startSeq - 1);
}

/**
 * Deletes a session for good: the answer in progress is cancelled and allowed to end, every
 * client gets `deleted` (sockets then close with 4004, SSE streams end), the chat leaves its
 * owner's list, and all storage and the alarm are wiped.
 */
export async function wipeSession(
  session: {
    answers: AnswerRunner;
    store: SessionStore;
    chats: ChatListing;
    fanout: FanOut;
    storage: DurableObjectStorage;
  },
  reason: DeleteReason,
): Promise<void> {
  const { answers, store, chats, fanout, storage } = session;
  const deadline = Date.now() + SETTLE_MS;
  while (answers.busy && Date.now() < deadline) {
    answers.running?.run.cancel();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const id = store.sessionId() ?? "";
  await chats.removed();
  fanout.closeAll(
    { type: "deleted", session: id, reason },
    CLOSE_SESSION_GONE,
    `session_${reason}`,
  );
  await storage.deleteAlarm();
  await storage.deleteAll();
}

/** The events of the answer `start` begins or continues, on `wire`, ending after its `done`. */
export async function openAnswer(
  fanout: FanOut,
  wire: EventWire,
  start: (attach: (messageId: string) => void) => Promise<void>,
): Promise<ReadableStream<Uint8Array>> {
  let body: ReadableStream<Uint8Array> | undefined;
  await start((messageId) => {
    body = fanout.openSse({ messageId, wire }).body;
  });
  if (!body) throw new SluiceError("internal", "The answer did not start.");
  return body;
}

/**
 * How an answer ends: the outcome stored and the clients told (`done`, after an `error` when
 * one ended it), or, when something threw, what can still be stored is and the clients still
 * get their `done`.
 */
import type { ChatListing } from "../directory/listing.ts";
import type { Env } from "../env.ts";
import { releaseSlot } from "../limits/limits.ts";
import type { PromptRequest, SessionEvent } from "../protocol.ts";
import { reportAnswer } from "../usage/answer-report.ts";
import { type AnswerContext, stepReport } from "../usage/step-report.ts";
import type { AnswerStep } from "./answer-step.ts";
import { bestEffort } from "./best-effort.ts";
import type { EventLog, Unsequenced } from "./event-log.ts";
import { awaitedCalls } from "./parts.ts";
import type { SessionStore } from "./store.ts";
import type { ToolWait } from "./tool-wait.ts";

/** What a prompt may carry besides its text. */
export type Extras = Omit<PromptRequest, "prompt">;

/** The message every client gets when the relay itself failed during an answer. */
export const FAILED = "The relay failed during this answer; the text it stored so far is kept.";

/** An answer that runs, with what its end and its report need. */
export interface Running {
  run: AnswerStep;
  /** Whose answer slot it holds. */
  limitKey: string;
  /** Sequence number of the answer's `start` event. */
  startSeq: number;
  /** Position of the assistant message it writes. */
  position: number;
  /** Set once the clients were sent its `done`. */
  ended: boolean;
  /** What its report at the end needs from its start. */
  report: AnswerContext;
  /** The client tools and options of the prompt, sent again by each continuation. */
  extras: Extras;
  /** True for a continuation after tool results (its message's earlier steps go upstream). */
  continuing: boolean;
  /**
   * Sends the step upstream, when that was left for after the start (a continuation, or a
   * prompt whose history could not be read before it): a failure there ends the answer.
   */
  upstream?: (() => void) | undefined;
  /** Cancels the timer that sets the heartbeat alarm of a long answer. */
  stopHeartbeat?: () => void;
}

/** What ending an answer touches. */
export interface EndHost {
  store(): SessionStore;
  log(): EventLog;
  readonly toolWait: ToolWait;
  emit(event: Unsequenced<SessionEvent>): SessionEvent;
}

/** Stores how the answer ended, then tells the clients. */
export function finishAnswer(host: EndHost, running: Running): void {
  const { run } = running;
  const outcome = run.outcome();
  const awaited = outcome.status === "complete" ? awaitedCalls(outcome.parts ?? []) : [];
  // The client runs the tools: the step ends here, and the answer waits for their results.
  if (awaited.length > 0) outcome.finish = "tool_calls";
  host.store().finishMessage(running.position, outcome);
  if (awaited.length > 0) {
    const { messageId, step } = run;
    const { tools, options } = running.extras;
    const { position } = running;
    host.toolWait.begin({ messageId, position, step, awaited, results: [], tools, options });
  }
  if (run.error && outcome.status !== "cancelled") {
    host.emit({ type: "error", messageId: run.messageId, ...run.error });
  }
  host.emit({
    type: "done",
    messageId: run.messageId,
    status: outcome.status,
    finish: outcome.finish,
    usage: outcome.usage,
  });
  running.ended = true;
  host.log().flush();
}

/**
 * Something threw while the answer ran or ended: the clients get an `internal` error and a
 * `done` (unless they had theirs), and what can still be stored is. A message whose final
 * write fails stays `streaming` in storage, and the next start of the object closes it.
 */
export function failAnswer(host: EndHost, running: Running, error: unknown): void {
  console.error("answer failed", error);
  const { run } = running;
  run.fail("internal", FAILED);
  if (!running.ended) {
    const outcome = run.outcome();
    const status = outcome.content === "" ? "error" : "incomplete";
    bestEffort("storing the answer", () =>
      host.store().finishMessage(running.position, { ...outcome, status, errorCode: "internal" }),
    );
    const { messageId } = run;
    bestEffort("sending the error", () =>
      host.emit({ type: "error", messageId, code: "internal", message: FAILED }),
    );
    bestEffort("sending done", () =>
      host.emit({
        type: "done",
        messageId,
        status,
        finish: outcome.finish,
        usage: outcome.usage,
      }),
    );
    running.ended = true;
  }
  bestEffort("storing the events", () => host.log().flush());
}

/**
 * After an answer ended: its report, which ends it in the client's account in one call (the
 * slot freed, the chat list row, the usage row). Runs on every outcome; if the report cannot
 * be built, the slot is still freed.
 */
export function settleAnswer(
  host: { readonly env: Env; readonly ctx: DurableObjectState; chats(): ChatListing },
  running: Running,
): void {
  const { run, limitKey } = running;
  try {
    const chat = host.chats().endAt(limitKey, run.outcome().content);
    const end = { limitKey, lease: run.messageId, chat };
    host.ctx.waitUntil(reportAnswer(host.env, stepReport(running.report, run), end));
  } catch (error) {
    console.error("after an answer", error);
    bestEffort("releasing the answer slot", () => releaseSlot(host.env, limitKey, run.messageId));
  }
}

/** The report of a session's answer, from what the session knew at its start and the run. */
import type { AnswerStep } from "../session/answer-step.ts";
import type { AnswerReport } from "./answer-report.ts";

/** What a session knows about an answer when it starts it. */
export type AnswerContext = Pick<
  AnswerReport,
  | "route"
  | "session"
  | "principal"
  | "usageKey"
  | "provider"
  | "model"
  | "startedAt"
  | "contextChars"
>;

/** The report of `run`, which just ended. */
export function stepReport(context: AnswerContext, run: AnswerStep): AnswerReport {
  const outcome = run.outcome();
  return {
    ...context,
    messageId: run.messageId,
    call: run.call,
    status: outcome.status,
    errorCode: outcome.errorCode,
    firstTextAt: run.firstTextAt,
    endedAt: Date.now(),
    usage: outcome.usage,
    answerChars: outcome.content.length,
  };
}

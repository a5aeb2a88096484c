/**
 * What the relay tells about each answer once it ended: to the client's account, in one call,
 * its slot freed, its chat list row and its tokens for the usage ledger; one JSON log line;
 * and one Analytics Engine data point. docs/operations.md documents
 * the line's fields and the data point's columns. Never a prompt, an answer, a token or a key:
 * the line holds counts, codes and names, and hashes of the session and principal ids.
 */
import type { AnswerEnd } from "../account/Account.ts";
import { accountOf } from "../account/stub.ts";
import { sha256 } from "../auth/principal.ts";
import type { Env } from "../env.ts";
import type { ErrorCode } from "../errors.ts";
import { hex } from "../ids.ts";
import type { MessageStatus } from "../protocol.ts";
import type { CallReport, Usage } from "../providers/types.ts";

/** One ended answer, as its session (or the stateless route) saw it. */
export interface AnswerReport {
  /** `session` for an answer in a session, `stateless` for `/v1/chat/completions` without one. */
  route: "session" | "stateless";
  /** The session id (hashed before logging); undefined for stateless answers. */
  session: string | undefined;
  messageId: string;
  /** The principal id (hashed before logging). */
  principal: string;
  /** The usage ledger the tokens count in (see `usageKey`); undefined: not recorded. */
  usageKey: string | undefined;
  /** The configured provider and model; the call report names the one that answered, if any. */
  provider: string;
  model: string;
  call: CallReport;
  status: Exclude<MessageStatus, "streaming">;
  errorCode: ErrorCode | undefined;
  /** Milliseconds since the epoch: the prompt's arrival, the first text, the end. */
  startedAt: number;
  firstTextAt: number | undefined;
  endedAt: number;
  /** As the upstream reported it; absent after a cancel or a failure, then estimated. */
  usage: Usage | undefined;
  /** Characters of the answer and of the context sent upstream, for that estimate. */
  answerChars: number;
  contextChars: number;
}

/** The tokens an answer counts for. */
export interface AnswerTokens {
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  /** True when the upstream reported no usage and the counts are estimates. */
  estimated: boolean;
}

/** Characters per token for estimates: the usual rule of thumb for English text. */
const CHARS_PER_TOKEN = 4;

/**
 * The upstream's usage, or an estimate (characters / 4) when it reported none, as after a
 * cancel or a mid-stream failure: those answers cost the operator tokens too, and a quota that
 * ignored them could be dodged by cancelling just before the end.
 */
export function answerTokens(report: AnswerReport): AnswerTokens {
  if (report.usage) {
    return {
      inputTokens: report.usage.inputTokens,
      outputTokens: report.usage.outputTokens,
      reasoningTokens: report.usage.reasoningTokens ?? 0,
      estimated: false,
    };
  }
  // The model read the context only if an attempt was accepted (committed) or text came.
  const sent = report.call.provider !== undefined || report.answerChars > 0;
  return {
    inputTokens: sent ? Math.ceil(report.contextChars / CHARS_PER_TOKEN) : 0,
    outputTokens: Math.ceil(report.answerChars / CHARS_PER_TOKEN),
    reasoningTokens: 0,
    estimated: true,
  };
}

/** The structured log line of one answer (docs/operations.md, "The answer log line"). */
export interface AnswerLogLine {
  event: "sluice.answer";
  route: AnswerReport["route"];
  session: string | null;
  messageId: string;
  principal: string;
  provider: string;
  model: string;
  status: AnswerReport["status"];
  errorCode: ErrorCode | null;
  ttftMs: number | null;
  durationMs: number;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  usageEstimated: boolean;
  retries: number;
  fallback: boolean;
}

/** The first 16 hex digits of the SHA-256 of `text`: joins lines of one id, reveals nothing. */
export async function shortHash(text: string): Promise<string> {
  return hex((await sha256(text)).subarray(0, 8));
}

/** The log line of `report`. */
export async function answerLogLine(
  report: AnswerReport,
  tokens: AnswerTokens,
): Promise<AnswerLogLine> {
  return {
    event: "sluice.answer",
    route: report.route,
    session: report.session === undefined ? null : await shortHash(report.session),
    messageId: report.messageId,
    principal: await shortHash(report.principal),
    provider: report.call.provider ?? report.provider,
    model: report.call.model ?? report.model,
    status: report.status,
    errorCode: report.errorCode ?? null,
    ttftMs: report.firstTextAt === undefined ? null : report.firstTextAt - report.startedAt,
    durationMs: report.endedAt - report.startedAt,
    inputTokens: tokens.inputTokens,
    outputTokens: tokens.outputTokens,
    reasoningTokens: tokens.reasoningTokens,
    usageEstimated: tokens.estimated,
    retries: report.call.retries,
    fallback: report.call.fallback,
  };
}

/**
 * The Analytics Engine data point of a log line. Columns (docs/operations.md): index1 the
 * principal's hash (the sampling key); blob1 provider, blob2 model, blob3 status, blob4 error
 * code (or ""), blob5 route; double1 1 (one answer), double2 time to first token in ms (-1
 * without text), double3 duration ms, double4 input, double5 output, double6 reasoning
 * tokens, double7 retries, double8 1 if the fallback answered, double9 1 if it failed.
 */
export function answerDataPoint(line: AnswerLogLine): AnalyticsEngineDataPoint {
  const failed = line.status === "error" || line.status === "incomplete";
  return {
    indexes: [line.principal],
    blobs: [line.provider, line.model, line.status, line.errorCode ?? "", line.route],
    doubles: [
      1,
      line.ttftMs ?? -1,
      line.durationMs,
      line.inputTokens,
      line.outputTokens,
      line.reasoningTokens,
      line.retries,
      line.fallback ? 1 : 0,
      failed ? 1 : 0,
    ],
  };
}

/** A promise-like value, as a service binding standing in for the dataset may return. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" && value !== null && typeof Reflect.get(value, "then") === "function"
  );
}

/** Writes the data point of `line` when METRICS is bound; never throws or rejects. */
async function writeMetric(env: Env, line: AnswerLogLine): Promise<void> {
  if (!env.METRICS) return;
  try {
    // The real dataset returns nothing; a service binding standing in for it, a promise.
    const written: unknown = env.METRICS.writeDataPoint(answerDataPoint(line));
    if (isThenable(written)) await written;
  } catch (error) {
    console.error("metrics data point failed:", String(error));
  }
}

/** Where an answer's end goes: its client's account, its slot there, its chat list row. */
export interface AnswerSettlement {
  limitKey: string;
  lease: string;
  chat?: AnswerEnd["chat"];
}

/**
 * Ends the answer in its client's account, in one call: the slot freed, the chat row and (when
 * it has a usage key) the usage row written. Never throws or rejects: a lost call costs the
 * slot its TTL and the ledger this answer's tokens, both logged.
 */
async function settle(
  env: Env,
  report: AnswerReport,
  end: AnswerSettlement,
  line: AnswerLogLine | undefined,
  tokens: AnswerTokens | undefined,
): Promise<void> {
  const usage =
    report.usageKey !== undefined && line && tokens
      ? {
          at: report.endedAt,
          provider: line.provider,
          model: line.model,
          inputTokens: tokens.inputTokens,
          outputTokens: tokens.outputTokens,
          reasoningTokens: tokens.reasoningTokens,
        }
      : undefined;
  try {
    await accountOf(env, end.limitKey)?.ended({ lease: end.lease, chat: end.chat, usage });
  } catch (error) {
    console.error("ending the answer in its account failed:", String(error));
  }
}

/**
 * Reports an ended answer: the log line, then the account call (`end`: slot, chat row, usage
 * row) and the data point (when METRICS is bound) side by side. Never rejects and never throws:
 * reporting must not fail an answer or hold up a session, so each failure is only logged
 * (without secrets), and the account call is made even when the line could not be built.
 */
export async function reportAnswer(
  env: Env,
  report: AnswerReport,
  end: AnswerSettlement,
): Promise<void> {
  let tokens: AnswerTokens | undefined;
  let line: AnswerLogLine | undefined;
  try {
    tokens = answerTokens(report);
    line = await answerLogLine(report, tokens);
    console.log(JSON.stringify(line));
  } catch (error) {
    console.error("answer report failed:", String(error));
  }
  await Promise.all([
    settle(env, report, end, line, tokens),
    line ? writeMetric(env, line) : undefined,
  ]);
}

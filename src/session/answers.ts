/**
 * The compatibility routes' way into a session: ask it a prompt, follow the answer in
 * progress, or cancel it, each read back as answer events. The session streams each event
 * once, as the JSON its broadcast already built; this side reads it in one loop.
 */
import type { Principal } from "../auth.ts";
import type { Env } from "../env.ts";
import type { AnswerSource } from "../streams/answer-source.ts";
import { FrameReader, sessionAnswer } from "../streams/session-answer.ts";
import type { ToolResult } from "../tools-options.ts";
import type { Extras } from "./answer-end.ts";
import { callerOf, type EventWire, sessionStub, unwrap } from "./calls.ts";

/**
 * Names the Sluice session of an exchange: OpenAI clients may send it (or `sluice_session`),
 * and both compatibility routes return it, so a chat can be found at `/sessions/:id`.
 */
export const SESSION_SELECT_HEADER = "x-sluice-session";

/**
 * Asks `prompt` in `session` and returns its answer as it streams; the session stores the
 * turn and shows it live to its other clients. With `create`, a session that does not exist
 * yet is created first (default options). `extras`: the prompt's client tools and options.
 * Refusals (`busy`, `session_not_found`, limits, options) throw before anything is stored.
 */
export async function askSession(
  env: Env,
  principal: Principal,
  session: string,
  prompt: string,
  create = false,
  extras: Extras = {},
): Promise<AnswerSource> {
  const frames = await askedStream(env, principal, session, prompt, create, extras, "frames");
  return sessionAnswer(new FrameReader(frames));
}

/** {@link askSession}, with the session's answer as bytes on `wire` (the `ui` wire: unread). */
export async function askedStream(
  env: Env,
  principal: Principal,
  session: string,
  prompt: string,
  create: boolean,
  extras: Extras,
  wire: EventWire,
): Promise<ReadableStream<Uint8Array>> {
  const stub = sessionStub(env, session);
  const caller = callerOf(principal, session);
  let asked = await stub.ask(caller, prompt, wire, extras);
  if (create && !asked.ok && asked.error.code === "session_not_found") {
    // Creating is idempotent, so two first requests racing here both land in one session.
    unwrap(await stub.create(caller, { onAbandon: "continue" }));
    asked = await stub.ask(caller, prompt, wire, extras);
  }
  return unwrap(asked);
}

/**
 * Sends the results of the tool calls the answer in `session` waits for, and returns the
 * continuation as it streams (from its `step` to its `done`). Refusals (`no_tool_call_pending`,
 * `tool_call_unknown`, `tool_result_duplicate`) throw and change nothing.
 */
export async function submitResults(
  env: Env,
  principal: Principal,
  session: string,
  results: ToolResult[],
): Promise<AnswerSource> {
  return sessionAnswer(
    new FrameReader(await submittedStream(env, principal, session, results, "frames")),
  );
}

/** {@link submitResults}, with the continuation as bytes on `wire`. */
export async function submittedStream(
  env: Env,
  principal: Principal,
  session: string,
  results: ToolResult[],
  wire: EventWire,
): Promise<ReadableStream<Uint8Array>> {
  const stub = sessionStub(env, session);
  return unwrap(await stub.submitToolResults(callerOf(principal, session), results, wire));
}

/**
 * The answer streaming in `session` right now, replayed from its start and then live; or
 * undefined when nothing streams (or the session does not exist: nothing to resume either).
 */
export async function activeAnswer(
  env: Env,
  principal: Principal,
  session: string,
): Promise<AnswerSource | undefined> {
  const followed = await sessionStub(env, session).follow(
    callerOf(principal, session),
    undefined,
    "frames",
  );
  if (!followed.ok && followed.error.code === "session_not_found") return undefined;
  const frames = new FrameReader(unwrap(followed));
  const welcome = await frames.read();
  if (welcome?.type !== "session" || !welcome.generating) {
    await frames.cancel();
    return undefined;
  }
  return sessionAnswer(frames);
}

/** Cancels the answer streaming in `session`; false when none runs or the session does not exist. */
export async function cancelSession(
  env: Env,
  principal: Principal,
  session: string,
): Promise<boolean> {
  const cancelled = await sessionStub(env, session).cancelAnswer(callerOf(principal, session));
  if (!cancelled.ok && cancelled.error.code === "session_not_found") return false;
  return unwrap(cancelled);
}

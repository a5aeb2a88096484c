/**
 * The compatibility routes' way into a session: ask it a prompt (`/messages`) or follow the
 * answer in progress (`/events`), and read either back as an answer.
 */
import type { Principal } from "../auth.ts";
import type { Env } from "../env.ts";
import { SluiceError } from "../errors.ts";
import { parseObject, readObject, readString } from "../providers/wire.ts";
import { forward } from "../session/forward.ts";
import type { AnswerEvent } from "../streams/answer-events.ts";
import {
  isErrorCode,
  type SessionFrame,
  sessionAnswer,
  sessionFrames,
} from "../streams/session-answer.ts";

/**
 * Names the Sluice session of an exchange: OpenAI clients may send it (or `sluice_session`),
 * and both compatibility routes return it, so a chat can be found at `/sessions/:id`.
 */
export const SESSION_SELECT_HEADER = "x-sluice-session";

/** The SluiceError in a session object's error response (`{"error": {"code", "message"}}`). */
export async function sessionFailure(response: Response): Promise<SluiceError> {
  const error = readObject(parseObject(await response.text()), "error");
  const message = readString(error, "message");
  if (!isErrorCode(error?.code) || message === undefined) {
    return new SluiceError("internal", `The session answered HTTP ${response.status}.`);
  }
  const retryAfter = Number(response.headers.get("retry-after") ?? Number.NaN);
  return new SluiceError(
    error.code,
    message,
    Number.isFinite(retryAfter) ? retryAfter : undefined,
    readString(error, "resetAt"),
  );
}

function postPrompt(env: Env, principal: Principal, session: string, prompt: string) {
  return forward(env, session, "/messages", {
    principal,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ content: prompt }),
  });
}

/**
 * Asks `prompt` in `session` and returns its answer as it streams; the session stores the
 * turn and shows it live to its other clients. With `create`, a session that does not exist
 * yet is created first (default options). Refusals (`busy`, `session_not_found`, limits)
 * throw before anything is stored.
 */
export async function askSession(
  env: Env,
  principal: Principal,
  session: string,
  prompt: string,
  create = false,
): Promise<ReadableStream<AnswerEvent>> {
  let response = await postPrompt(env, principal, session, prompt);
  if (create && response.status === 404) {
    const failure = await sessionFailure(response);
    if (failure.code !== "session_not_found") throw failure;
    // Creating is idempotent, so two first requests racing here both land in one session.
    const created = await forward(env, session, "/create", {
      principal,
      method: "POST",
      body: "{}",
    });
    if (!created.ok) throw await sessionFailure(created);
    response = await postPrompt(env, principal, session, prompt);
  }
  if (!response.ok || !response.body) throw await sessionFailure(response);
  return sessionFrames(response.body).pipeThrough(sessionAnswer());
}

/**
 * The answer streaming in `session` right now, replayed from its start and then live; or
 * undefined when nothing streams (or the session does not exist: nothing to resume either).
 */
export async function activeAnswer(
  env: Env,
  principal: Principal,
  session: string,
): Promise<ReadableStream<AnswerEvent> | undefined> {
  const response = await forward(env, session, "/events", { principal });
  if (!response.ok || !response.body) {
    const failure = await sessionFailure(response);
    if (failure.code === "session_not_found") return undefined;
    throw failure;
  }
  const frames = sessionFrames(response.body).getReader();
  const first = await frames.read();
  if (first.done || first.value.type !== "session" || !first.value.generating) {
    await frames.cancel();
    return undefined;
  }
  const rest = new ReadableStream<SessionFrame>(
    {
      async pull(controller) {
        const next = await frames.read();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel: (reason) => frames.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return rest.pipeThrough(sessionAnswer());
}

/** Cancels the answer streaming in `session`; false when none runs or the session does not exist. */
export async function cancelSession(
  env: Env,
  principal: Principal,
  session: string,
): Promise<boolean> {
  const response = await forward(env, session, "/cancel", { principal, method: "POST" });
  if (!response.ok) {
    const failure = await sessionFailure(response);
    if (failure.code === "session_not_found") return false;
    throw failure;
  }
  return parseObject(await response.text())?.cancelled === true;
}

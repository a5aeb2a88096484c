/**
 * The OpenAI-compatible routes: `POST /v1/chat/completions` and `GET /v1/models`, so any
 * OpenAI client can use the relay as its base URL. The Worker answers with its own provider
 * and key; the client's Authorization header is never sent upstream (with AUTH_TOKENS set it
 * carries the client's Sluice token). Errors use OpenAI's body, with our codes as `code`.
 */
import type { Env } from "../env.ts";
import { SluiceError, toSluiceError } from "../errors.ts";
import { newMessageId } from "../ids.ts";
import { renewSlot } from "../limits/limits.ts";
import { outputCap } from "../providers/config.ts";
import { createProvider } from "../providers/index.ts";
import type { Extras } from "../session/answer-end.ts";
import { askSession, SESSION_SELECT_HEADER, submitResults } from "../session/answers.ts";
import { collectAnswer } from "../streams/answer-events.ts";
import type { AnswerSource } from "../streams/answer-source.ts";
import { jsonSseResponse } from "../streams/json-sse.ts";
import { openaiChunks, openaiCompletion, openaiErrorResponse } from "../streams/openai-wire.ts";
import { providerAnswer } from "../streams/provider-answer.ts";
import { stallTimeout } from "../streams/stall-watchdog.ts";
import { optionPolicy } from "../tools-options.ts";
import { admitPrompt } from "../usage/admit.ts";
import { reportAnswer } from "../usage/answer-report.ts";
import { methodNotAllowed } from "./method-not-allowed.ts";
import { type CompletionRequest, parseCompletionRequest } from "./openai-request.ts";
import { type RouteRequest, sessionParam } from "./sessions.ts";

/** How often a stateless answer renews its slot (sessions renew on their heartbeat). */
const SLOT_RENEW_MS = 30_000;

/** The session the request names, if any: by header or body field, checked. */
function requestedSession(request: RouteRequest, fromBody: string | undefined): string | undefined {
  const fromHeader = request.headers.get(SESSION_SELECT_HEADER) ?? undefined;
  if (fromHeader !== undefined && fromBody !== undefined && fromHeader !== fromBody) {
    throw new SluiceError(
      "invalid_request",
      "The X-Sluice-Session header and the sluice_session field name different sessions.",
    );
  }
  const session = fromHeader ?? fromBody;
  return session === undefined ? undefined : sessionParam(request, session);
}

/**
 * A stateless answer straight from the provider, holding one of the client's answer slots
 * (the same limit sessions count against) until it ends or the client goes away.
 */
async function statelessAnswer(
  request: RouteRequest,
  env: Env,
  ctx: ExecutionContext,
  parsed: CompletionRequest,
): Promise<AnswerSource> {
  const { messages, tools, options, passThrough } = parsed;
  const startedAt = Date.now();
  const provider = createProvider(env);
  if (provider.name !== "openai" && Object.keys(passThrough).length > 0) {
    const fields = Object.keys(passThrough).join(", ");
    throw new SluiceError(
      "invalid_option",
      `${fields}: only an OpenAI-compatible upstream takes these; this relay's is ${provider.name}.`,
    );
  }
  const { id: principal, limitKey } = request.principal;
  const messageId = newMessageId();
  const usageKey = await admitPrompt(env, request.principal, messageId);
  const renew = setInterval(() => void renewSlot(env, limitKey, messageId), SLOT_RENEW_MS);
  return providerAnswer({
    provider,
    messages,
    request: { tools, options, openaiPassThrough: passThrough },
    messageId,
    stallMs: stallTimeout(env.STALL_TIMEOUT_MS),
    onClose: (ended) => {
      clearInterval(renew);
      // The report (which frees the slot) outlives the response, so it goes to waitUntil.
      ctx.waitUntil(
        reportAnswer(
          env,
          {
            ...ended,
            route: "stateless",
            session: undefined,
            messageId,
            principal,
            usageKey,
            provider: provider.name,
            model: provider.model,
            startedAt,
            endedAt: Date.now(),
            contextChars: messages.reduce((sum, message) => sum + message.content.length, 0),
          },
          { limitKey, lease: messageId },
        ),
      );
    },
  });
}

/**
 * The answer of a request in a session: the continuation when the conversation ends with
 * `tool` messages (their results go to the session), else the last user message asked with
 * the request's tools and options. The session keeps its own history, so the other messages
 * are not read; OpenAI-only pass-through fields are refused, since a session's later steps
 * could not honour them.
 */
function sessionAnswerOf(
  env: Env,
  principal: RouteRequest["principal"],
  session: string,
  parsed: CompletionRequest,
): Promise<AnswerSource> {
  if (Object.keys(parsed.passThrough).length > 0) {
    throw new SluiceError(
      "invalid_option",
      `${Object.keys(parsed.passThrough).join(", ")}: not kept by sessions; send them without a session.`,
    );
  }
  if (parsed.toolResults) return submitResults(env, principal, session, parsed.toolResults);
  const extras: Extras = {};
  if (parsed.tools) extras.tools = parsed.tools;
  if (parsed.options) extras.options = parsed.options;
  return askSession(env, principal, session, parsed.prompt, false, extras);
}

/**
 * `POST /v1/chat/completions`. Without a session: the request's messages go upstream as they
 * are, and nothing is stored. With one: the last user message is asked in the session, which
 * supplies the history, stores the answer and shows it live to its other clients.
 */
export async function chatCompletions(
  request: RouteRequest,
  env: Env,
  ctx: ExecutionContext,
): Promise<Response> {
  // Once a prompt is stored in a session, a retry would ask it twice: clients are told not to.
  let stored = false;
  try {
    const configured = createProvider(env).model;
    const policy = {
      ...optionPolicy(env.ALLOWED_MODELS, configured, outputCap(env.MAX_OUTPUT_TOKENS)),
      choosable: (env.ALLOWED_MODELS ?? "").trim() !== "",
    };
    const parsed = parseCompletionRequest(await request.text(), policy);
    const session = requestedSession(request, parsed.session);
    const model = parsed.options?.model ?? configured;
    const meta = { created: Math.floor(Date.now() / 1000), model };
    let answer: AnswerSource;
    const headers: Record<string, string> = {};
    if (session === undefined) {
      answer = await statelessAnswer(request, env, ctx, parsed);
    } else {
      answer = await sessionAnswerOf(env, request.principal, session, parsed);
      stored = true;
      headers[SESSION_SELECT_HEADER] = session;
    }
    if (parsed.stream) {
      return jsonSseResponse(answer, openaiChunks(meta, parsed.includeUsage), headers);
    }
    const collected = await collectAnswer(answer);
    if (collected.error) throw new SluiceError(collected.error.code, collected.error.message);
    return Response.json(openaiCompletion({ ...meta, id: collected.messageId }, collected), {
      headers,
    });
  } catch (error) {
    return openaiFailure(error, !stored);
  }
}

/** `GET /v1/models`: the one model the relay answers with. */
export function listModels(_request: RouteRequest, env: Env): Response {
  try {
    const { model, name } = createProvider(env);
    return Response.json({
      object: "list",
      data: [{ id: model, object: "model", created: 0, owned_by: `sluice-${name}` }],
    });
  } catch (error) {
    return openaiFailure(error);
  }
}

/** Any other request under `/v1`: OpenAI-style 405 or 404. */
export function openaiFallback(request: RouteRequest): Response {
  const { pathname } = new URL(request.url);
  const allowed = { "/v1/chat/completions": "POST", "/v1/models": "GET" }[pathname];
  const failure = allowed
    ? methodNotAllowed(request.method, pathname, allowed)
    : new SluiceError(
        "not_found",
        `No route for ${pathname}; the relay serves /v1/chat/completions and /v1/models.`,
      );
  return openaiErrorResponse(failure);
}

function openaiFailure(error: unknown, retry = true): Response {
  const failure = toSluiceError(error);
  // Logged without the request: its headers may hold a token.
  if (failure.code === "internal") console.error("chat completion failed:", String(error));
  return openaiErrorResponse(failure, retry);
}

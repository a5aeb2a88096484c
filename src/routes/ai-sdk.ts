/**
 * The AI SDK routes, for `useChat` with its default transport: `POST /api/chat` answers in the
 * UI message stream protocol, `GET /api/chat/:id/stream` resumes the answer in progress and
 * `POST /api/chat/:id/stop` cancels it. Each chat is a Sluice session, so its answers are
 * stored and resumable without Redis: the session's object keeps the events.
 */

import type { Principal } from "../auth.ts";
import type { Env } from "../env.ts";
import type { Extras } from "../session/answer-end.ts";
import {
  activeAnswer,
  askedStream,
  askSession,
  cancelSession,
  SESSION_SELECT_HEADER,
  submitResults,
  submittedStream,
} from "../session/answers.ts";
import type { AnswerSource } from "../streams/answer-source.ts";
import { jsonSseResponse } from "../streams/json-sse.ts";
import { SSE_HEADERS } from "../streams/sse.ts";
import { UI_MESSAGE_STREAM_HEADERS, uiMessageChunks } from "../streams/ui-message-wire.ts";
import { policyOf } from "../tools-options.ts";
import { type ChatRequest, chatSession, parseChatId, parseChatRequest } from "./ai-sdk-request.ts";
import type { RouteRequest } from "./sessions.ts";

function uiStream(answer: AnswerSource, session: string): Response {
  return jsonSseResponse(answer, uiMessageChunks(), {
    ...UI_MESSAGE_STREAM_HEADERS,
    [SESSION_SELECT_HEADER]: session,
  });
}

/** What a chat request asks besides its prompt: its client tools and options. */
function extrasOf(chat: ChatRequest): Extras {
  const extras: Extras = {};
  if (chat.tools) extras.tools = chat.tools;
  if (chat.options) extras.options = chat.options;
  return extras;
}

/**
 * The answer a chat request asks for: the continuation when it carries tool results (the
 * last message is the assistant's, after `addToolOutput`), else the last user message asked
 * with the request's tools and options. For `/api/chat/ws`, which numbers the chunks itself.
 */
export function chatAnswer(
  env: Env,
  principal: Principal,
  session: string,
  chat: ChatRequest,
): Promise<AnswerSource> {
  if (chat.toolResults) return submitResults(env, principal, session, chat.toolResults);
  return askSession(env, principal, session, chat.prompt, true, extrasOf(chat));
}

/**
 * `POST /api/chat`: asks the last user message in the chat's session (created on first use)
 * and streams the answer, or sends the tool results of the last assistant message and streams
 * the continuation. The session already holds the history, so only the last message is read.
 * `regenerate-message` asks it again as a new turn: the session's history is append-only, so
 * the earlier answer stays in it. The session writes the UI message stream itself (the `ui`
 * wire), and the response passes its bytes on unread, as the native routes do.
 */
export async function postChat(request: RouteRequest, env: Env): Promise<Response> {
  const chat = parseChatRequest(await request.text(), policyOf(env));
  const { principal } = request;
  const session = await chatSession(chat.chatId, principal);
  const body = chat.toolResults
    ? await submittedStream(env, principal, session, chat.toolResults, "ui")
    : await askedStream(env, principal, session, chat.prompt, true, extrasOf(chat), "ui");
  return new Response(body, {
    headers: { ...SSE_HEADERS, ...UI_MESSAGE_STREAM_HEADERS, [SESSION_SELECT_HEADER]: session },
  });
}

/**
 * `GET /api/chat/:id/stream`: the answer streaming in the chat right now, replayed from its
 * start and then live, as the SDK's `reconnectToStream` expects (`resumeStreamIsReplay`);
 * 204 when none is streaming.
 */
export async function resumeChat(request: RouteRequest, env: Env): Promise<Response> {
  const session = await chatSession(parseChatId(request.params.id), request.principal);
  const answer = await activeAnswer(env, request.principal, session);
  if (!answer) return new Response(null, { status: 204 });
  return uiStream(answer, session);
}

/**
 * `POST /api/chat/:id/stop`: the stop endpoint the AI SDK's resumable-streams guide asks for,
 * since `stop()` in the browser only drops the connection and the answer runs on. Cancels the
 * chat's answer; the session stores its text so far as `cancelled`, and readers get `abort`.
 * Any body (the guide sends the partial message) is ignored: the session has the text.
 */
export async function stopChat(request: RouteRequest, env: Env): Promise<Response> {
  const session = await chatSession(parseChatId(request.params.id), request.principal);
  const cancelled = await cancelSession(env, request.principal, session);
  return Response.json({ success: true, cancelled });
}

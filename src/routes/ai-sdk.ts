/**
 * The AI SDK routes, for `useChat` with its default transport: `POST /api/chat` answers in the
 * UI message stream protocol, `GET /api/chat/:id/stream` resumes the answer in progress and
 * `POST /api/chat/:id/stop` cancels it. Each chat is a Sluice session, so its answers are
 * stored and resumable without Redis: the session's object keeps the events.
 */
import type { Env } from "../env.ts";
import {
  activeAnswer,
  askSession,
  cancelSession,
  SESSION_SELECT_HEADER,
} from "../session/answers.ts";
import type { AnswerEvent } from "../streams/answer-events.ts";
import { jsonSseResponse } from "../streams/json-sse.ts";
import { UI_MESSAGE_STREAM_HEADERS, uiMessageChunks } from "../streams/ui-message-wire.ts";
import { chatSession, parseChatId, parseChatRequest } from "./ai-sdk-request.ts";
import type { RouteRequest } from "./sessions.ts";

function uiStream(answer: ReadableStream<AnswerEvent>, session: string): Response {
  return jsonSseResponse(answer, uiMessageChunks(), {
    ...UI_MESSAGE_STREAM_HEADERS,
    [SESSION_SELECT_HEADER]: session,
  });
}

/**
 * `POST /api/chat`: asks the last user message in the chat's session (created on first use)
 * and streams the answer. The session already holds the history, so only the last user
 * message is read. `regenerate-message` asks it again as a new turn: the session's history is
 * append-only, so the earlier answer stays in it.
 */
export async function postChat(request: RouteRequest, env: Env): Promise<Response> {
  const chat = parseChatRequest(await request.text());
  const session = await chatSession(chat.chatId, request.principal);
  const answer = await askSession(env, request.principal, session, chat.prompt, true);
  return uiStream(answer, session);
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

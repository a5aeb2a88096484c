/** The session routes: WebSocket `/chat`, and the HTTP/SSE API under `/sessions`. */
import { type Principal, WS_PROTOCOL } from "../auth.ts";
import { listChats } from "../directory/listing.ts";
import type { Env } from "../env.ts";
import { SluiceError } from "../errors.ts";
import { isSessionId, newSessionId } from "../ids.ts";
import { parseListRequest, parseOnAbandon, parseSeq } from "../schema/query.ts";
import {
  parseMessageRequest,
  parseRenameBody,
  parseSessionBody,
  parseToolResultsBody,
} from "../schema/session-bodies.ts";
import { CALLER_HEADER, CREATE_HEADER, callerOf, sessionStub, unwrap } from "../session/calls.ts";
import { SSE_HEADERS } from "../streams/sse.ts";
import { policyOf } from "../tools-options.ts";

export type Params = { params: Record<string, string | undefined> };
/** A request as routes see it: with its path parameters and its authenticated caller. */
export type RouteRequest = Request & Params & { principal: Principal };

/** The session id of a route, checked: a malformed id cannot name a session. */
export function sessionParam(request: Params, value = request.params.id): string {
  if (value === undefined || !isSessionId(value)) {
    throw new SluiceError("session_not_found", "No session has this id.");
  }
  return value;
}

/**
 * A browser that offered subprotocols (`sluice`, `sluice.token.<token>`) must get one back or it
 * drops the socket: answer `sluice`, never the token.
 */
function withSubprotocol(request: Request, response: Response): Response {
  const offered = request.headers.get("sec-websocket-protocol")?.split(",") ?? [];
  if (response.status !== 101 || !offered.some((protocol) => protocol.trim() === WS_PROTOCOL)) {
    return response;
  }
  return new Response(null, {
    status: 101,
    webSocket: response.webSocket,
    headers: { "sec-websocket-protocol": WS_PROTOCOL },
  });
}

export async function openChat(request: RouteRequest, env: Env): Promise<Response> {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new SluiceError("upgrade_required", "/chat is a WebSocket endpoint; connect with ws://.");
  }
  const url = new URL(request.url);
  const requested = url.searchParams.get("session");
  const after = url.searchParams.get("after");
  const query = after === null ? "" : `?after=${parseSeq(after, "after")}`;
  const session = requested === null ? newSessionId() : sessionParam(request, requested);
  const caller = callerOf(request.principal, session);
  const stub = sessionStub(env, session);
  // The upgrade is the one call RPC cannot make: the caller travels in a header we set, and
  // a new session is created by the same call (its options checked here, before it leaves).
  const headers = new Headers(request.headers);
  headers.set(CALLER_HEADER, JSON.stringify(caller));
  headers.delete(CREATE_HEADER);
  if (requested === null) {
    const { onAbandon } = parseOnAbandon(url.searchParams.get("onAbandon") ?? undefined);
    headers.set(CREATE_HEADER, onAbandon);
  }
  return withSubprotocol(request, await stub.fetch(`https://session/ws${query}`, { headers }));
}

export async function createSession(request: RouteRequest, env: Env): Promise<Response> {
  const options = parseSessionBody(await request.text());
  const session = newSessionId();
  const created = await sessionStub(env, session).create(
    callerOf(request.principal, session),
    options,
  );
  return Response.json(unwrap(created), { status: 201 });
}

/** The session's events as SSE; EventSource's Last-Event-ID (or `?after=`) resumes it. */
export async function streamEvents(request: RouteRequest, env: Env): Promise<Response> {
  const session = sessionParam(request);
  const header =
    request.headers.get("last-event-id") ?? new URL(request.url).searchParams.get("after");
  const after = header === null ? undefined : parseSeq(header, "Last-Event-ID");
  const followed = await sessionStub(env, session).follow(
    callerOf(request.principal, session),
    after,
    "sse",
  );
  return new Response(unwrap(followed), { headers: SSE_HEADERS });
}

export async function postCancel(request: RouteRequest, env: Env): Promise<Response> {
  const session = sessionParam(request);
  const cancelled = await sessionStub(env, session).cancelAnswer(
    callerOf(request.principal, session),
  );
  return Response.json({ cancelled: unwrap(cancelled) });
}

export async function postMessage(request: RouteRequest, env: Env): Promise<Response> {
  const session = sessionParam(request);
  const { prompt, ...extras } = parseMessageRequest(await request.text(), policyOf(env));
  const asked = await sessionStub(env, session).ask(
    callerOf(request.principal, session),
    prompt,
    "sse",
    extras,
  );
  return new Response(unwrap(asked), { headers: SSE_HEADERS });
}

/**
 * `POST /sessions/:id/tool-results` with `{"results": [...]}`: results for the calls the answer
 * waits for; answers with the answer's events (the continuation's, once all are in) as SSE.
 */
export async function postToolResults(request: RouteRequest, env: Env): Promise<Response> {
  const session = sessionParam(request);
  const results = parseToolResultsBody(await request.text());
  const answered = await sessionStub(env, session).submitToolResults(
    callerOf(request.principal, session),
    results,
    "sse",
  );
  return new Response(unwrap(answered), { headers: SSE_HEADERS });
}

export async function getSession(request: RouteRequest, env: Env): Promise<Response> {
  const session = sessionParam(request);
  const snapshot = await sessionStub(env, session).snapshot(callerOf(request.principal, session));
  return Response.json(unwrap(snapshot));
}

/** `GET /sessions?limit=&cursor=`: a page of the caller's chats, from its directory alone. */
export async function listSessions(request: RouteRequest, env: Env): Promise<Response> {
  const query = new URL(request.url).searchParams;
  const chatRequest = parseListRequest(
    query.get("limit") ?? undefined,
    query.get("cursor") ?? undefined,
  );
  return Response.json(await listChats(env, request.principal.id, chatRequest));
}

/** `PATCH /sessions/:id` with `{"title": "..."}`: renames the session. */
export async function renameSession(request: RouteRequest, env: Env): Promise<Response> {
  const session = sessionParam(request);
  const title = parseRenameBody(await request.text());
  const renamed = await sessionStub(env, session).rename(
    callerOf(request.principal, session),
    title,
  );
  return Response.json(unwrap(renamed));
}

/**
 * `DELETE /sessions/:id`: deletes the session and everything it stored. Idempotent: a session
 * already gone, never created or another principal's (which answers like a missing one) is 204
 * as well, and nothing changes.
 */
export async function deleteSession(request: RouteRequest, env: Env): Promise<Response> {
  const session = sessionParam(request);
  const deleted = await sessionStub(env, session).remove(callerOf(request.principal, session));
  if (!deleted.ok && deleted.error.code !== "session_not_found") unwrap(deleted);
  return new Response(null, { status: 204 });
}

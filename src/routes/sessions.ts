/** The session routes: WebSocket `/chat`, and the HTTP/SSE API under `/sessions`. */
import { type Principal, WS_PROTOCOL } from "../auth.ts";
import { listChats } from "../directory/listing.ts";
import type { Env } from "../env.ts";
import { SluiceError } from "../errors.ts";
import { isSessionId, newSessionId } from "../ids.ts";
import {
  parseListRequest,
  parseMessageBody,
  parseOnAbandon,
  parseRenameBody,
  parseSeq,
  parseSessionBody,
} from "../protocol.ts";
import { forward } from "../session/forward.ts";

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
  const { principal } = request;
  const url = new URL(request.url);
  const requested = url.searchParams.get("session");
  const after = url.searchParams.get("after");
  const query = after === null ? "" : `after=${parseSeq(after, "after")}`;
  let session: string;
  if (requested === null) {
    const options = parseOnAbandon(url.searchParams.get("onAbandon") ?? undefined);
    session = newSessionId();
    await forward(env, session, "/create", {
      principal,
      method: "POST",
      body: JSON.stringify(options),
    });
  } else {
    session = sessionParam(request, requested);
  }
  const response = await forward(env, session, "/ws", {
    principal,
    headers: request.headers,
    query,
  });
  return withSubprotocol(request, response);
}

export async function createSession(request: RouteRequest, env: Env): Promise<Response> {
  const { principal } = request;
  const options = parseSessionBody(await request.text());
  return forward(env, newSessionId(), "/create", {
    principal,
    method: "POST",
    body: JSON.stringify(options),
  });
}

/** The session's events as SSE; EventSource's Last-Event-ID (or `?after=`) resumes it. */
export function streamEvents(request: RouteRequest, env: Env): Promise<Response> {
  const session = sessionParam(request);
  const after =
    request.headers.get("last-event-id") ?? new URL(request.url).searchParams.get("after");
  const query = after === null ? "" : `after=${parseSeq(after, "Last-Event-ID")}`;
  return forward(env, session, "/events", { principal: request.principal, query });
}

export function cancelGeneration(request: RouteRequest, env: Env): Promise<Response> {
  return forward(env, sessionParam(request), "/cancel", {
    principal: request.principal,
    method: "POST",
  });
}

export async function postMessage(request: RouteRequest, env: Env): Promise<Response> {
  const session = sessionParam(request);
  const content = parseMessageBody(await request.text());
  return forward(env, session, "/messages", {
    principal: request.principal,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ content }),
  });
}

export function getSession(request: RouteRequest, env: Env): Promise<Response> {
  return forward(env, sessionParam(request), "/history", { principal: request.principal });
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
  return forward(env, session, "/rename", {
    principal: request.principal,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ title }),
  });
}

/**
 * `DELETE /sessions/:id`: deletes the session and everything it stored. Idempotent: a session
 * already gone, never created or another principal's (which answers like a missing one) is 204
 * as well, and nothing changes.
 */
export async function deleteSession(request: RouteRequest, env: Env): Promise<Response> {
  const response = await forward(env, sessionParam(request), "/delete", {
    principal: request.principal,
    method: "POST",
  });
  if (response.status === 404) return new Response(null, { status: 204 });
  return response;
}

/** The session routes: WebSocket `/chat`, and the HTTP/SSE API under `/sessions`. */
import type { Env } from "../env.ts";
import { SluiceError } from "../errors.ts";
import { isSessionId, newSessionId } from "../ids.ts";
import { parseMessageBody, parseOnAbandon, parseSeq, parseSessionBody } from "../protocol.ts";
import { forward } from "../session/forward.ts";

export type Params = { params: Record<string, string | undefined> };
export type RouteRequest = Request & Params;

/** The session id of a route, checked: a malformed id cannot name a session. */
export function sessionParam(request: Params, value = request.params.id): string {
  if (value === undefined || !isSessionId(value)) {
    throw new SluiceError("session_not_found", "No session has this id.");
  }
  return value;
}

export async function openChat(request: RouteRequest, env: Env): Promise<Response> {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new SluiceError("upgrade_required", "/chat is a WebSocket endpoint; connect with ws://.");
  }
  const url = new URL(request.url);
  const requested = url.searchParams.get("session");
  const after = url.searchParams.get("after");
  const query = after === null ? "" : `after=${parseSeq(after, "after")}`;
  let session: string;
  if (requested === null) {
    const options = parseOnAbandon(url.searchParams.get("onAbandon") ?? undefined);
    session = newSessionId();
    await forward(env, session, "/create", { method: "POST", body: JSON.stringify(options) });
  } else {
    session = sessionParam(request, requested);
  }
  return forward(env, session, "/ws", { headers: request.headers, query });
}

export async function createSession(request: RouteRequest, env: Env): Promise<Response> {
  const options = parseSessionBody(await request.text());
  return forward(env, newSessionId(), "/create", { method: "POST", body: JSON.stringify(options) });
}

/** The session's events as SSE; EventSource's Last-Event-ID (or `?after=`) resumes it. */
export function streamEvents(request: RouteRequest, env: Env): Promise<Response> {
  const session = sessionParam(request);
  const after =
    request.headers.get("last-event-id") ?? new URL(request.url).searchParams.get("after");
  const query = after === null ? "" : `after=${parseSeq(after, "Last-Event-ID")}`;
  return forward(env, session, "/events", { query });
}

export function cancelGeneration(request: RouteRequest, env: Env): Promise<Response> {
  return forward(env, sessionParam(request), "/cancel", { method: "POST" });
}

export async function postMessage(request: RouteRequest, env: Env): Promise<Response> {
  const session = sessionParam(request);
  const content = parseMessageBody(await request.text());
  return forward(env, session, "/messages", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ content }),
  });
}

export function getSession(request: RouteRequest, env: Env): Promise<Response> {
  return forward(env, sessionParam(request), "/history");
}

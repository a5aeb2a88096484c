/** The Worker: a thin router that validates each request and forwards it to its session. */
import { Router } from "itty-router";
import type { Env } from "./env.ts";
import { SluiceError, toSluiceError } from "./errors.ts";
import { isSessionId, newSessionId } from "./ids.ts";
import { parseMessageBody, parseOnAbandon, parseSeq, parseSessionBody } from "./protocol.ts";
import { forward } from "./session/forward.ts";

export { ChatSession } from "./session/ChatSession.ts";

type Params = { params: Record<string, string | undefined> };
type RouteRequest = Request & Params;

/** The session id of a route, checked: a malformed id cannot name a session. */
function sessionParam(request: Params, value = request.params.id): string {
  if (value === undefined || !isSessionId(value)) {
    throw new SluiceError("session_not_found", "No session has this id.");
  }
  return value;
}

async function openChat(request: RouteRequest, env: Env): Promise<Response> {
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

async function createSession(request: RouteRequest, env: Env): Promise<Response> {
  const options = parseSessionBody(await request.text());
  return forward(env, newSessionId(), "/create", { method: "POST", body: JSON.stringify(options) });
}

/** The session's events as SSE; EventSource's Last-Event-ID (or `?after=`) resumes it. */
function streamEvents(request: RouteRequest, env: Env): Promise<Response> {
  const session = sessionParam(request);
  const after =
    request.headers.get("last-event-id") ?? new URL(request.url).searchParams.get("after");
  const query = after === null ? "" : `after=${parseSeq(after, "Last-Event-ID")}`;
  return forward(env, session, "/events", { query });
}

function cancelGeneration(request: RouteRequest, env: Env): Promise<Response> {
  return forward(env, sessionParam(request), "/cancel", { method: "POST" });
}

async function postMessage(request: RouteRequest, env: Env): Promise<Response> {
  const session = sessionParam(request);
  const content = parseMessageBody(await request.text());
  return forward(env, session, "/messages", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ content }),
  });
}

function getSession(request: RouteRequest, env: Env): Promise<Response> {
  return forward(env, sessionParam(request), "/history");
}

function methodNotAllowed(allowed: string) {
  return (request: Request) => {
    throw new SluiceError(
      "method_not_allowed",
      `${request.method} is not allowed on ${new URL(request.url).pathname}; use ${allowed}.`,
    );
  };
}

const router = Router<RouteRequest, [Env, ExecutionContext]>({
  catch: (error) => {
    const failure = toSluiceError(error);
    if (failure.code === "internal") console.error("request failed", error);
    return failure.toResponse();
  },
});

router
  .get("/chat", openChat)
  .all("/chat", methodNotAllowed("GET with a WebSocket upgrade"))
  .post("/sessions", createSession)
  .all("/sessions", methodNotAllowed("POST"))
  .get("/sessions/:id", getSession)
  .all("/sessions/:id", methodNotAllowed("GET"))
  .post("/sessions/:id/messages", postMessage)
  .all("/sessions/:id/messages", methodNotAllowed("POST"))
  .get("/sessions/:id/events", streamEvents)
  .all("/sessions/:id/events", methodNotAllowed("GET"))
  .post("/sessions/:id/cancel", cancelGeneration)
  .all("/sessions/:id/cancel", methodNotAllowed("POST"))
  .all("*", (request: Request) => {
    throw new SluiceError("not_found", `No route for ${new URL(request.url).pathname}.`);
  });

export default {
  fetch: (request, env, ctx) => router.fetch(request as RouteRequest, env, ctx),
} satisfies ExportedHandler<Env>;

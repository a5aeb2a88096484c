/** The Worker: a thin router that validates each request and forwards it to its session. */
import { Router } from "itty-router";
import type { Env } from "./env.ts";
import { SluiceError, toSluiceError } from "./errors.ts";
import { isSessionId, newSessionId } from "./ids.ts";
import { parseMessageBody } from "./protocol.ts";
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
  const session = requested === null ? newSessionId() : sessionParam(request, requested);
  if (requested === null) await forward(env, session, "/create", { method: "POST" });
  const query = new URLSearchParams();
  const after = url.searchParams.get("after");
  if (after !== null) {
    if (!/^\d{1,15}$/.test(after)) {
      throw new SluiceError(
        "invalid_request",
        '"after" must be a sequence number (an integer >= 0).',
      );
    }
    query.set("after", after);
  }
  return forward(env, session, "/ws", { headers: request.headers, query: query.toString() });
}

async function createSession(_request: RouteRequest, env: Env): Promise<Response> {
  const session = newSessionId();
  return forward(env, session, "/create", { method: "POST" });
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
  .all("*", (request: Request) => {
    throw new SluiceError("not_found", `No route for ${new URL(request.url).pathname}.`);
  });

export default {
  fetch: (request, env, ctx) => router.fetch(request as RouteRequest, env, ctx),
} satisfies ExportedHandler<Env>;

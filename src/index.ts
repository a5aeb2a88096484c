/** The Worker: a thin router that validates each request and forwards it to its session. */
import { Router } from "itty-router";
import { authenticate } from "./auth.ts";
import type { Env } from "./env.ts";
import { SluiceError, toSluiceError } from "./errors.ts";
import { countRequest } from "./limits/limits.ts";
import { checkOrigin, preflight, withCors } from "./origins.ts";
import { postChat, resumeChat, stopChat } from "./routes/ai-sdk.ts";
import { openChatSocket } from "./routes/ai-sdk-ws.ts";
import { chatCompletions, listModels, openaiFallback } from "./routes/openai-compat.ts";
import {
  cancelGeneration,
  createSession,
  getSession,
  openChat,
  postMessage,
  type RouteRequest,
  streamEvents,
} from "./routes/sessions.ts";

export { ClientLimiter } from "./limits/ClientLimiter.ts";
export { ChatSession } from "./session/ChatSession.ts";

function methodNotAllowed(allowed: string) {
  return (request: Request) => {
    throw new SluiceError(
      "method_not_allowed",
      `${request.method} is not allowed on ${new URL(request.url).pathname}; use ${allowed}.`,
    );
  };
}

/**
 * Runs before every route: the origin check (CORS preflights end here), authentication, and
 * the client's request rate. Routes then find the caller in `request.principal`.
 */
async function guard(request: RouteRequest, env: Env): Promise<Response | undefined> {
  checkOrigin(request, env);
  if (request.method === "OPTIONS") return preflight(request);
  request.principal = await authenticate(request, env);
  await countRequest(env, request.principal.limitKey);
  return undefined;
}

const router = Router<RouteRequest, [Env, ExecutionContext]>({
  before: [guard],
  catch: (error) => {
    const failure = toSluiceError(error);
    // Logged without the request: its headers and URL may hold a token.
    if (failure.code === "internal") console.error("request failed:", String(error));
    return failure.toResponse();
  },
  finally: [(response: Response, request: RouteRequest) => withCors(response, request)],
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
  .post("/v1/chat/completions", chatCompletions)
  .get("/v1/models", listModels)
  .all("/v1/*", openaiFallback)
  .post("/api/chat", postChat)
  .all("/api/chat", methodNotAllowed("POST"))
  .get("/api/chat/ws", openChatSocket)
  .all("/api/chat/ws", methodNotAllowed("GET with a WebSocket upgrade"))
  .get("/api/chat/:id/stream", resumeChat)
  .all("/api/chat/:id/stream", methodNotAllowed("GET"))
  .post("/api/chat/:id/stop", stopChat)
  .all("*", (request: Request) => {
    throw new SluiceError("not_found", `No route for ${new URL(request.url).pathname}.`);
  });

export default {
  fetch: (request, env, ctx) => router.fetch(request as RouteRequest, env, ctx),
} satisfies ExportedHandler<Env>;

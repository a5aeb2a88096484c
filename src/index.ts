/** The Worker: a thin router that validates each request and forwards it to its session. */
import { Router } from "itty-router";
import type { Env } from "./env.ts";
import { SluiceError, toSluiceError } from "./errors.ts";
import {
  cancelGeneration,
  createSession,
  getSession,
  openChat,
  postMessage,
  type RouteRequest,
  streamEvents,
} from "./routes/sessions.ts";

export { ChatSession } from "./session/ChatSession.ts";

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

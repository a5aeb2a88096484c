/** The Worker: a thin router that validates each request and forwards it to its session. */
import type { IRequest } from "itty-router";
import { IttyRouter } from "itty-router/IttyRouter";
import { authenticate } from "./auth.ts";
import type { Env } from "./env.ts";
import { SluiceError, toSluiceError } from "./errors.ts";
import { countRequest } from "./limits/limits.ts";
import { checkOrigin, preflight, withCors } from "./origins.ts";
import { postChat, resumeChat, stopChat } from "./routes/ai-sdk.ts";
import { openChatSocket } from "./routes/ai-sdk-ws.ts";
import { health } from "./routes/health.ts";
import { methodNotAllowed } from "./routes/method-not-allowed.ts";
import { chatCompletions, listModels, openaiFallback } from "./routes/openai-compat.ts";
import {
  createSession,
  deleteSession,
  getSession,
  listSessions,
  openChat,
  postCancel,
  postMessage,
  postToolResults,
  type RouteRequest,
  renameSession,
  streamEvents,
} from "./routes/sessions.ts";
import { getUsage } from "./routes/usage.ts";

export { Account } from "./account/Account.ts";
export { ChatSession } from "./session/ChatSession.ts";

/** A route that refuses every method with `method_not_allowed`, naming `allowed`. */
function refuseAllBut(allowed: string) {
  return (request: Request) => {
    throw methodNotAllowed(request.method, new URL(request.url).pathname, allowed);
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

// itty-router's smallest router: the guard, the error response and CORS wrap it in `handle`.
const router = IttyRouter<IRequest & RouteRequest, [Env, ExecutionContext]>();

/** A request through the guard and its route; every failure is its error response, with CORS. */
async function handle(request: RouteRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  let response: Response;
  try {
    response = (await guard(request, env)) ?? (await router.fetch(request, env, ctx));
  } catch (error) {
    const failure = toSluiceError(error);
    // Logged without the request: its headers and URL may hold a token.
    if (failure.code === "internal") console.error("request failed:", String(error));
    response = failure.toResponse();
  }
  return withCors(response, request, env);
}

type Handler = (request: RouteRequest, env: Env, ctx: ExecutionContext) => unknown;

/**
 * Every route, once: its method, path and handler. Any other method on the path gets
 * `method_not_allowed` naming the right one; unknown paths get `not_found`. (`/v1/*` answers
 * its own misses in OpenAI's error shape.)
 */
const ROUTES: Array<["GET" | "POST" | "PATCH" | "DELETE", string, Handler, string?]> = [
  ["GET", "/chat", openChat, "GET with a WebSocket upgrade"],
  ["GET", "/sessions", listSessions],
  ["POST", "/sessions", createSession],
  ["GET", "/sessions/:id", getSession],
  ["PATCH", "/sessions/:id", renameSession],
  ["DELETE", "/sessions/:id", deleteSession],
  ["POST", "/sessions/:id/messages", postMessage],
  ["POST", "/sessions/:id/tool-results", postToolResults],
  ["GET", "/sessions/:id/events", streamEvents],
  ["POST", "/sessions/:id/cancel", postCancel],
  ["POST", "/api/chat", postChat],
  ["GET", "/api/chat/ws", openChatSocket, "GET with a WebSocket upgrade"],
  ["GET", "/api/chat/:id/stream", resumeChat],
  ["POST", "/api/chat/:id/stop", stopChat],
  ["GET", "/usage", getUsage],
];

const VERB = { GET: "get", POST: "post", PATCH: "patch", DELETE: "delete" } as const;
const allowedOn = new Map<string, string[]>();
for (const [method, path, handler, allowed] of ROUTES) {
  router[VERB[method]](path, handler);
  allowedOn.set(path, [...(allowedOn.get(path) ?? []), allowed ?? method]);
}
// After every route, so a path with several methods reaches each of them first.
for (const [path, allowed] of allowedOn) router.all(path, refuseAllBut(allowed.join(" or ")));
router
  .post("/v1/chat/completions", chatCompletions)
  .get("/v1/models", listModels)
  .all("/v1/*", openaiFallback)
  .all("*", (request: Request) => {
    throw new SluiceError("not_found", `No route for ${new URL(request.url).pathname}.`);
  });

export default {
  // `/health` skips the guard: no token, no rate limit, no Durable Object (src/routes/health.ts).
  fetch: async (request, env, ctx): Promise<Response> =>
    new URL(request.url).pathname === "/health"
      ? health(request, env)
      : handle(request as RouteRequest, env, ctx),
} satisfies ExportedHandler<Env>;

/** The Worker: a thin router that validates each request and forwards it to its session. */
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

type Handler = (
  request: RouteRequest,
  env: Env,
  ctx: ExecutionContext,
) => Response | Promise<Response>;

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

/**
 * A route's path as a RegExp, matched as itty-router (the router before this one, 0.9 KB of
 * bundle) matched it: `:name` is one segment (`params.name`), a trailing `/*` any rest or
 * none, and trailing slashes are allowed.
 */
function pathPattern(path: string): RegExp {
  const pattern = path.replace(/:(\w+)/g, "(?<$1>[^/]+?)").replace(/\/\*$/, "(/.*)?");
  return new RegExp(`^${pattern}/*$`);
}

/** Every route in the order it is tried: a method (or `ALL`), a path and its handler. */
const routes: Array<[string, RegExp, Handler]> = [];
const allowedOn = new Map<string, string[]>();
for (const [method, path, handler, allowed] of ROUTES) {
  routes.push([method, pathPattern(path), handler]);
  allowedOn.set(path, [...(allowedOn.get(path) ?? []), allowed ?? method]);
}
// After every route, so a path with several methods reaches each of them first.
for (const [path, allowed] of allowedOn) {
  routes.push(["ALL", pathPattern(path), refuseAllBut(allowed.join(" or "))]);
}
for (const [method, path, handler] of [
  ["POST", "/v1/chat/completions", chatCompletions],
  ["GET", "/v1/models", listModels],
  ["ALL", "/v1/*", openaiFallback],
] as const) {
  routes.push([method, pathPattern(path), handler]);
}

/**
 * The guard, then the first route whose method and path match; any error becomes its JSON
 * response (logged when it is `internal`), and every response gets its CORS headers.
 */
async function route(request: RouteRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  let response: Response | undefined;
  try {
    response = await guard(request, env);
    const { pathname } = new URL(request.url);
    for (const [method, pattern, handler] of routes) {
      if (response !== undefined) break;
      const match = method === request.method || method === "ALL" ? pattern.exec(pathname) : null;
      if (!match) continue;
      request.params = { ...match.groups };
      response = await handler(request, env, ctx);
    }
    if (response === undefined) throw new SluiceError("not_found", `No route for ${pathname}.`);
  } catch (error) {
    response = failed(error);
  }
  try {
    return withCors(response, request, env);
  } catch (error) {
    return failed(error);
  }
}

function failed(error: unknown): Response {
  const failure = toSluiceError(error);
  // Logged without the request: its headers and URL may hold a token.
  if (failure.code === "internal") console.error("request failed:", String(error));
  return failure.toResponse();
}

export default {
  // `/health` skips the guard: no token, no rate limit, no Durable Object (src/routes/health.ts).
  fetch: async (request, env, ctx): Promise<Response> =>
    new URL(request.url).pathname === "/health"
      ? health(request, env)
      : route(request as RouteRequest, env, ctx),
} satisfies ExportedHandler<Env>;

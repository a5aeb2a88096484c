/**
 * Which browser origins may call the relay: CORS for HTTP, and the `Origin` check for
 * WebSockets (which CORS does not cover). Requests without an Origin (servers, curl) are not
 * browsers and pass; the token, when configured, still guards them.
 */
import type { Env } from "./env.ts";
import { SluiceError } from "./errors.ts";

const LOCALHOST = new Set(["localhost", "127.0.0.1", "[::1]"]);

// Every method a route takes (src/index.ts ROUTES): a page on another origin renames a chat
// with PATCH and deletes it with DELETE (SluiceChats), which a preflight must allow.
const CORS_ALLOW = {
  "access-control-allow-methods": "GET, POST, PATCH, DELETE, OPTIONS",
  "access-control-allow-headers": "authorization, content-type, last-event-id, x-sluice-session",
  "access-control-max-age": "600",
} as const;

/**
 * Whether `origin` may call the relay at `requestUrl`. Its own origin (the demo page) always
 * may. With ALLOWED_ORIGINS unset, localhost origins on any port may (local development);
 * with it set, exactly the listed origins, or any when it lists `*`.
 */
export function isAllowedOrigin(origin: string, requestUrl: string, env: Env): boolean {
  if (origin === new URL(requestUrl).origin) return true;
  const listed = env.ALLOWED_ORIGINS?.trim();
  if (listed) {
    const allowed = listed.split(",").map((entry) => entry.trim().replace(/\/$/, ""));
    return allowed.includes("*") || allowed.includes(origin);
  }
  try {
    const url = new URL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") && LOCALHOST.has(url.hostname);
  } catch {
    return false;
  }
}

/** Refuses a browser request from an origin that is not allowed. */
export function checkOrigin(request: Request, env: Env): void {
  const origin = request.headers.get("origin");
  if (origin === null || isAllowedOrigin(origin, request.url, env)) return;
  throw new SluiceError(
    "origin_not_allowed",
    `The origin ${origin.slice(0, 100)} is not allowed; add it to ALLOWED_ORIGINS.`,
  );
}

/** The answer to a CORS preflight; only called once checkOrigin has passed. */
export function preflight(request: Request): Response {
  const origin = request.headers.get("origin") ?? "*";
  return new Response(null, {
    status: 204,
    headers: { ...CORS_ALLOW, "access-control-allow-origin": origin, vary: "Origin" },
  });
}

/**
 * Adds CORS headers to a response for an allowed browser origin; sockets are left alone. A
 * refused origin gets none, on any response (its 403 included), so no page of it can read one.
 */
export function withCors(response: Response, request: Request, env: Env): Response {
  const origin = request.headers.get("origin");
  if (origin === null || response.status === 101) return response;
  if (!isAllowedOrigin(origin, request.url, env)) return response;
  const headers = new Headers(response.headers);
  headers.set("access-control-allow-origin", origin);
  headers.set("access-control-expose-headers", "retry-after, x-sluice-session");
  headers.append("vary", "Origin");
  return new Response(response.body, { status: response.status, headers });
}

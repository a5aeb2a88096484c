/**
 * `GET /health`: says the relay is up and which provider and model it answers with. No
 * authentication, no Durable Object, no secrets: a load balancer or uptime check may call it.
 */
import type { Env } from "../env.ts";
import { toSluiceError } from "../errors.ts";
import { createProvider } from "../providers/index.ts";
import { methodNotAllowed } from "./method-not-allowed.ts";

/**
 * The health answer: 200 `{ok: true, provider, model}` (and `fallback` when one is set), or 503
 * `{ok: false, error}` when PROVIDER names no provider. Keys and bindings are not checked:
 * that would cost an upstream call, and a missing key says so at the first prompt.
 */
export function health(request: Request, env: Env): Response {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return methodNotAllowed(request.method, "/health", "GET").toResponse();
  }
  try {
    const { name, model } = createProvider(env);
    const fallback = env.FALLBACK_PROVIDER?.trim()
      ? { fallback: env.FALLBACK_PROVIDER.trim().toLowerCase() }
      : {};
    return Response.json(
      { ok: true, provider: name, model, ...fallback },
      { headers: { "cache-control": "no-store" } },
    );
  } catch (error) {
    const { code, message } = toSluiceError(error);
    return Response.json(
      { ok: false, error: { code, message } },
      { status: 503, headers: { "cache-control": "no-store" } },
    );
  }
}

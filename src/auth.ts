/**
 * Who is calling. Two identity options, alone or together: static AUTH_TOKENS for servers
 * (the caller is known by a hash of its token, never by the token itself), and JWTs for the
 * users of an app (the caller is the token's issuer and subject). With neither, the relay is
 * open and every caller is the same principal. docs/security.md explains the choices.
 */
import { type AuthConfig, parseAuthConfig } from "./auth/auth-config.ts";
import { openPrincipal, type Principal } from "./auth/principal.ts";
import { matchStaticToken } from "./auth/static-token.ts";
import { tokenKind } from "./auth/token-kind.ts";
import { verifyJwt } from "./auth/verify-jwt.ts";
import type { Env } from "./env.ts";
import { SluiceError } from "./errors.ts";

export { isExpired, type Principal } from "./auth/principal.ts";

/** The auth vars as last parsed in this isolate: they change only with a deploy. */
let parsed: { vars: readonly (string | undefined)[]; config: AuthConfig } | undefined;

/** parseAuthConfig(env), parsed again only when one of its vars changed. */
function authConfig(env: Env): AuthConfig {
  const vars = [
    env.AUTH_TOKENS,
    env.AUTH_JWT_SECRET,
    env.AUTH_JWKS_URL,
    env.AUTH_ISSUER,
    env.AUTH_AUDIENCE,
    env.AUTH_JWKS_COOLDOWN_MS,
  ];
  if (!parsed || vars.some((value, index) => value !== parsed?.vars[index])) {
    // A config_error throws here and is thrown again at every request until it is fixed.
    parsed = { vars, config: parseAuthConfig(env) };
  }
  return parsed.config;
}

/** The subprotocol a WebSocket client offers next to `sluice.token.<token>`; the server picks it. */
export const WS_PROTOCOL = "sluice";
const WS_TOKEN_PREFIX = "sluice.token.";

/**
 * Close code of a socket whose JWT expired while it was open: its next frame got a
 * `token_expired` error, and the client reconnects with a fresh token (application range).
 */
export const CLOSE_TOKEN_EXPIRED = 4401;

/**
 * The token a request carries: `Authorization: Bearer`, else a `sluice.token.<token>`
 * WebSocket subprotocol (browsers cannot set headers on sockets), else `?token=` (for
 * EventSource, which cannot either). Query strings can end up in logs: prefer the others.
 */
export function presentedToken(request: Request): string | undefined {
  const authorization = request.headers.get("authorization");
  const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (bearer) return bearer;
  const protocols = request.headers.get("sec-websocket-protocol")?.split(",") ?? [];
  for (const protocol of protocols) {
    const trimmed = protocol.trim();
    if (trimmed.startsWith(WS_TOKEN_PREFIX)) return trimmed.slice(WS_TOKEN_PREFIX.length);
  }
  return new URL(request.url).searchParams.get("token") ?? undefined;
}

let warnedOpen = false;

/**
 * Identifies the caller. Throws `config_error` when the auth vars are inconsistent,
 * `unauthorized` when auth is on and the token is missing or not valid, `auth_unavailable`
 * when a JWT's keys cannot be fetched. A JWT-shaped token is verified as a JWT; any other is
 * matched against AUTH_TOKENS.
 */
export async function authenticate(request: Request, env: Env): Promise<Principal> {
  const config = authConfig(env);
  if (config.tokens.length === 0 && !config.jwt) {
    if (!warnedOpen) {
      warnedOpen = true;
      console.warn(
        "Sluice runs OPEN: neither AUTH_TOKENS nor JWT auth is set, so anyone who reaches it can use it.",
      );
    }
    return openPrincipal(request.headers.get("cf-connecting-ip") ?? "unknown");
  }

  const token = presentedToken(request);
  if (token === undefined) {
    throw new SluiceError(
      "unauthorized",
      "A token is required: send `Authorization: Bearer <token>`, or for WebSockets the subprotocols `sluice` and `sluice.token.<token>`.",
    );
  }
  if (config.jwt && tokenKind(token, true) === "jwt") return verifyJwt(token, config.jwt);
  const principal = await matchStaticToken(token, config.tokens);
  if (!principal) throw new SluiceError("unauthorized", "The token is not valid.");
  return principal;
}

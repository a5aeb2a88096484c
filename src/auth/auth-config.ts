/**
 * The auth vars, checked: static tokens, JWT verification (a shared secret, a JWKS URL, or
 * both), and the claims every JWT must carry. A half-configured relay refuses every request
 * with `config_error` naming the var, rather than running open or accepting the wrong tokens.
 */
import { numberSetting } from "../config.ts";
import type { Env } from "../env.ts";
import { SluiceError } from "../errors.ts";
import { looksLikeJwt } from "./token-kind.ts";

/** Seconds by which `exp` and `nbf` may be off: clocks of issuers and edges drift a little. */
export const CLOCK_TOLERANCE_S = 30;
/** Milliseconds a JWKS fetch may take before the request fails with `auth_unavailable`. */
export const JWKS_TIMEOUT_MS = 3_000;
/** How long a fetched JWKS is used before it is fetched again (jose's default). */
export const JWKS_MAX_AGE_MS = 600_000;
/**
 * After a fetch, how long a token with an unknown `kid` is refused without fetching again
 * (AUTH_JWKS_COOLDOWN_MS): a bound on how hard forged kids can make the relay call the issuer.
 */
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
/** AUTH_JWT_SECRET's minimum length in bytes: HS256 wants a key as long as its hash (RFC 7518). */
export const MIN_SECRET_BYTES = 32;
/** Algorithms of tokens verified with AUTH_JWT_SECRET. */
export const SECRET_ALGORITHMS = ["HS256"] as const;
/** Algorithms of tokens verified with a key from AUTH_JWKS_URL (`Ed25519` is `EdDSA`'s new name). */
export const JWKS_ALGORITHMS = ["RS256", "ES256", "EdDSA", "Ed25519"] as const;

/** How JWTs are verified. */
export interface JwtConfig {
  /** The one `iss` accepted. */
  issuer: string;
  /** The one `aud` accepted (a token may list others next to it). */
  audience: string;
  /** AUTH_JWT_SECRET's bytes, when HS256 tokens are accepted. */
  secret: Uint8Array | undefined;
  /** AUTH_JWKS_URL, when RS256, ES256 and EdDSA tokens are accepted. */
  jwksUrl: URL | undefined;
  /** See DEFAULT_JWKS_COOLDOWN_MS. */
  jwksCooldownMs: number;
  /** Every `alg` accepted: the secret's and the JWKS's, never `none`. */
  algorithms: string[];
}

/** Every identity option the relay has; with neither, it runs open. */
export interface AuthConfig {
  /** AUTH_TOKENS, split and trimmed. */
  tokens: string[];
  jwt: JwtConfig | undefined;
}

type AuthVars = Pick<
  Env,
  | "AUTH_TOKENS"
  | "AUTH_JWT_SECRET"
  | "AUTH_JWKS_URL"
  | "AUTH_ISSUER"
  | "AUTH_AUDIENCE"
  | "AUTH_JWKS_COOLDOWN_MS"
>;

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);
const encoder = new TextEncoder();

function misconfigured(message: string): SluiceError {
  return new SluiceError("config_error", message);
}

/** A var's value, trimmed; unset and blank are the same. */
function read(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** AUTH_JWKS_URL: https, or http on a loopback address (local development and tests). */
function parseJwksUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw misconfigured("AUTH_JWKS_URL is not a URL.");
  }
  const local = url.protocol === "http:" && LOOPBACK.has(url.hostname);
  if (url.protocol !== "https:" && !local) {
    throw misconfigured("AUTH_JWKS_URL must be https (http only on localhost).");
  }
  return url;
}

function parseCooldown(value: string | undefined): number {
  return numberSetting("AUTH_JWKS_COOLDOWN_MS", value, {
    default: DEFAULT_JWKS_COOLDOWN_MS,
    min: 0,
    max: JWKS_MAX_AGE_MS,
    integer: true,
    unit: "milliseconds",
    invalid: "error",
  });
}

function parseJwt(env: AuthVars): JwtConfig | undefined {
  const secretText = read(env.AUTH_JWT_SECRET);
  const jwksText = read(env.AUTH_JWKS_URL);
  const issuer = read(env.AUTH_ISSUER);
  const audience = read(env.AUTH_AUDIENCE);
  if (secretText === undefined && jwksText === undefined) {
    if (issuer !== undefined || audience !== undefined) {
      throw misconfigured(
        `${issuer !== undefined ? "AUTH_ISSUER" : "AUTH_AUDIENCE"} is set, but neither AUTH_JWT_SECRET nor AUTH_JWKS_URL: set one to turn JWT auth on.`,
      );
    }
    return undefined;
  }
  if (issuer === undefined) throw misconfigured("JWT auth is on: set AUTH_ISSUER (the `iss`).");
  if (audience === undefined) {
    throw misconfigured("JWT auth is on: set AUTH_AUDIENCE (the `aud`).");
  }
  if (/[\r\n]/.test(issuer)) throw misconfigured("AUTH_ISSUER must be one line.");
  const secret = secretText === undefined ? undefined : encoder.encode(secretText);
  if (secret !== undefined && secret.length < MIN_SECRET_BYTES) {
    throw misconfigured(`AUTH_JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes.`);
  }
  const jwksUrl = jwksText === undefined ? undefined : parseJwksUrl(jwksText);
  return {
    issuer,
    audience,
    secret,
    jwksUrl,
    jwksCooldownMs: parseCooldown(read(env.AUTH_JWKS_COOLDOWN_MS)),
    algorithms: [...(secret ? SECRET_ALGORITHMS : []), ...(jwksUrl ? JWKS_ALGORITHMS : [])],
  };
}

/** Reads and checks the auth vars; throws `config_error` naming the first wrong one. */
export function parseAuthConfig(env: AuthVars): AuthConfig {
  const jwt = parseJwt(env);
  const tokens = (env.AUTH_TOKENS ?? "")
    .split(",")
    .map((token) => token.trim())
    .filter((token) => token !== "");
  // Such a token would be verified as a JWT and always fail (see tokenKind).
  if (jwt && tokens.some(looksLikeJwt)) {
    throw misconfigured(
      "An AUTH_TOKENS entry has the shape of a JWT (three parts joined by dots); with JWT auth on, use static tokens without dots.",
    );
  }
  return { tokens, jwt };
}

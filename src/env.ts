/**
 * The Worker's environment. Its bindings, and the vars wrangler.toml sets, are generated from
 * wrangler.toml by `wrangler types` into worker-configuration.d.ts (`npm run types`; `npm test`
 * fails when that file is stale), so a binding cannot be declared in one place and missed in
 * the other. The vars and secrets wrangler.toml leaves unset are declared here, each optional.
 */
export type Env = Cloudflare.Env & Settings;

/** The vars and secrets wrangler.toml leaves unset; each is optional. */
export interface Settings {
  /** Days a session may stay idle (no new prompt) before it is deleted; default 30, `0` never. */
  SESSION_TTL_DAYS?: string;
  /** Workers AI, used when PROVIDER is `workers-ai` (declare `[ai]` in wrangler.toml). */
  AI?: Ai;
  /** Secret: comma-separated tokens; when set, every route requires one of them. */
  AUTH_TOKENS?: string;
  /** Secret: HS256 key (32 bytes or more) for JWT auth; see docs/security.md. */
  AUTH_JWT_SECRET?: string;
  /** JWKS URL (https) of the issuer's RS256 / ES256 / EdDSA keys, for JWT auth. */
  AUTH_JWKS_URL?: string;
  /** The one `iss` accepted; required when JWT auth is on. */
  AUTH_ISSUER?: string;
  /** The `aud` a token must include; required when JWT auth is on. */
  AUTH_AUDIENCE?: string;
  /** Milliseconds after a JWKS fetch during which an unknown `kid` does not refetch (default 30000). */
  AUTH_JWKS_COOLDOWN_MS?: string;
  /** Comma-separated browser origins allowed (CORS and WebSocket Origin); `*` allows any. */
  ALLOWED_ORIGINS?: string;
  /** Output tokens one answer may have; sent upstream as the provider's output cap (default: none sent, except Anthropic's required 4096). */
  MAX_OUTPUT_TOKENS?: string;
  /** Output tokens a principal may use per UTC day; over it, new prompts get `quota_exceeded` (default: no quota). */
  MAX_OUTPUT_TOKENS_PER_DAY?: string;
  /** Output tokens a principal may use per UTC calendar month (default: no quota). */
  MAX_OUTPUT_TOKENS_PER_MONTH?: string;
  /** Answers a client may have streaming at once (default 4). */
  MAX_CONCURRENT_GENERATIONS?: string;
  /** Characters of history sent upstream; the oldest messages are left out first (default 60000). */
  CONTEXT_BUDGET_CHARS?: string;
  /** Model name passed to the upstream; each provider has a default. */
  MODEL?: string;
  /** Models a request may pick with `options.model` (comma list); unset: only MODEL. */
  ALLOWED_MODELS?: string;
  /** Base URL of any OpenAI-compatible API, up to and including `/v1`. */
  OPENAI_BASE_URL?: string;
  /** Secret: the key for OPENAI_BASE_URL. */
  OPENAI_API_KEY?: string;
  /** Base URL of the Anthropic API, up to and including `/v1`. */
  ANTHROPIC_BASE_URL?: string;
  /** Secret: the Anthropic API key. */
  ANTHROPIC_API_KEY?: string;
  /** System prompt sent before the history on every answer. */
  SYSTEM_PROMPT?: string;
  /** Milliseconds within which upstream deltas that come fast are joined into one event (default 4; 0 turns it off). */
  DELTA_COALESCE_MS?: string;
  /** Milliseconds without an upstream byte before an answer fails as stalled (default 60000). */
  STALL_TIMEOUT_MS?: string;
  /** Retries of a failed upstream call before its first token (default 2; 0 turns them off). */
  UPSTREAM_RETRIES?: string;
  /** First retry delay in milliseconds, doubled per retry, with jitter (default 250). */
  UPSTREAM_RETRY_BASE_MS?: string;
  /** Milliseconds to wait for the upstream's response headers (default 10000). */
  CONNECT_TIMEOUT_MS?: string;
  /** Milliseconds from an upstream request to its first text; pings don't count (default 60000). */
  FIRST_TOKEN_TIMEOUT_MS?: string;
  /** Tried when PROVIDER fails before its first token; it reads its own vars (OPENAI_*, ...). */
  FALLBACK_PROVIDER?: string;
  /** Model for FALLBACK_PROVIDER; default: that provider's default model, not MODEL. */
  FALLBACK_MODEL?: string;
}

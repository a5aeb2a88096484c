/** The one error type of Sluice: a closed set of string codes, each with an HTTP status. */

/** Every error code a client can see, with the HTTP status it maps to. README "Error codes" explains each. */
export const ERROR_STATUS = {
  invalid_json: 400,
  invalid_request: 400,
  prompt_empty: 400,
  prompt_too_large: 413,
  frame_too_large: 413,
  unauthorized: 401,
  token_expired: 401,
  auth_unavailable: 503,
  origin_not_allowed: 403,
  identity_required: 403,
  rate_limited: 429,
  quota_exceeded: 429,
  session_full: 409,
  not_found: 404,
  upgrade_required: 426,
  method_not_allowed: 405,
  session_not_found: 404,
  busy: 409,
  resume_unavailable: 410,
  invalid_tools: 400,
  invalid_option: 400,
  model_not_allowed: 400,
  tool_call_unknown: 400,
  tool_result_duplicate: 409,
  no_tool_call_pending: 409,
  tool_input_too_large: 413,
  config_error: 500,
  upstream_auth: 502,
  upstream_http: 502,
  upstream_rate_limited: 502,
  upstream_unreachable: 502,
  upstream_dropped: 502,
  upstream_malformed: 502,
  upstream_error: 502,
  upstream_stalled: 504,
  upstream_timeout: 504,
  interrupted: 500,
  slow_consumer: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Whether `value` is one of our error codes (its own key: `"toString"` is not one). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_STATUS, value);
}

/** An error meant for a client: its `code` is stable, its `message` says what to do. */
export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Seconds after which a retry may succeed (rate limits); sent as `Retry-After`. */
  readonly retryAfter: number | undefined;
  /** When a quota resets, as an ISO 8601 UTC time (`quota_exceeded` only). */
  readonly resetAt: string | undefined;

  constructor(code: ErrorCode, message: string, retryAfter?: number, resetAt?: string) {
    super(message);
    this.name = "SluiceError";
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.retryAfter = retryAfter;
    this.resetAt = resetAt;
  }

  /**
   * The JSON body for HTTP routes: `{"error": {"code", "message"}}` (plus `resetAt` when the
   * error has one), and the headers it needs.
   */
  toResponse(): Response {
    const headers = new Headers();
    if (this.retryAfter !== undefined) headers.set("retry-after", String(this.retryAfter));
    if (this.code === "unauthorized") headers.set("www-authenticate", 'Bearer realm="sluice"');
    const resetAt = this.resetAt === undefined ? {} : { resetAt: this.resetAt };
    return Response.json(
      { error: { code: this.code, message: this.message, ...resetAt } },
      { status: this.status, headers },
    );
  }
}

/** Any thrown value as a SluiceError; unknown failures become `internal` without leaking details. */
export function toSluiceError(error: unknown): SluiceError {
  if (error instanceof SluiceError) return error;
  return new SluiceError("internal", "Internal error; the relay logged the details.");
}

/**
 * Typed calls from the Worker into a session's Durable Object (Workers RPC). A call names its
 * caller; a failure comes back as an `Outcome` carrying Sluice's error code, because RPC keeps
 * only an exception's message, not its fields. `fetch` is left for WebSocket upgrades alone.
 */
import type { Principal } from "../auth.ts";
import type { Env } from "../env.ts";
import { type ErrorCode, SluiceError, toSluiceError } from "../errors.ts";
import { parseObject, readCount, readString } from "../providers/wire.ts";

/** Who calls a session: it answers only the principal that created it. */
export interface Caller {
  session: string;
  /** The caller's principal id; the session's owner must be the same. */
  principal: string;
  /** The key the caller's rate limits count against. */
  limitKey: string;
  /** When the caller's token stops being accepted (ms since the epoch); JWT users only. */
  expiresAt?: number | undefined;
}

/** A session call's result: its value, or the Sluice error that refused it. */
export type Outcome<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      error: {
        code: ErrorCode;
        message: string;
        retryAfter?: number | undefined;
        resetAt?: string | undefined;
      };
    };

/**
 * How a session streams its events: `sse` (Sluice's SSE, for clients), `frames` (one JSON per
 * line, read by the Worker), or `ui` (one answer as the AI SDK's UI message stream, which the
 * Worker passes to `POST /api/chat`'s client unread).
 */
export type EventWire = "sse" | "frames" | "ui";

/** The header carrying the Caller on a WebSocket upgrade, the one call RPC cannot make. */
export const CALLER_HEADER = "x-sluice-caller";
/**
 * On an upgrade that opens a new session (`/chat` without `?session=`): its `onAbandon`, so
 * the session is created by the upgrade itself, one call instead of two.
 */
export const CREATE_HEADER = "x-sluice-create";

/** The Caller of a WebSocket upgrade, from CALLER_HEADER (set by our own Worker, still checked). */
export function parseCaller(header: string | null): Caller {
  const value = parseObject(header ?? "");
  const session = readString(value, "session");
  const principal = readString(value, "principal");
  const limitKey = readString(value, "limitKey");
  const expiresAt = readCount(value, "expiresAt");
  if (session !== undefined && principal !== undefined && limitKey !== undefined) {
    return { session, principal, limitKey, expiresAt };
  }
  throw new SluiceError("internal", "A session was called without its caller.");
}

/** Runs `work`, turning what it throws into a failed Outcome (the object's side of a call). */
export async function outcome<T>(work: () => T | Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    const { code, message, retryAfter, resetAt } = toSluiceError(error);
    if (code === "internal") console.error("session call failed:", String(error));
    return { ok: false, error: { code, message, retryAfter, resetAt } };
  }
}

/** The value of a call, or its error thrown as a SluiceError (the Worker's side of a call). */
export function unwrap<T>(result: Outcome<T>): T {
  if (result.ok) return result.value;
  const { code, message, retryAfter, resetAt } = result.error;
  throw new SluiceError(code, message, retryAfter, resetAt);
}

/** The caller of `session` for a request's principal. */
export function callerOf(principal: Principal, session: string): Caller {
  return {
    session,
    principal: principal.id,
    limitKey: principal.limitKey,
    expiresAt: principal.expiresAt,
  };
}

/**
 * The stub of session `session`'s object. The object is named by the session id, so one id
 * always reaches the same object wherever in the world the request lands.
 */
export function sessionStub(env: Env, session: string) {
  return env.SESSIONS.get(env.SESSIONS.idFromName(session));
}

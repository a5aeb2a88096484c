/** How the Worker reaches a session's Durable Object: one internal HTTP call per operation. */

import type { Principal } from "../auth.ts";
import type { Env } from "../env.ts";

/** The header by which the Worker tells the object which session it is. */
export const SESSION_HEADER = "x-sluice-session";
/** The caller's principal id: a session answers only the principal that created it. */
export const PRINCIPAL_HEADER = "x-sluice-principal";
/** The key the caller's rate limits count against. */
export const LIMIT_KEY_HEADER = "x-sluice-limit-key";

/** Internal operations of ChatSession.fetch. */
export type SessionOp =
  | "/create"
  | "/ws"
  | "/messages"
  | "/events"
  | "/cancel"
  | "/history"
  | "/rename"
  | "/delete";

/**
 * Calls operation `op` on session `session`'s object. The object is named by the session id,
 * so one id always reaches the same object wherever in the world the request lands.
 */
export function forward(
  env: Env,
  session: string,
  op: SessionOp,
  init: {
    /** The caller: sessions belong to the principal that created them. */
    principal: Principal;
    method?: string;
    headers?: HeadersInit;
    body?: string;
    query?: string;
  },
): Promise<Response> {
  const stub = env.SESSIONS.get(env.SESSIONS.idFromName(session));
  const headers = new Headers(init.headers);
  headers.set(SESSION_HEADER, session);
  headers.set(PRINCIPAL_HEADER, init.principal.id);
  headers.set(LIMIT_KEY_HEADER, init.principal.limitKey);
  const url = `https://session${op}${init.query ? `?${init.query}` : ""}`;
  return stub.fetch(url, { method: init.method ?? "GET", headers, body: init.body });
}

/**
 * The keyset cursor of `GET /sessions`: the sort key (last activity, session id) of the last
 * chat of a page, so the next page starts right after it whatever changed meanwhile. Opaque
 * to clients (base64url), and checked when it comes back.
 */
import { isSessionId } from "../ids.ts";

/** Where a page of the chat list ends. */
export interface ChatCursor {
  /** The last chat's last activity, milliseconds since the epoch. */
  at: number;
  session: string;
}

/** The cursor as clients see it. */
export function encodeCursor(cursor: ChatCursor): string {
  return btoa(`${cursor.at}.${cursor.session}`)
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** The cursor in `text`, or undefined when `text` is not one this relay handed out. */
export function decodeCursor(text: string): ChatCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(text)) return undefined;
  let plain: string;
  try {
    plain = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return undefined;
  }
  const match = /^(\d{1,15})\.([0-9a-f]{32})$/.exec(plain);
  const [, at, session] = match ?? [];
  if (at === undefined || session === undefined || !isSessionId(session)) return undefined;
  return { at: Number(at), session };
}

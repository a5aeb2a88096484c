/**
 * Who is calling. With AUTH_TOKENS set, every request must carry one of those tokens; the
 * caller is then known by a hash of its token, never by the token itself. Without it the relay
 * is open and every caller is the same principal.
 */
import type { Env } from "./env.ts";
import { SluiceError } from "./errors.ts";

/** The subprotocol a WebSocket client offers next to `sluice.token.<token>`; the server picks it. */
export const WS_PROTOCOL = "sluice";
const WS_TOKEN_PREFIX = "sluice.token.";

/** The caller of one request. */
export interface Principal {
  /** Owner of the sessions it creates: `open`, or `tok_` and 32 hex digits of the token's hash. */
  id: string;
  /** Whom rate limits count against: the token's id, else the client's IP address. */
  limitKey: string;
}

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Hashes of the configured tokens, computed once per isolate and configuration. */
let configured: { source: string; hashes: Promise<Uint8Array[]> } | undefined;

function tokenHashes(source: string): Promise<Uint8Array[]> {
  if (configured?.source !== source) {
    const tokens = source
      .split(",")
      .map((token) => token.trim())
      .filter((token) => token !== "");
    configured = { source, hashes: Promise.all(tokens.map(digest)) };
  }
  return configured.hashes;
}

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

/** Identifies the caller, or throws `unauthorized` when AUTH_TOKENS is set and no token matches. */
export async function authenticate(request: Request, env: Env): Promise<Principal> {
  const ip = request.headers.get("cf-connecting-ip") ?? "unknown";
  const source = env.AUTH_TOKENS?.trim() ?? "";
  if (source === "") {
    if (!warnedOpen) {
      warnedOpen = true;
      console.warn(
        "Sluice runs OPEN: AUTH_TOKENS is not set, so anyone who reaches it can use it.",
      );
    }
    return { id: "open", limitKey: `ip:${ip}` };
  }

  const token = presentedToken(request);
  if (token === undefined) {
    throw new SluiceError(
      "unauthorized",
      "A token is required: send `Authorization: Bearer <token>`, or for WebSockets the subprotocols `sluice` and `sluice.token.<token>`.",
    );
  }
  const presented = await digest(token);
  let match = false;
  for (const hash of await tokenHashes(source)) {
    // Compare every configured hash in constant time, so timing tells nothing.
    if (crypto.subtle.timingSafeEqual(hash, presented)) match = true;
  }
  if (!match) throw new SluiceError("unauthorized", "The token is not valid.");
  const id = `tok_${hex(presented).slice(0, 32)}`;
  return { id, limitKey: id };
}

/** The caller of a request, and how each kind of caller gets its stable, secret-free id. */
import { hex } from "../ids.ts";

/** The caller of one request. */
export interface Principal {
  /**
   * Owner of the sessions it creates: `open`, `tok_` and 32 hex digits of a static token's
   * hash, or `usr_` and 32 hex digits of the hash of a JWT's issuer and subject.
   */
  id: string;
  /** Whom rate limits count against: the id, else (open mode) the client's IP address. */
  limitKey: string;
  /** `open` (no auth configured), `token` (an AUTH_TOKENS entry) or `user` (a verified JWT). */
  kind: "open" | "token" | "user";
  /**
   * For users: when the relay stops accepting the token (its `exp` plus the clock tolerance),
   * in milliseconds since the epoch. A socket opened with it refuses frames after that.
   */
  expiresAt?: number;
}

const encoder = new TextEncoder();

/** SHA-256 of `text`. */
export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** The first 32 hex digits (128 bits) of a hash: unique enough, and short in storage keys. */
export function shortHex(bytes: Uint8Array): string {
  return hex(bytes.subarray(0, 16));
}

/** The one principal of a relay without auth; its limits count per IP address. */
export function openPrincipal(ip: string): Principal {
  return { id: "open", limitKey: `ip:${ip}`, kind: "open" };
}

/** The principal of a static token, from the token's SHA-256 (never the token itself). */
export function tokenPrincipal(tokenHash: Uint8Array): Principal {
  const id = `tok_${shortHex(tokenHash)}`;
  return { id, limitKey: id, kind: "token" };
}

/**
 * The principal of a verified JWT: its issuer and subject, so one user is one owner and one
 * limit however many tokens they are issued, and the same `sub` from two issuers is two users.
 * AUTH_ISSUER holds no line break (checked), so no two pairs hash the same text.
 */
export async function userPrincipal(
  issuer: string,
  subject: string,
  expiresAt: number,
): Promise<Principal> {
  const id = `usr_${shortHex(await sha256(`${issuer}\n${subject}`))}`;
  return { id, limitKey: id, kind: "user", expiresAt };
}

/** Whether `principal`'s token has expired at `now` (never, for open and static-token callers). */
export function isExpired(principal: Pick<Principal, "expiresAt">, now = Date.now()): boolean {
  return principal.expiresAt !== undefined && now >= principal.expiresAt;
}

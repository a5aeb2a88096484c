/** Matches a presented token against AUTH_TOKENS by hash. */
import { hex } from "../ids.ts";
import { type Principal, sha256, tokenPrincipal } from "./principal.ts";

/**
 * The configured tokens' hashes by their hex, computed once per isolate and configuration: a
 * request costs one hash and one lookup, however many tokens are configured (before, every
 * request joined the list and compared each hash).
 */
let configured: { tokens: readonly string[]; byHex: Promise<Map<string, Uint8Array>> } | undefined;

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((token, index) => token === b[index]));
}

function tokenHashes(tokens: readonly string[]): Promise<Map<string, Uint8Array>> {
  if (!configured || !sameList(configured.tokens, tokens)) {
    const byHex = Promise.all(tokens.map(sha256)).then(
      (hashes) => new Map(hashes.map((hash) => [hex(hash), hash])),
    );
    configured = { tokens, byHex };
  }
  return configured.byHex;
}

/**
 * The principal of `token` when it is one of `tokens`, else undefined. The lookup is by the
 * SHA-256 of the presented token, which a caller cannot steer, and the candidate found is
 * compared in constant time; so timing tells nothing about any configured token.
 */
export async function matchStaticToken(
  token: string,
  tokens: readonly string[],
): Promise<Principal | undefined> {
  if (tokens.length === 0) return undefined;
  const presented = await sha256(token);
  const candidate = (await tokenHashes(tokens)).get(hex(presented));
  if (!candidate || !crypto.subtle.timingSafeEqual(candidate, presented)) return undefined;
  return tokenPrincipal(presented);
}

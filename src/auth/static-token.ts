/** Matches a presented token against AUTH_TOKENS by hash, in constant time. */
import { type Principal, sha256, tokenPrincipal } from "./principal.ts";

/** Hashes of the configured tokens, computed once per isolate and configuration. */
let configured: { source: string; hashes: Promise<Uint8Array[]> } | undefined;

function tokenHashes(tokens: string[]): Promise<Uint8Array[]> {
  const source = tokens.join(",");
  if (configured?.source !== source) {
    configured = { source, hashes: Promise.all(tokens.map(sha256)) };
  }
  return configured.hashes;
}

/** The principal of `token` when it is one of `tokens`, else undefined. */
export async function matchStaticToken(
  token: string,
  tokens: string[],
): Promise<Principal | undefined> {
  if (tokens.length === 0) return undefined;
  const presented = await sha256(token);
  let match = false;
  for (const hash of await tokenHashes(tokens)) {
    // Compare every configured hash in constant time, so timing tells nothing.
    if (crypto.subtle.timingSafeEqual(hash, presented)) match = true;
  }
  return match ? tokenPrincipal(presented) : undefined;
}

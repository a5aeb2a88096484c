/**
 * The issuer's signing keys (AUTH_JWKS_URL): fetched, kept per isolate, and the one key a token
 * names picked out and imported. jose verifies the signature with it (verify-jwt.ts).
 */
import type { JWSHeaderParameters } from "jose";
import { SluiceError } from "../errors.ts";
import { isRecord } from "../schema/json-object.ts";
import { JWKS_MAX_AGE_MS, JWKS_TIMEOUT_MS, type JwtConfig } from "./auth-config.ts";

/**
 * Each JWKS alg (JWKS_ALGORITHMS): the `kty` and `crv` its key must have, and how WebCrypto
 * imports it. jose checks the imported key against the alg again before it verifies.
 */
const KEY_OF: Record<
  string,
  [kty: string, crv: string | undefined, params: SubtleCryptoImportKeyAlgorithm]
> = {
  RS256: ["RSA", undefined, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }],
  ES256: ["EC", "P-256", { name: "ECDSA", namedCurve: "P-256" }],
  EdDSA: ["OKP", "Ed25519", { name: "Ed25519" }],
  Ed25519: ["OKP", "Ed25519", { name: "Ed25519" }],
};

/** The public members of a JWK that WebCrypto reads next to its `kty`. */
const PUBLIC_MEMBERS = ["crv", "x", "y", "n", "e"] as const;

/** A fetched set: its keys as published, and those imported so far (by position and alg). */
interface KeySet {
  /** The URL and cooldown it was fetched under: another configuration starts afresh. */
  source: string;
  keys: Record<string, unknown>[];
  fetchedAt: number;
  imported: Map<string, CryptoKey>;
}

/**
 * The set of the current configuration, kept per isolate so keys are fetched once per
 * JWKS_MAX_AGE_MS, and again when a token names an unknown `kid` once the cooldown has passed
 * since the last fetch: that is how a rotated key is picked up without a deploy.
 */
let cached: KeySet | undefined;

function unavailable(why: string): SluiceError {
  console.error("JWKS unavailable:", why);
  return new SluiceError(
    "auth_unavailable",
    "The relay cannot read the token issuer's signing keys (AUTH_JWKS_URL) right now; try again shortly.",
    5,
  );
}

/**
 * Fetches the set. Any failure is `auth_unavailable` and leaves the cached set as it was: its
 * keys go on verifying while the endpoint is down. Each request fetches for itself, since a
 * Worker cannot await another request's I/O.
 */
async function fetchSet(url: URL, source: string): Promise<KeySet> {
  let body: unknown;
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(JWKS_TIMEOUT_MS),
      redirect: "manual",
      headers: { accept: "application/json, application/jwk-set+json" },
    });
    if (response.status !== 200) throw unavailable(`status ${response.status}`);
    body = await response.json();
  } catch (error) {
    if (error instanceof SluiceError) throw error;
    throw unavailable(error instanceof Error ? error.name : "fetch failed");
  }
  const keys = isRecord(body) ? body.keys : undefined;
  if (!Array.isArray(keys) || !keys.every(isRecord)) throw unavailable("not a key set");
  cached = { source, keys, fetchedAt: Date.now(), imported: new Map() };
  return cached;
}

/** Whether `key` may verify a token of `alg` naming `kid` (jose's rules for a key set). */
function usable(key: Record<string, unknown>, alg: string, kid: unknown): boolean {
  const entry = KEY_OF[alg];
  const ops = key.key_ops;
  return (
    entry !== undefined &&
    (key.ext === undefined || typeof key.ext === "boolean") &&
    (ops === undefined ||
      (Array.isArray(ops) &&
        ops.every((op, index) => typeof op === "string" && ops.indexOf(op) === index) &&
        ops.includes("verify"))) &&
    key.kty === entry[0] &&
    (kid === undefined || (typeof kid === "string" && kid === key.kid)) &&
    (key.alg === undefined || key.alg === alg) &&
    (key.use === undefined || key.use === "sig") &&
    (entry[1] === undefined || key.crv === entry[1])
  );
}

/** The key at `index` of `set`, imported for `alg`. A key that cannot be imported drops the set. */
async function imported(set: KeySet, index: number, alg: string): Promise<CryptoKey> {
  const id = `${index} ${alg}`;
  const done = set.imported.get(id);
  if (done) return done;
  const key = set.keys[index] ?? {};
  const [kty = "", , params = { name: alg }] = KEY_OF[alg] ?? [];
  const jwk: JsonWebKey = { kty };
  for (const name of PUBLIC_MEMBERS) {
    const value = key[name];
    if (typeof value === "string") jwk[name] = value;
  }
  try {
    // A published private key is a broken set, as for jose: keys in a JWKS must be public.
    if (key.d !== undefined) throw new TypeError("private key");
    const cryptoKey = await crypto.subtle.importKey("jwk", jwk, params, true, ["verify"]);
    set.imported.set(id, cryptoKey);
    return cryptoKey;
  } catch (error) {
    // It would otherwise stay for JWKS_MAX_AGE_MS: drop it, so the next request fetches again.
    if (cached === set) cached = undefined;
    throw unavailable(error instanceof Error ? `import: ${error.name}` : "import failed");
  }
}

/**
 * The key of the issuer that verifies a token with `header`, or `undefined` when no single key
 * matches its `kid` and `alg` (the token's fault). Throws `auth_unavailable` when the set cannot
 * be fetched or its key cannot be imported.
 */
export async function jwksKey(
  config: JwtConfig,
  url: URL,
  header: JWSHeaderParameters,
): Promise<CryptoKey | undefined> {
  const source = `${url.href} ${config.jwksCooldownMs}`;
  const { alg = "", kid } = header;
  const matching = (set: KeySet) =>
    set.keys.flatMap((key, index) => (usable(key, alg, kid) ? [index] : []));
  let set = cached?.source === source ? cached : undefined;
  if (!set || Date.now() >= set.fetchedAt + JWKS_MAX_AGE_MS) set = await fetchSet(url, source);
  let found = matching(set);
  if (found.length === 0 && Date.now() >= set.fetchedAt + config.jwksCooldownMs) {
    set = await fetchSet(url, source);
    found = matching(set);
  }
  const [index] = found;
  return found.length === 1 && index !== undefined ? imported(set, index, alg) : undefined;
}

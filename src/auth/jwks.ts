/**
 * The issuer's signing keys (AUTH_JWKS_URL): fetched, kept per isolate, and the one key a token
 * names picked out and imported; jws.ts verifies the signature with it.
 */
import { SluiceError } from "../errors.ts";
import { isRecord } from "../schema/json-object.ts";
import { JWKS_MAX_AGE_MS, JWKS_TIMEOUT_MS, type JwtConfig } from "./auth-config.ts";
import type { JwsHeader } from "./jws.ts";

/**
 * Each JWKS alg (JWKS_ALGORITHMS): the `kty` its key must have, and how WebCrypto imports it.
 * Its `crv` must be ECDSA's `namedCurve`, or for OKP the algorithm's name. jws.ts checks the
 * imported key against the alg again before it verifies.
 */
const KEY_OF: Record<string, [kty: string, params: SubtleCryptoImportKeyAlgorithm]> = {
  RS256: ["RSA", { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }],
  ES256: ["EC", { name: "ECDSA", namedCurve: "P-256" }],
  EdDSA: ["OKP", { name: "Ed25519" }],
  Ed25519: ["OKP", { name: "Ed25519" }],
};

type Jwk = Record<string, unknown>;

/** A fetched set, and the URL and cooldown it was fetched under (another configuration starts afresh). */
interface KeySet {
  source: string;
  keys: Jwk[];
  fetchedAt: number;
}

/**
 * The set of the current configuration, kept per isolate so keys are fetched once per
 * JWKS_MAX_AGE_MS, and again when a token names an unknown `kid` once the cooldown has passed
 * since the last fetch: that is how a rotated key is picked up without a deploy.
 */
let cached: KeySet | undefined;
/** Keys of the sets imported so far; a key's `kty` decides its algorithm. */
const imported = new WeakMap<Jwk, CryptoKey>();

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
    if (response.status !== 200) throw new Error(`status ${response.status}`);
    body = await response.json();
  } catch (error) {
    throw unavailable(error instanceof Error ? `${error.name} ${error.message}` : "fetch");
  }
  const keys = isRecord(body) ? body.keys : undefined;
  if (!Array.isArray(keys) || !keys.every(isRecord)) throw unavailable("not a key set");
  cached = { source, keys, fetchedAt: Date.now() };
  return cached;
}

/** Whether `key` may verify a token of `alg` naming `kid` (jose's rules for a key set). */
function usable(key: Jwk, alg: string, kid: unknown): boolean {
  const [kty, params] = KEY_OF[alg] ?? [];
  const ops = key.key_ops;
  return (
    (key.ext === undefined || typeof key.ext === "boolean") &&
    (ops === undefined ||
      (Array.isArray(ops) &&
        ops.every((op, index) => typeof op === "string" && ops.indexOf(op) === index) &&
        ops.includes("verify"))) &&
    kty !== undefined &&
    key.kty === kty &&
    (kid === undefined || (typeof kid === "string" && kid === key.kid)) &&
    (key.alg === undefined || key.alg === alg) &&
    (key.use === undefined || key.use === "sig") &&
    (kty === "RSA" || key.crv === (params?.namedCurve ?? params?.name))
  );
}

/** `key` imported for `alg`. A key that cannot be imported drops its set. */
async function importKey(set: KeySet, key: Jwk, alg: string): Promise<CryptoKey> {
  const done = imported.get(key);
  if (done) return done;
  const [kty = "", params = { name: alg }] = KEY_OF[alg] ?? [];
  // Only the public members, each only when it is a string.
  const jwk: JsonWebKey = { kty };
  for (const name of ["crv", "x", "y", "n", "e"] as const) {
    const value = key[name];
    if (typeof value === "string") jwk[name] = value;
  }
  try {
    // A published private key is a broken set, as for jose: keys in a JWKS must be public.
    if (key.d !== undefined) throw new Error("a private key");
    const cryptoKey = await crypto.subtle.importKey("jwk", jwk, params, true, ["verify"]);
    imported.set(key, cryptoKey);
    return cryptoKey;
  } catch (error) {
    // It would otherwise stay for JWKS_MAX_AGE_MS: drop it, so the next request fetches again.
    if (cached === set) cached = undefined;
    throw unavailable(`import: ${error instanceof Error ? error.name : "failed"}`);
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
  header: JwsHeader,
): Promise<CryptoKey | undefined> {
  const source = `${url.href} ${config.jwksCooldownMs}`;
  const { alg = "", kid } = header;
  let set = cached?.source === source ? cached : undefined;
  if (!set || Date.now() >= set.fetchedAt + JWKS_MAX_AGE_MS) set = await fetchSet(url, source);
  let found = set.keys.filter((key) => usable(key, alg, kid));
  if (found.length === 0 && Date.now() >= set.fetchedAt + config.jwksCooldownMs) {
    set = await fetchSet(url, source);
    found = set.keys.filter((key) => usable(key, alg, kid));
  }
  const [key] = found;
  return found.length === 1 && key ? importKey(set, key, alg) : undefined;
}

/**
 * A compact JWS (RFC 7515) checked with WebCrypto, for the few algorithms a Sluice token may use
 * (auth-config.ts): the header must name one of the accepted algs, the key must be of that alg's
 * kind, and the signature must verify over the first two parts. Nothing else is supported: a
 * header with `crit` (and so `b64: false`) is refused, as is every alg outside the list, `none`
 * among them. jose's `compactVerify` did this until it cost more of the bundle than the rest of
 * authentication; the tests still sign with jose.
 */
import { isRecord } from "../schema/json-object.ts";

/** A JWS that is not well formed: not three base64url parts, a header that is not a JSON object. */
export class JwsMalformed extends Error {}
/** A JWS whose `alg` is not among the accepted ones. */
export class JwsAlgNotAllowed extends Error {}
/** A JWS whose signature does not verify with the key its header chose. */
export class JwsSignatureInvalid extends Error {}

export type JwsHeader = Record<string, unknown> & { alg: string; kid?: unknown };

/**
 * Per alg: how WebCrypto verifies it, and what the key must be (its algorithm's name, and the
 * curve or hash that alg fixes). RSA keys must also have at least 2,048 bits (RFC 7518 3.3).
 */
const ALGS: Record<
  string,
  { verify: string | SubtleCryptoSignAlgorithm; key: string; fixed?: string }
> = {
  HS256: { verify: "HMAC", key: "HMAC", fixed: "SHA-256" },
  RS256: { verify: "RSASSA-PKCS1-v1_5", key: "RSASSA-PKCS1-v1_5", fixed: "SHA-256" },
  ES256: { verify: { name: "ECDSA", hash: "SHA-256" }, key: "ECDSA", fixed: "P-256" },
  EdDSA: { verify: "Ed25519", key: "Ed25519" },
  Ed25519: { verify: "Ed25519", key: "Ed25519" },
};

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The bytes of one base64url part (no padding, no other characters), or a malformed JWS. */
function decodePart(part: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(part) || part.length % 4 === 1) throw new JwsMalformed();
  const binary = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/** Whether `key` is one `want` (an alg's entry) may verify with (jose's checks of a CryptoKey). */
function fits(key: CryptoKey, want: (typeof ALGS)[string]): boolean {
  // WebCrypto's algorithm record of the key; which fields it has depends on its name.
  const algorithm = key.algorithm as {
    name: string;
    hash?: { name: string };
    namedCurve?: string;
    modulusLength?: number;
  };
  if (algorithm.name !== want.key || !key.usages.includes("verify")) return false;
  if (want.key === "ECDSA") return algorithm.namedCurve === want.fixed;
  if (want.fixed && algorithm.hash?.name !== want.fixed) return false;
  return want.key !== "RSASSA-PKCS1-v1_5" || (algorithm.modulusLength ?? 0) >= 2048;
}

/**
 * Verifies `token` and returns its header and payload bytes. `keyFor` picks the key from the
 * header (a secret's bytes for HS256); what it throws passes through. Throws `JwsMalformed`,
 * `JwsAlgNotAllowed` or `JwsSignatureInvalid`, checked in that order, like jose.
 */
export async function verifyCompactJws(
  token: string,
  algorithms: readonly string[],
  keyFor: (header: JwsHeader) => Promise<CryptoKey | Uint8Array>,
): Promise<{ header: JwsHeader; payload: Uint8Array }> {
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwsMalformed();
  const [head = "", body = "", signature = ""] = parts;
  let header: unknown;
  try {
    header = JSON.parse(strictUtf8.decode(decodePart(head)));
  } catch {
    throw new JwsMalformed();
  }
  if (!isRecord(header) || typeof header.alg !== "string" || "crit" in header || "b64" in header) {
    throw new JwsMalformed();
  }
  const { alg } = header;
  const want = ALGS[alg];
  if (!algorithms.includes(alg) || !want) throw new JwsAlgNotAllowed();
  const typed: JwsHeader = { ...header, alg };
  const secretOrKey = await keyFor(typed);
  const key =
    secretOrKey instanceof Uint8Array
      ? await crypto.subtle.importKey(
          "raw",
          secretOrKey,
          { name: "HMAC", hash: "SHA-256" },
          false,
          ["verify"],
        )
      : secretOrKey;
  if (!fits(key, want)) throw new JwsSignatureInvalid();
  const signed = new TextEncoder().encode(`${head}.${body}`);
  if (!(await crypto.subtle.verify(want.verify, key, decodePart(signature), signed))) {
    throw new JwsSignatureInvalid();
  }
  return { header: typed, payload: decodePart(body) };
}

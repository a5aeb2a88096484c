/**
 * Verifies a JWT (its signature in jws.ts): HS256 against AUTH_JWT_SECRET, RS256 / ES256 / EdDSA
 * against the keys at AUTH_JWKS_URL. A token that fails is `unauthorized` with the reason; a JWKS that
 * cannot be fetched or read is `auth_unavailable`, and nothing gets through while it is.
 */
import { SluiceError } from "../errors.ts";
import { isRecord } from "../schema/json-object.ts";
import { CLOCK_TOLERANCE_S, type JwtConfig } from "./auth-config.ts";
import { jwksKey } from "./jwks.ts";
import { JwsAlgNotAllowed, type JwsHeader, JwsSignatureInvalid, verifyCompactJws } from "./jws.ts";
import { type Principal, userPrincipal } from "./principal.ts";

function unauthorized(reason: string): SluiceError {
  return new SluiceError("unauthorized", `The token is not valid: ${reason}`);
}

/**
 * The key for a token's header. An `alg` outside the configured list was refused already, so
 * HS256 only reaches here with a secret configured, and the rest with a JWKS.
 */
async function keyFor(config: JwtConfig, header: JwsHeader): Promise<CryptoKey | Uint8Array> {
  if (header.alg === "HS256") {
    if (!config.secret) throw unauthorized("HS256 is not accepted here.");
    return config.secret;
  }
  if (!config.jwksUrl) throw unauthorized(`${header.alg} is not accepted here.`);
  const key = await jwksKey(config, config.jwksUrl, header);
  // No key for its kid is the token's fault; the JWKS endpoint's faults are auth_unavailable.
  if (!key) throw unauthorized("no signing key of the issuer matches its kid and alg.");
  return key;
}

const MALFORMED = "it is not a well-formed signed JWT.";

/** Why a token was refused, in words that never echo the token. */
function reasonOf(error: unknown, config: JwtConfig): string {
  if (error instanceof JwsSignatureInvalid) return "its signature does not verify.";
  if (error instanceof JwsAlgNotAllowed) {
    return `its alg is not accepted; accepted: ${config.algorithms.join(", ")}.`;
  }
  return MALFORMED;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const now = () => Math.floor(Date.now() / 1000);

/**
 * The claims of a verified payload, checked in the order jose's jwtVerify checks them (its
 * claims code is most of a kilobyte of gzip we do not need): `iss`, `aud`, `sub` and `exp`
 * present; `iss` AUTH_ISSUER and `aud` including AUTH_AUDIENCE; `iat`, `nbf` and `exp`
 * numbers when present; `nbf` and `exp` within CLOCK_TOLERANCE_S of now.
 */
function claimsOf(bytes: Uint8Array, config: JwtConfig): { sub: unknown; exp: number } {
  let claims: unknown;
  try {
    claims = JSON.parse(strictUtf8.decode(bytes));
  } catch {
    // Not JSON: refused below, like any payload that is not an object.
  }
  if (!isRecord(claims)) throw unauthorized(MALFORMED);
  for (const claim of ["iss", "aud", "sub", "exp"]) {
    if (!Object.hasOwn(claims, claim)) throw unauthorized(`it has no "${claim}" claim.`);
  }
  const { iss, aud, sub, iat, nbf, exp } = claims;
  if (iss !== config.issuer) throw unauthorized("its issuer (iss) is not AUTH_ISSUER.");
  if (aud !== config.audience && !(Array.isArray(aud) && aud.includes(config.audience))) {
    throw unauthorized("its audience (aud) does not include AUTH_AUDIENCE.");
  }
  if (iat !== undefined && typeof iat !== "number") {
    throw unauthorized('its "iat" claim is not valid.');
  }
  if (nbf !== undefined && (typeof nbf !== "number" || nbf > now() + CLOCK_TOLERANCE_S)) {
    throw unauthorized("it is not valid yet (nbf).");
  }
  if (typeof exp !== "number") throw unauthorized('its "exp" claim is not valid.');
  if (exp <= now() - CLOCK_TOLERANCE_S)
    throw unauthorized("it has expired (exp); get a fresh one.");
  return { sub, exp };
}

/** Verifies `token` and returns its user; throws `unauthorized` or `auth_unavailable`. */
export async function verifyJwt(token: string, config: JwtConfig): Promise<Principal> {
  let payload: Uint8Array;
  try {
    ({ payload } = await verifyCompactJws(token, config.algorithms, (header) =>
      keyFor(config, header),
    ));
  } catch (error) {
    if (error instanceof SluiceError) throw error;
    throw unauthorized(reasonOf(error, config));
  }
  const { sub, exp } = claimsOf(payload, config);
  if (typeof sub !== "string" || sub === "") throw unauthorized('its "sub" claim is empty.');
  return userPrincipal(config.issuer, sub, (exp + CLOCK_TOLERANCE_S) * 1000);
}

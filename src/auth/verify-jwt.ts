/**
 * Verifies a JWT with jose: HS256 against AUTH_JWT_SECRET, RS256 / ES256 / EdDSA against the
 * keys at AUTH_JWKS_URL. A token that fails is `unauthorized` with the reason; a JWKS that
 * cannot be fetched or read is `auth_unavailable`, and nothing gets through while it is.
 */
import { type JWSHeaderParameters, jwtVerify } from "jose";
// By name, not jose's `errors` namespace: that object would bring every error class along.
import * as errors from "jose/errors";
import { SluiceError } from "../errors.ts";
import { CLOCK_TOLERANCE_S, type JwtConfig } from "./auth-config.ts";
import { jwksKey } from "./jwks.ts";
import { type Principal, userPrincipal } from "./principal.ts";

function unauthorized(reason: string): SluiceError {
  return new SluiceError("unauthorized", `The token is not valid: ${reason}`);
}

/**
 * The key for a token's header. jose has already refused an `alg` outside the configured
 * list, so HS256 only reaches here with a secret configured, and the rest with a JWKS.
 */
async function keyFor(
  config: JwtConfig,
  header: JWSHeaderParameters,
): Promise<CryptoKey | Uint8Array> {
  if (header.alg === "HS256") {
    if (!config.secret) throw unauthorized("HS256 is not accepted here.");
    return config.secret;
  }
  if (!config.jwksUrl) throw unauthorized(`${header.alg ?? "its alg"} is not accepted here.`);
  const key = await jwksKey(config, config.jwksUrl, header);
  // No key for its kid is the token's fault; the JWKS endpoint's faults are auth_unavailable.
  if (!key) throw unauthorized("no signing key of the issuer matches its kid and alg.");
  return key;
}

/** Why jose refused a token, in words that name the claim but never echo the token. */
function reasonOf(error: unknown, config: JwtConfig): string {
  if (error instanceof errors.JWTExpired) return "it has expired (exp); get a fresh one.";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === "missing") return `it has no "${error.claim}" claim.`;
    if (error.claim === "nbf") return "it is not valid yet (nbf).";
    if (error.claim === "iss") return "its issuer (iss) is not AUTH_ISSUER.";
    if (error.claim === "aud") return "its audience (aud) does not include AUTH_AUDIENCE.";
    return `its "${error.claim}" claim is not valid.`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return "its signature does not verify.";
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return `its alg is not accepted; accepted: ${config.algorithms.join(", ")}.`;
  }
  return "it is not a well-formed signed JWT.";
}

/** Verifies `token` and returns its user; throws `unauthorized` or `auth_unavailable`. */
export async function verifyJwt(token: string, config: JwtConfig): Promise<Principal> {
  let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
  try {
    ({ payload } = await jwtVerify(token, (header) => keyFor(config, header), {
      algorithms: config.algorithms,
      issuer: config.issuer,
      audience: config.audience,
      clockTolerance: CLOCK_TOLERANCE_S,
      requiredClaims: ["exp", "sub"],
    }));
  } catch (error) {
    if (error instanceof SluiceError) throw error;
    throw unauthorized(reasonOf(error, config));
  }
  const { sub, exp } = payload;
  if (typeof sub !== "string" || sub === "") throw unauthorized('its "sub" claim is empty.');
  if (typeof exp !== "number") throw unauthorized('its "exp" claim is not a number.');
  return userPrincipal(config.issuer, sub, (exp + CLOCK_TOLERANCE_S) * 1000);
}

/** Tells a presented JWT from a static token by its shape alone, before anything is verified. */

/** Three base64url parts joined by dots; the last (the signature) may be empty, as in `alg: none`. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** How a presented token is checked: verified as a JWT, or matched against AUTH_TOKENS. */
export type TokenKind = "jwt" | "static";

/**
 * `jwt` when JWT auth is on and the token has a JWT's shape; everything else is `static`.
 * A JWT-shaped token is never also tried against AUTH_TOKENS, so one that fails verification
 * cannot slip through as a static token; the config check keeps static tokens dot-free.
 */
export function tokenKind(token: string, jwtOn: boolean): TokenKind {
  return jwtOn && looksLikeJwt(token) ? "jwt" : "static";
}

/** Whether `token` has the shape of a compact JWS (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return JWT_SHAPE.test(token);
}

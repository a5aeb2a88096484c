// verifyJwt with a shared secret, inside workerd: what it accepts, and why it refuses the rest.
import { base64url, CompactSign, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { CLOCK_TOLERANCE_S, parseAuthConfig } from "../../../src/auth/auth-config.ts";
import { verifyJwt } from "../../../src/auth/verify-jwt.ts";
import { SluiceError } from "../../../src/errors.ts";

const SECRET = "unit-test-secret-of-at-least-32-bytes";
const encoder = new TextEncoder();
const config = parseAuthConfig({
  AUTH_JWT_SECRET: SECRET,
  AUTH_ISSUER: "https://issuer.example/",
  AUTH_AUDIENCE: "my-app",
}).jwt;
if (!config) throw new Error("JWT auth should be on");
const now = () => Math.floor(Date.now() / 1000);
const claims = () => ({
  iss: "https://issuer.example/",
  aud: "my-app",
  sub: "alice",
  exp: now() + 300,
});

function sign(payload: Record<string, unknown>, secret = SECRET, alg = "HS256") {
  return new SignJWT(payload).setProtectedHeader({ alg }).sign(new TextEncoder().encode(secret));
}

/** A compact JWS of `payload` as written (any JSON, or none), HS256 with the secret. */
function signRaw(payload: string) {
  return new CompactSign(encoder.encode(payload))
    .setProtectedHeader({ alg: "HS256" })
    .sign(encoder.encode(SECRET));
}

/**
 * A compact JWS with `b64: false` (RFC 7797): a valid JWS whose payload is not base64url, so
 * not a JWT. Its payload must have no dot to fit in three parts.
 */
async function signUnencoded(payload: Record<string, unknown>) {
  const header = base64url.encode(JSON.stringify({ alg: "HS256", b64: false, crit: ["b64"] }));
  const input = `${header}.${JSON.stringify(payload)}`;
  const hmac = { name: "HMAC", hash: "SHA-256" };
  const key = await crypto.subtle.importKey("raw", encoder.encode(SECRET), hmac, false, ["sign"]);
  const signature = await crypto.subtle.sign("HMAC", key, encoder.encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

async function refusal(token: string): Promise<string> {
  if (!config) throw new Error("unreachable");
  try {
    await verifyJwt(token, config);
  } catch (error) {
    if (error instanceof SluiceError && error.code === "unauthorized") return error.message;
    throw error;
  }
  throw new Error("accepted");
}

describe("verifyJwt", () => {
  it("returns the user with its expiry plus the clock tolerance", async () => {
    const payload = claims();
    const user = await verifyJwt(await sign(payload), config);
    expect(user.kind).toBe("user");
    expect(user.id).toMatch(/^usr_[0-9a-f]{32}$/);
    expect(user.expiresAt).toBe((payload.exp + CLOCK_TOLERANCE_S) * 1000);
  });

  it("accepts a token expired less than the tolerance ago, and one whose nbf is that close", async () => {
    await expect(
      verifyJwt(await sign({ ...claims(), exp: now() - 20 }), config),
    ).resolves.toBeDefined();
    await expect(
      verifyJwt(await sign({ ...claims(), nbf: now() + 20 }), config),
    ).resolves.toBeDefined();
  });

  it("accepts an audience list that includes AUTH_AUDIENCE", async () => {
    const aud = ["other-app", "my-app"];
    await expect(verifyJwt(await sign({ ...claims(), aud }), config)).resolves.toBeDefined();
  });

  const refused: Array<[string, () => Promise<string>, string]> = [
    ["expired", () => sign({ ...claims(), exp: now() - 60 }), "expired"],
    ["not valid yet", () => sign({ ...claims(), nbf: now() + 60 }), "not valid yet"],
    ["another issuer", () => sign({ ...claims(), iss: "https://other.example/" }), "issuer"],
    ["another audience", () => sign({ ...claims(), aud: "other-app" }), "audience"],
    ["no sub", () => sign({ ...claims(), sub: undefined }), 'no "sub"'],
    ["an empty sub", () => sign({ ...claims(), sub: "" }), '"sub" claim is empty'],
    ["no exp", () => sign({ ...claims(), exp: undefined }), 'no "exp"'],
    ["another secret", () => sign(claims(), "another-secret-of-at-least-32-bytes!"), "signature"],
    ["HS384", () => sign(claims(), SECRET, "HS384"), "alg is not accepted; accepted: HS256"],
    [
      "ES256 with no JWKS configured",
      async () => "eyJhbGciOiJFUzI1NiJ9.eyJ9.c2ln",
      "alg is not accepted",
    ],
    ["a header that is not JSON", async () => "aaaa.bbbb.cccc", "well-formed"],
    ["an audience list without it", () => sign({ ...claims(), aud: ["a", "b"] }), "audience"],
    ["an iat that is a string", () => sign({ ...claims(), iat: "1" }), '"iat" claim is not valid'],
    ["an nbf that is a string", () => sign({ ...claims(), nbf: "1" }), "not valid yet"],
    ["an exp that is a string", () => sign({ ...claims(), exp: "9" }), '"exp" claim is not valid'],
    ["a payload that is a JSON array", () => signRaw("[1]"), "well-formed"],
    ["a payload that is not JSON", () => signRaw("not json"), "well-formed"],
  ];

  it.each(refused)("refuses a token with %s, saying why", async (_name, make, reason) => {
    const token = await make();
    const message = await refusal(token);
    expect(message).toContain(reason);
    expect(message).not.toContain(token);
  });

  it("refuses a JWS with an unencoded payload (b64: false), even with good claims", async () => {
    const dotless = parseAuthConfig({
      AUTH_JWT_SECRET: SECRET,
      AUTH_ISSUER: "issuer",
      AUTH_AUDIENCE: "my-app",
    }).jwt;
    if (!dotless) throw new Error("JWT auth should be on");
    const token = await signUnencoded({ ...claims(), iss: "issuer" });
    await expect(verifyJwt(token, dotless)).rejects.toThrow("well-formed");
  });
});

// verifyJwt with a shared secret, inside workerd: what it accepts, and why it refuses the rest.
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { CLOCK_TOLERANCE_S, parseAuthConfig } from "../../../src/auth/auth-config.ts";
import { verifyJwt } from "../../../src/auth/verify-jwt.ts";
import { SluiceError } from "../../../src/errors.ts";

const SECRET = "unit-test-secret-of-at-least-32-bytes";
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
  ];

  it.each(refused)("refuses a token with %s, saying why", async (_name, make, reason) => {
    const token = await make();
    const message = await refusal(token);
    expect(message).toContain(reason);
    expect(message).not.toContain(token);
  });
});

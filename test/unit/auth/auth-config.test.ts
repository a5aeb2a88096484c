// The auth vars: every inconsistent combination is a config_error naming the var to set.
import { describe, expect, it } from "vitest";
import { DEFAULT_JWKS_COOLDOWN_MS, parseAuthConfig } from "../../../src/auth/auth-config.ts";
import { SluiceError } from "../../../src/errors.ts";

const SECRET = "s".repeat(32);
const JWT = {
  AUTH_JWT_SECRET: SECRET,
  AUTH_ISSUER: "https://issuer.example/",
  AUTH_AUDIENCE: "my-app",
};

function failure(env: Record<string, string>): string {
  try {
    parseAuthConfig(env);
  } catch (error) {
    if (error instanceof SluiceError && error.code === "config_error") return error.message;
    throw error;
  }
  throw new Error("no config_error");
}

describe("parseAuthConfig", () => {
  it("is open with nothing set, and static-only with AUTH_TOKENS", () => {
    expect(parseAuthConfig({})).toEqual({ tokens: [], jwt: undefined });
    expect(parseAuthConfig({ AUTH_TOKENS: " a, ,b " })).toEqual({
      tokens: ["a", "b"],
      jwt: undefined,
    });
  });

  it("accepts HS256 with the secret, the JWKS algorithms with a URL, and both together", () => {
    expect(parseAuthConfig(JWT).jwt?.algorithms).toEqual(["HS256"]);
    const jwks = { ...JWT, AUTH_JWT_SECRET: "", AUTH_JWKS_URL: "https://issuer.example/jwks.json" };
    expect(parseAuthConfig(jwks).jwt?.algorithms).toEqual(["RS256", "ES256", "EdDSA", "Ed25519"]);
    const both = parseAuthConfig({ ...JWT, AUTH_JWKS_URL: "https://issuer.example/jwks.json" });
    expect(both.jwt?.algorithms).toEqual(["HS256", "RS256", "ES256", "EdDSA", "Ed25519"]);
    expect(both.jwt?.algorithms).not.toContain("none");
    expect(both.jwt?.jwksCooldownMs).toBe(DEFAULT_JWKS_COOLDOWN_MS);
  });

  it("allows http for a loopback JWKS only, and reads the cooldown", () => {
    const local = {
      ...JWT,
      AUTH_JWKS_URL: "http://127.0.0.1:9999/jwks",
      AUTH_JWKS_COOLDOWN_MS: "0",
    };
    expect(parseAuthConfig(local).jwt?.jwksCooldownMs).toBe(0);
  });

  const wrong: Array<[string, Record<string, string>, string]> = [
    ["no issuer", { ...JWT, AUTH_ISSUER: "" }, "set AUTH_ISSUER"],
    ["no audience", { ...JWT, AUTH_AUDIENCE: " " }, "set AUTH_AUDIENCE"],
    [
      "a JWKS URL without an issuer",
      { AUTH_JWKS_URL: "https://i.example/jwks", AUTH_AUDIENCE: "a" },
      "set AUTH_ISSUER",
    ],
    [
      "an issuer without a key",
      { AUTH_ISSUER: "https://i.example/" },
      "AUTH_ISSUER is set, but neither",
    ],
    ["an audience without a key", { AUTH_AUDIENCE: "a" }, "AUTH_AUDIENCE is set, but neither"],
    [
      "a short secret",
      { ...JWT, AUTH_JWT_SECRET: "s".repeat(31) },
      "AUTH_JWT_SECRET must be at least 32 bytes",
    ],
    [
      "a JWKS URL that is not a URL",
      { ...JWT, AUTH_JWKS_URL: "issuer/jwks" },
      "AUTH_JWKS_URL is not a URL",
    ],
    [
      "a plain-http JWKS",
      { ...JWT, AUTH_JWKS_URL: "http://issuer.example/jwks" },
      "AUTH_JWKS_URL must be https",
    ],
    ["a negative cooldown", { ...JWT, AUTH_JWKS_COOLDOWN_MS: "-1" }, "AUTH_JWKS_COOLDOWN_MS"],
    [
      "a cooldown that is not a number",
      { ...JWT, AUTH_JWKS_COOLDOWN_MS: "soon" },
      "AUTH_JWKS_COOLDOWN_MS",
    ],
    [
      "an issuer of two lines",
      { ...JWT, AUTH_ISSUER: "https://a.example/\nx" },
      "AUTH_ISSUER must be one line",
    ],
    [
      "a static token shaped like a JWT",
      { ...JWT, AUTH_TOKENS: "ok,aaa.bbb.ccc" },
      "AUTH_TOKENS entry has the shape of a JWT",
    ],
  ];

  it.each(wrong)("refuses %s with config_error naming the var", (_name, env, message) => {
    expect(failure(env)).toContain(message);
  });

  it("never puts a var's value in its message", () => {
    const secret = "a-secret-that-is-short";
    expect(failure({ ...JWT, AUTH_JWT_SECRET: secret })).not.toContain(secret);
    expect(failure({ ...JWT, AUTH_TOKENS: "x.secret-token.y" })).not.toContain("secret-token");
  });
});

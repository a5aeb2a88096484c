// Which presented tokens are verified as JWTs and which are matched against AUTH_TOKENS.
import { describe, expect, it } from "vitest";
import { looksLikeJwt, tokenKind } from "../../../src/auth/token-kind.ts";

describe("tokenKind", () => {
  const cases: Array<[string, string, "jwt" | "static"]> = [
    ["a compact JWS", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln", "jwt"],
    ["an unsigned JWT (alg none), so it is refused as a JWT", "eyJhbGciOiJub25lIn0.eyJ9.", "jwt"],
    ["three parts of any base64url text", "aaaa.bbbb.cccc", "jwt"],
    ["a static token", "tok-ALPHA-91b3e7d5c2a8f4e6", "static"],
    ["two parts", "aaaa.bbbb", "static"],
    ["four parts (a JWE has five)", "a.b.c.d", "static"],
    ["an empty header part", ".bbbb.cccc", "static"],
    ["characters outside base64url", "eyJ!.eyJ.sig", "static"],
    ["padding", "aaaa=.bbbb.cccc", "static"],
    ["whitespace inside", "aaaa. bbbb.cccc", "static"],
    ["empty", "", "static"],
  ];

  it.each(cases)("classifies %s with JWT auth on", (_name, token, kind) => {
    expect(tokenKind(token, true)).toBe(kind);
    expect(looksLikeJwt(token)).toBe(kind === "jwt");
  });

  it("matches every token against AUTH_TOKENS when JWT auth is off", () => {
    for (const [, token] of cases) expect(tokenKind(token, false)).toBe("static");
  });
});

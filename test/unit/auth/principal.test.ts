// Principals: ids derived from hashes (never from the token), one user per issuer and subject.
import { describe, expect, it } from "vitest";
import {
  isExpired,
  openPrincipal,
  sha256,
  tokenPrincipal,
  userPrincipal,
} from "../../../src/auth/principal.ts";

describe("principals", () => {
  it("names a user usr_ + 32 hex of SHA-256(iss + LF + sub), and limits them by it", async () => {
    const user = await userPrincipal("https://issuer.example/", "alice", 1_000);
    expect(user).toEqual({
      id: "usr_781129da2faec272046255d3f8c361d6",
      limitKey: "usr_781129da2faec272046255d3f8c361d6",
      kind: "user",
      expiresAt: 1_000,
    });
  });

  it("keeps the same subject of two issuers, and two subjects of one, apart", async () => {
    const ids = await Promise.all([
      userPrincipal("https://a.example/", "alice", 0),
      userPrincipal("https://b.example/", "alice", 0),
      userPrincipal("https://a.example/", "bob", 0),
      userPrincipal("https://a.example/", "alice", 99),
    ]);
    expect(new Set(ids.map((user) => user.id)).size).toBe(3);
    expect(ids[0]?.id).toBe(ids[3]?.id);
  });

  it("names a static token tok_ + 32 hex of its SHA-256, as before", async () => {
    expect(tokenPrincipal(await sha256("tok-x"))).toEqual({
      id: "tok_208ed11bf95985408f414279c556847a",
      limitKey: "tok_208ed11bf95985408f414279c556847a",
      kind: "token",
    });
  });

  it("keeps `open` as the open-mode marker, limited per IP", () => {
    expect(openPrincipal("203.0.113.9")).toEqual({
      id: "open",
      limitKey: "ip:203.0.113.9",
      kind: "open",
    });
  });

  it("expires only principals with an expiry, from that instant on", () => {
    expect(isExpired({ expiresAt: 1_000 }, 999)).toBe(false);
    expect(isExpired({ expiresAt: 1_000 }, 1_000)).toBe(true);
    expect(isExpired({}, Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});

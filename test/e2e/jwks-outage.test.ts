// A JWKS endpoint that is down, failing, slow or sending garbage: requests get 503
// `auth_unavailable` (never through, never `internal`), and the relay recovers by itself.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AUDIENCE,
  claimsFor,
  forge,
  ISSUER,
  type JwksMode,
  type JwksServer,
  type SigningKey,
  signingKey,
  startJwksServer,
  userToken,
} from "../helpers/jwt.ts";
import { record } from "../helpers/record.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { tryUpgrade } from "../helpers/upgrade.ts";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const COOLDOWN_MS = 100;
let relay: Relay;
let jwks: JwksServer;
let es: SigningKey;

beforeAll(async () => {
  es = await signingKey("ES256", "es-outage");
  jwks = await startJwksServer([es.jwk]);
  jwks.mode = "down";
  relay = await startRelay({
    AUTH_JWKS_URL: jwks.url,
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_JWKS_COOLDOWN_MS: String(COOLDOWN_MS),
  });
});
afterAll(async () => {
  await relay.dispose();
  await jwks.close();
});

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${relay.url}${path}`, init);
  const body = await response.text();
  record(`${response.status} ${[...response.headers].join(" ")} ${body}`);
  return { status: response.status, headers: response.headers, body };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("while the JWKS cannot be read", () => {
  const outages: Array<[string, JwksMode]> = [
    ["resets the connection", "down"],
    ["answers 503", "error"],
    ["answers something that is not JSON", "garbage"],
    ["publishes keys that cannot be imported", "bad-keys"],
    ["answers after the 3 s timeout", "slow"],
  ];

  it.each(outages)("when it %s, a valid token gets 503 auth_unavailable", async (_name, mode) => {
    jwks.mode = mode;
    const token = await userToken("outage", es);
    const started = Date.now();
    const refused = [
      await call("/sessions", { method: "POST", headers: bearer(token) }),
      await tryUpgrade(`${relay.url}/chat?token=${token}`),
    ];
    const created = await fetch(`${relay.url}/sessions`, {
      method: "POST",
      headers: bearer(token),
    });
    expect(created.headers.get("retry-after")).toBe("5");
    record(await created.text());
    for (const { status, body } of refused) {
      expect(status, body).toBe(503);
      expect(JSON.parse(body).error.code).toBe("auth_unavailable");
    }

    if (mode === "slow") expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 2_900);
  });

  it("recovers as soon as the JWKS is back, without a restart", async () => {
    jwks.mode = "ok";
    const token = await userToken("outage", es);
    const created = await call("/sessions", { method: "POST", headers: bearer(token) });
    expect(created.status).toBe(201);
  });

  it("keeps verifying known keys from its cache while the JWKS is down, and lets no unknown kid through", async () => {
    jwks.mode = "down";
    const known = await call("/sessions", {
      method: "POST",
      headers: bearer(await userToken("outage", es)),
    });
    expect(known.status).toBe(201);
    await sleep(COOLDOWN_MS + 50);
    const rotated = await userToken("outage", await signingKey("ES256", "es-new"));
    const unknown = await call("/sessions", { method: "POST", headers: bearer(rotated) });
    expect(unknown.status).toBe(503);
    expect(JSON.parse(unknown.body).error.code).toBe("auth_unavailable");
    // The failed fetch left the cached keys alone: a forged kid cannot take everyone down.
    const stillKnown = await call("/sessions", {
      method: "POST",
      headers: bearer(await userToken("outage", es)),
    });
    expect(stillKnown.status).toBe(201);
    jwks.mode = "ok";
  });

  it("refuses HS256 outright when only a JWKS is configured, even signed with the public key", async () => {
    const token = forge(
      { alg: "HS256", kid: "es-outage" },
      claimsFor("outage"),
      JSON.stringify(es.jwk),
    );
    const refused = await call("/sessions", { method: "POST", headers: bearer(token) });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body).error.message).toContain("alg is not accepted");
  });
});

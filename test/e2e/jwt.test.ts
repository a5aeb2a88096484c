// Per-user signed tokens: HS256 (shared secret) and RS256 / ES256 / EdDSA (a local JWKS) on
// every transport, next to a static token; forgeries refused before any session; key rotation.
import { exportSPKI } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AUDIENCE,
  claimsFor,
  forge,
  ISSUER,
  type JwksServer,
  mint,
  nowS,
  partsOf,
  registered,
  type SigningKey,
  signingKey,
  startJwksServer,
  userToken,
} from "../helpers/jwt.ts";
import { record } from "../helpers/record.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { TestSocket } from "../helpers/socket.ts";
import { openSse } from "../helpers/sse.ts";
import { tryUpgrade } from "../helpers/upgrade.ts";
import {
  ask,
  assemble,
  chatTransport,
  demoTokens,
  readAll,
  storedMessages,
  textOf,
} from "../helpers/ws-chat.ts";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const asToken = (token: string) => ["sluice", `sluice.token.${token}`];
/** AUTH_JWKS_COOLDOWN_MS of this relay: short, so rotation shows within a test. */
const COOLDOWN_MS = 200;

let relay: Relay;
let jwks: JwksServer;
let es: SigningKey;
let rs: SigningKey;
let ed: SigningKey;
let ed25519: SigningKey;

beforeAll(async () => {
  [es, rs, ed, ed25519] = await Promise.all([
    signingKey("ES256", "es-1"),
    signingKey("RS256", "rs-1"),
    signingKey("EdDSA", "ed-1"),
    signingKey("Ed25519", "ed-2"),
  ]);
  jwks = await startJwksServer([es.jwk, rs.jwk, ed.jwk, ed25519.jwk]);
  relay = await startRelay({
    AUTH_TOKENS: SECRETS.tokenAlpha,
    AUTH_JWT_SECRET: SECRETS.jwtSecret,
    AUTH_JWKS_URL: jwks.url,
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_JWKS_COOLDOWN_MS: String(COOLDOWN_MS),
    DEMO_DELAY_MS: "10",
  });
});
afterAll(async () => {
  await relay.dispose();
  await jwks.close();
});

/** A fetch whose answer goes to the secrets scan. */
async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${relay.url}${path}`, init);
  const body = await response.text();
  record(`${response.status} ${[...response.headers].join(" ")} ${body}`);
  return { status: response.status, body };
}

async function sessionOf(token: string): Promise<string> {
  const { status, body } = await call("/sessions", { method: "POST", headers: bearer(token) });
  expect(status, body).toBe(201);
  return JSON.parse(body).session;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a JWT", () => {
  const kinds = ["HS256", "ES256", "RS256", "EdDSA", "Ed25519"] as const;
  const keyOf = (kind: (typeof kinds)[number]): SigningKey | "hs256" => {
    const keys: Record<typeof kind, SigningKey | "hs256"> = {
      HS256: "hs256",
      ES256: es,
      RS256: rs,
      EdDSA: ed,
      Ed25519: ed25519,
    };
    return keys[kind];
  };

  it.each(kinds)("signed %s works over HTTP, /chat, /api/chat/ws and SSE ?token=", async (kind) => {
    const token = await userToken(`user-${kind}`, keyOf(kind));
    const session = await sessionOf(token);
    expect((await call(`/sessions/${session}`, { headers: bearer(token) })).status).toBe(200);

    const socket = await TestSocket.open(`${relay.wsUrl}/chat?session=${session}`, asToken(token));
    expect(socket.ws.protocol).toBe("sluice");
    expect((await socket.ask("/tokens 2")).text).toBe("t0 t1 ");
    await socket.close();

    const transport = chatTransport(relay, { protocols: asToken(token) });
    const chunks = await readAll(await ask(transport, session, "/tokens 3"));
    expect(textOf(await assemble(chunks))).toBe("t0 t1 t2 ");
    transport.close();

    const events = await openSse(`${relay.url}/sessions/${session}/events?token=${token}`);
    expect((await events.next())?.data).toMatchObject({ type: "session", session });
    events.drop();
    const stored = await storedMessages(relay, session, bearer(token));
    expect(stored.map((message) => message.content)).toEqual([
      "/tokens 2",
      "t0 t1 ",
      "/tokens 3",
      "t0 t1 t2 ",
    ]);
  });

  it("and a static token work side by side, as different owners", async () => {
    const jwtSession = await sessionOf(await userToken("side-by-side", es));
    const staticSession = await sessionOf(SECRETS.tokenAlpha);
    const asStatic = await call(`/sessions/${jwtSession}`, { headers: bearer(SECRETS.tokenAlpha) });
    expect(asStatic.status).toBe(404);
    const asUser = await call(`/sessions/${staticSession}`, {
      headers: bearer(await userToken("side-by-side", es)),
    });
    expect(asUser.status).toBe(404);
  });

  it("of the same user, minted again, reaches the same sessions", async () => {
    const session = await sessionOf(await userToken("returning", es));
    const later = await mint({ ...claimsFor("returning"), iat: nowS() + 1 }, "hs256");
    expect((await call(`/sessions/${session}`, { headers: bearer(later) })).status).toBe(200);
  });
});

describe("a bad token", () => {
  const victimClaims = () => claimsFor("victim");
  const secret = SECRETS.jwtSecret;
  /** Each is refused with 401 `unauthorized` on HTTP, SSE and both WebSocket upgrades. */
  const bad: Array<[string, () => Promise<string>]> = [
    ["expired beyond the tolerance", () => mint({ ...victimClaims(), exp: nowS() - 60 }, es)],
    ["not valid yet", () => mint({ ...victimClaims(), nbf: nowS() + 120 }, es)],
    ["from another issuer", () => mint({ ...victimClaims(), iss: "https://evil.example/" }, es)],
    ["for another app's audience", () => mint({ ...victimClaims(), aud: "other-app" }, es)],
    ["without an audience", () => mint({ ...victimClaims(), aud: undefined }, es)],
    ["without a subject", () => mint({ ...victimClaims(), sub: undefined }, es)],
    ["with an empty subject", () => mint({ ...victimClaims(), sub: "" }, "hs256")],
    ["without an expiry", () => mint({ ...victimClaims(), exp: undefined }, es)],
    [
      "with an expiry that is a string",
      async () => forge({ alg: "HS256" }, { ...victimClaims(), exp: "9999999999" }, secret),
    ],
    ["with alg none", async () => forge({ alg: "none", typ: "JWT" }, victimClaims())],
    [
      "HS256 signed with the ES public key (JWK) as its secret",
      async () => forge({ alg: "HS256", kid: "es-1" }, victimClaims(), JSON.stringify(es.jwk)),
    ],
    [
      "HS256 signed with the RS public key (PEM) as its secret",
      async () =>
        forge({ alg: "HS256", kid: "rs-1" }, victimClaims(), await exportSPKI(rs.publicKey)),
    ],
    [
      "HS256 signed with another secret",
      async () => forge({ alg: "HS256" }, victimClaims(), "x".repeat(40)),
    ],
    ["HS512, an alg not on the list", async () => forge({ alg: "HS512" }, victimClaims(), secret)],
    [
      "with a critical header the relay does not understand",
      async () => forge({ alg: "HS256", crit: ["exp2"], exp2: 1 }, victimClaims(), secret),
    ],
    [
      "with a tampered payload",
      async () => {
        const [header, , signature] = partsOf(await userToken("someone-else", es));
        return registered(
          `${header}.${Buffer.from(JSON.stringify(victimClaims())).toString("base64url")}.${signature}`,
        );
      },
    ],
    [
      "with an unknown kid, even after the JWKS is fetched again",
      async () => mint(victimClaims(), await signingKey("ES256", "es-unknown")),
    ],
    [
      "signed by another key under a known kid",
      async () => mint(victimClaims(), await signingKey("ES256", "es-1")),
    ],
    [
      "RS256 under the ES key's kid",
      async () => mint(victimClaims(), await signingKey("RS256", "es-1")),
    ],
    ["truncated", async () => registered((await userToken("victim", es)).slice(0, -8))],
    ["with malformed base64", async () => "eyJhbGciOiJFUzI1NiJ9.!!!!.sig"],
    ["of three parts that are not JSON", async () => "aaaa.bbbb.cccc"],
    ["of garbage", async () => "garbage"],
    ["empty", async () => ""],
  ];

  let victim: string;
  let victimSession: string;
  let untouched: unknown;
  beforeAll(async () => {
    victim = await userToken("victim", es);
    victimSession = await sessionOf(victim);
    untouched = JSON.parse(
      (await call(`/sessions/${victimSession}`, { headers: bearer(victim) })).body,
    );
  });

  it.each(bad)("%s is refused with 401 and reaches no session", async (name, make) => {
    const token = await make();
    // Past the cooldown, so an unknown kid makes the relay fetch the JWKS again first.
    await sleep(COOLDOWN_MS + 50);
    const fetchesBefore = jwks.fetches;
    const query = `token=${encodeURIComponent(token)}`;
    const attempts = [
      await call(`/sessions/${victimSession}/messages`, {
        method: "POST",
        headers: bearer(token),
        body: '{"content":"/tokens 1"}',
      }),
      await call(`/sessions/${victimSession}/events?${query}`),
      await call(`/sessions/${victimSession}?${query}`),
      await tryUpgrade(`${relay.url}/chat?session=${victimSession}&${query}`),
      await tryUpgrade(`${relay.url}/api/chat/ws?${query}`),
    ];
    for (const { status, body } of attempts) {
      expect(status, body).toBe(401);
      expect(JSON.parse(body).error.code).toBe("unauthorized");
    }
    if (name.includes("unknown kid")) expect(jwks.fetches).toBeGreaterThan(fetchesBefore);
    const now = await call(`/sessions/${victimSession}`, { headers: bearer(victim) });
    expect(JSON.parse(now.body)).toEqual(untouched);
  });

  it("has at least 15 cases", () => {
    expect(bad.length).toBeGreaterThanOrEqual(15);
  });
});

describe("key rotation", () => {
  it("picks up a new kid from the JWKS without a restart, and retires the old one", async () => {
    const next = await signingKey("ES256", "es-2");
    const before = await userToken("rotating", es);
    const session = await sessionOf(before);
    jwks.keys = [next.jwk, rs.jwk, ed.jwk, ed25519.jwk];
    await sleep(COOLDOWN_MS + 50);
    const fetches = jwks.fetches;
    const after = await userToken("rotating", next);
    expect((await call(`/sessions/${session}`, { headers: bearer(after) })).status).toBe(200);
    expect(jwks.fetches).toBe(fetches + 1);
    await sleep(COOLDOWN_MS + 50);
    const retired = await call(`/sessions/${session}`, { headers: bearer(before) });
    expect(retired.status).toBe(401);
    expect(JSON.parse(retired.body).error.message).toContain("kid");
    // Publishing the old key again brings it back, once the cooldown has passed.
    jwks.keys = [es.jwk, next.jwk, rs.jwk, ed.jwk, ed25519.jwk];
    await sleep(COOLDOWN_MS + 50);
    const restored = await userToken("rotating", es);
    expect((await call(`/sessions/${session}`, { headers: bearer(restored) })).status).toBe(200);
  });
});

describe("a socket whose JWT expires while it is open", () => {
  /** A token the relay accepts for about 3 s more: expired 27 s ago, within the 30 s tolerance. */
  const expiring = (sub: string) => mint({ ...claimsFor(sub), exp: nowS() - 27 }, es);
  const expiresAt = (token: string) =>
    (JSON.parse(Buffer.from(partsOf(token)[1], "base64url").toString()).exp + 30) * 1000;

  it("on /chat: keeps listening, refuses the next frame with token_expired, closes 4401; the answer runs on", async () => {
    const token = await expiring("expiring-chat");
    const session = await sessionOf(token);
    const socket = await TestSocket.open(`${relay.wsUrl}/chat?session=${session}`, asToken(token));
    const events = await openSse(`${relay.url}/sessions/${session}/events?token=${token}`);
    await socket.waitFor("session");
    socket.send({ prompt: "/tokens 600" });
    await socket.waitFor("start");
    await sleep(expiresAt(token) - Date.now() + 100);
    // Frames already streaming still arrive after expiry: an answer outlives its token.
    await socket.next((frame) => frame.type === "chunk", socket.frames.length);
    // The keep-alive ping is answered by the runtime, without waking the session.
    const beforePing = socket.frames.length;
    socket.send('{"type":"ping"}');
    await socket.waitFor("pong", beforePing);
    socket.send({ type: "history" });
    const refused = await socket.next((frame) => frame.type === "error");
    expect(refused).toMatchObject({ code: "token_expired" });
    await socket.until(() => socket.closed !== undefined).catch(() => {});
    expect(socket.closed?.code).toBe(4401);
    expect(socket.frames.some((frame) => frame.type === "history")).toBe(false);

    const seen = socket.frames.filter((frame) => frame.type === "chunk");
    const lastSeq = Math.max(...socket.frames.map((frame) => Number(frame.seq ?? 0)));
    const fresh = await userToken("expiring-chat", es);
    const again = await TestSocket.open(
      `${relay.wsUrl}/chat?session=${session}&after=${lastSeq}`,
      asToken(fresh),
    );
    const done = await again.waitFor("done", 0, 15_000);
    expect(done).toMatchObject({ status: "complete" });
    const text = [...seen, ...again.frames.filter((frame) => frame.type === "chunk")]
      .map((frame) => String(frame.content))
      .join("");
    expect(text).toBe(demoTokens(600));
    await again.close();
    // An SSE stream is checked when it opens; opened before expiry, it reads the answer to its end.
    let last = await events.next();
    while (last && last.event !== "done") last = await events.next();
    expect(last?.data).toMatchObject({ type: "done", status: "complete" });
    events.drop();
  });

  it("on /api/chat/ws: refuses the next request with token_expired and closes 4401; the answer runs on", async () => {
    const token = await expiring("expiring-ws");
    const session = await sessionOf(token);
    const transport = chatTransport(relay, { protocols: asToken(token) });
    const first = (await ask(transport, session, "/tokens 600")).getReader();
    await first.read();
    await sleep(expiresAt(token) - Date.now() + 100);
    const second = await ask(transport, session, "/tokens 1");
    await expect(readAll(second)).rejects.toThrow(/^token_expired: /);
    const rest = (async () => {
      for (;;) if ((await first.read()).done) return;
    })();
    await expect(rest).rejects.toThrow(/code 4401: token_expired/);

    const fresh = chatTransport(relay, { protocols: asToken(await userToken("expiring-ws", es)) });
    const resumed = await fresh.reconnectToStream({ chatId: session });
    expect(resumed).not.toBeNull();
    if (resumed) expect(textOf(await assemble(await readAll(resumed)))).toBe(demoTokens(600));
    fresh.close();
    transport.close();
  });
});

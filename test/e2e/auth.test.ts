// Authentication, session ownership and origins: every bypass attempt is refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { record } from "../helpers/record.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { TestSocket } from "../helpers/socket.ts";
import { openSse } from "../helpers/sse.ts";
import { tryUpgrade } from "../helpers/upgrade.ts";

const { tokenAlpha, tokenBeta } = SECRETS;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
let relay: Relay;

beforeAll(async () => {
  relay = await startRelay({
    AUTH_TOKENS: ` ${tokenAlpha},${tokenBeta} `,
    ALLOWED_ORIGINS: "https://app.example",
  });
});
afterAll(() => relay.dispose());

/** A fetch whose answer goes to the secrets scan. */
async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${relay.url}${path}`, init);
  const body = await response.text();
  record(`${response.status} ${[...response.headers].join(" ")} ${body}`);
  return { status: response.status, headers: response.headers, body };
}

async function sessionOf(token: string): Promise<string> {
  const { status, body } = await call("/sessions", { method: "POST", headers: bearer(token) });
  expect(status).toBe(201);
  return JSON.parse(body).session;
}

/** Tries a WebSocket upgrade of `path` on the relay, to read a refusal. */
function upgrade(path: string, headers: Record<string, string> = {}) {
  return tryUpgrade(`${relay.url}${path}`, headers);
}

describe("with AUTH_TOKENS set", () => {
  it("serves a valid token over Bearer, the WebSocket subprotocol and ?token=", async () => {
    const session = await sessionOf(tokenAlpha);
    expect((await call(`/sessions/${session}`, { headers: bearer(tokenAlpha) })).status).toBe(200);

    const viaProtocol = await TestSocket.open(`${relay.wsUrl}/chat?session=${session}`, [
      "sluice",
      `sluice.token.${tokenAlpha}`,
    ]);
    expect(viaProtocol.ws.protocol).toBe("sluice");
    expect((await viaProtocol.ask("/tokens 2")).text).toBe("t0 t1 ");
    await viaProtocol.close();

    const events = await openSse(`${relay.url}/sessions/${session}/events?token=${tokenAlpha}`);
    expect((await events.next())?.event).toBe("session");
    events.drop();
  });

  const refusals: Array<[string, () => Promise<{ status: number; body: string }>, number, string]> =
    [
      ["no token", () => call("/sessions", { method: "POST" }), 401, "unauthorized"],
      [
        "a wrong token",
        () => call("/sessions", { method: "POST", headers: bearer("tok-wrong") }),
        401,
        "unauthorized",
      ],
      [
        "a token that is a prefix of a real one",
        () => call("/sessions", { method: "POST", headers: bearer(tokenAlpha.slice(0, -1)) }),
        401,
        "unauthorized",
      ],
      [
        "a malformed Authorization header",
        () => call("/sessions", { method: "POST", headers: { authorization: tokenAlpha } }),
        401,
        "unauthorized",
      ],
      ["a WebSocket upgrade without credentials", () => upgrade("/chat"), 401, "unauthorized"],
      [
        "a WebSocket upgrade with a wrong subprotocol token",
        () => upgrade("/chat", { "sec-websocket-protocol": "sluice, sluice.token.nope" }),
        401,
        "unauthorized",
      ],
      [
        "an SSE stream without a token",
        async () => call(`/sessions/${await sessionOf(tokenAlpha)}/events`),
        401,
        "unauthorized",
      ],
      [
        "another token reading a session",
        async () =>
          call(`/sessions/${await sessionOf(tokenAlpha)}`, { headers: bearer(tokenBeta) }),
        404,
        "session_not_found",
      ],
      [
        "another token posting to a session",
        async () =>
          call(`/sessions/${await sessionOf(tokenAlpha)}/messages`, {
            method: "POST",
            headers: bearer(tokenBeta),
            body: '{"content":"hi"}',
          }),
        404,
        "session_not_found",
      ],
      [
        "another token cancelling a session",
        async () =>
          call(`/sessions/${await sessionOf(tokenAlpha)}/cancel`, {
            method: "POST",
            headers: bearer(tokenBeta),
          }),
        404,
        "session_not_found",
      ],
      [
        "another token listening to a session",
        async () =>
          call(`/sessions/${await sessionOf(tokenAlpha)}/events`, { headers: bearer(tokenBeta) }),
        404,
        "session_not_found",
      ],
      [
        "another token joining a session's socket",
        async () =>
          upgrade(`/chat?session=${await sessionOf(tokenAlpha)}`, {
            "sec-websocket-protocol": `sluice, sluice.token.${tokenBeta}`,
          }),
        404,
        "session_not_found",
      ],
      [
        "a forged session id",
        () => call("/sessions/00112233445566778899aabbccddeeff", { headers: bearer(tokenAlpha) }),
        404,
        "session_not_found",
      ],
      [
        "a disallowed origin over HTTP",
        () =>
          call("/sessions", {
            method: "POST",
            headers: { ...bearer(tokenAlpha), origin: "https://evil.example" },
          }),
        403,
        "origin_not_allowed",
      ],
      [
        "a disallowed origin on a socket",
        () =>
          upgrade("/chat", {
            origin: "https://evil.example",
            "sec-websocket-protocol": `sluice, sluice.token.${tokenAlpha}`,
          }),
        403,
        "origin_not_allowed",
      ],
      [
        "a preflight from a disallowed origin",
        () =>
          call("/sessions", {
            method: "OPTIONS",
            headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
          }),
        403,
        "origin_not_allowed",
      ],
      [
        "localhost, once ALLOWED_ORIGINS is set",
        () =>
          call("/sessions", {
            method: "POST",
            headers: { ...bearer(tokenAlpha), origin: "http://127.0.0.1:5500" },
          }),
        403,
        "origin_not_allowed",
      ],
    ];

  it.each(refusals)("refuses %s", async (_name, attempt, status, code) => {
    const { status: got, body } = await attempt();
    expect(got).toBe(status);
    expect(JSON.parse(body).error.code).toBe(code);
  });

  it("answers an allowed origin's preflight and tags its responses for CORS", async () => {
    const origin = "https://app.example";
    const pre = await call("/sessions", { method: "OPTIONS", headers: { origin } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe(origin);
    expect(pre.headers.get("access-control-allow-headers")).toContain("authorization");
    const post = await call("/sessions", {
      method: "POST",
      headers: { ...bearer(tokenAlpha), origin },
    });
    expect(post.status).toBe(201);
    expect(post.headers.get("access-control-allow-origin")).toBe(origin);
  });
});

describe("without AUTH_TOKENS or ALLOWED_ORIGINS (local development)", () => {
  let open: Relay;
  beforeAll(async () => {
    open = await startRelay();
  });
  afterAll(() => open.dispose());

  it("runs open and allows localhost origins, such as a page on 127.0.0.1:5500", async () => {
    for (const origin of ["http://127.0.0.1:5500", "http://localhost:3000", "http://[::1]:8080"]) {
      const response = await fetch(`${open.url}/sessions`, { method: "POST", headers: { origin } });
      expect(response.status).toBe(201);
      expect(response.headers.get("access-control-allow-origin")).toBe(origin);
    }
    const socket = await TestSocket.open(`${open.wsUrl}/chat`);
    expect((await socket.ask("/tokens 1")).text).toBe("t0 ");
    await socket.close();
  });

  it("still refuses other origins", async () => {
    const response = await fetch(`${open.url}/sessions`, {
      method: "POST",
      headers: { origin: "https://evil.example" },
    });
    expect(response.status).toBe(403);
  });
});

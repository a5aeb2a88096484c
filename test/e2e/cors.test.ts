// CORS: a refused origin gets no Access-Control-Allow-* header on any response of any route
// (preflight, request, wrong method, WebSocket upgrade); an allowed origin gets them on all.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { record } from "../helpers/record.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { tryUpgrade } from "../helpers/upgrade.ts";

const GOOD = "https://good.example";
const EVIL = "https://evil.example";
const SESSION = "00112233445566778899aabbccddeeff";
const bearer = { authorization: `Bearer ${SECRETS.tokenAlpha}` };

/** Every route of the ROUTES table in src/index.ts, plus the /v1 routes and an unknown path. */
const ROUTES: Array<[method: string, path: string]> = [
  ["GET", "/chat"],
  ["GET", "/sessions"],
  ["POST", "/sessions"],
  ["GET", `/sessions/${SESSION}`],
  ["PATCH", `/sessions/${SESSION}`],
  ["DELETE", `/sessions/${SESSION}`],
  ["POST", `/sessions/${SESSION}/messages`],
  ["POST", `/sessions/${SESSION}/tool-results`],
  ["GET", `/sessions/${SESSION}/events`],
  ["POST", `/sessions/${SESSION}/cancel`],
  ["POST", "/api/chat"],
  ["GET", "/api/chat/ws"],
  ["GET", "/api/chat/some-chat/stream"],
  ["POST", "/api/chat/some-chat/stop"],
  ["GET", "/usage"],
  ["POST", "/v1/chat/completions"],
  ["GET", "/v1/models"],
  ["GET", "/v1/unknown"],
  ["GET", "/no-such-route"],
];

let relay: Relay;
beforeAll(async () => {
  relay = await startRelay({ AUTH_TOKENS: SECRETS.tokenAlpha, ALLOWED_ORIGINS: GOOD });
});
afterAll(() => relay.dispose());

async function call(method: string, path: string, headers: Record<string, string>) {
  const body = method === "POST" || method === "PATCH" ? "{}" : undefined;
  const response = await fetch(`${relay.url}${path}`, { method, headers, body });
  const text = await response.text();
  record(`${response.status} ${[...response.headers].join(" ")} ${text}`);
  return response;
}

/** The names of a response's Access-Control-Allow-* (and -Expose-) headers. */
function corsHeaders(response: Response): string[] {
  return [...response.headers.keys()].filter((name) => name.startsWith("access-control-"));
}

const otherMethod = (method: string) => (method === "GET" ? "POST" : "GET");

describe("an origin that is not allowed", () => {
  it.each(ROUTES)(
    "gets 403 and no CORS header on %s %s, its preflight and its wrong method",
    async (method, path) => {
      const preflight = await call("OPTIONS", path, {
        origin: EVIL,
        "access-control-request-method": method,
        "access-control-request-headers": "authorization",
      });
      const request = await call(method, path, { ...bearer, origin: EVIL });
      const wrong = await call(otherMethod(method), path, { ...bearer, origin: EVIL });
      for (const response of [preflight, request, wrong]) {
        expect(response.status).toBe(403);
        expect(corsHeaders(response)).toEqual([]);
      }
    },
  );

  it.each(["/chat", "/api/chat/ws"])(
    "gets 403 and no CORS header on a WebSocket upgrade of %s",
    async (path) => {
      const refused = await tryUpgrade(`${relay.url}${path}`, {
        origin: EVIL,
        "sec-websocket-protocol": `sluice, sluice.token.${SECRETS.tokenAlpha}`,
      });
      expect(refused.status).toBe(403);
      expect(
        Object.keys(refused.headers).filter((name) => name.startsWith("access-control-")),
      ).toEqual([]);
    },
  );
});

describe("an allowed origin", () => {
  it.each(ROUTES)("gets its preflight answered and CORS headers on %s %s", async (method, path) => {
    const preflight = await call("OPTIONS", path, {
      origin: GOOD,
      "access-control-request-method": method,
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(GOOD);
    // A browser sends the request only when the preflight lists its method.
    expect(preflight.headers.get("access-control-allow-methods")?.split(", ")).toContain(method);
    const request = await call(method, path, { ...bearer, origin: GOOD });
    expect(request.headers.get("access-control-allow-origin")).toBe(GOOD);
  });

  it("still passes a WebSocket upgrade", async () => {
    const accepted = await tryUpgrade(`${relay.url}/api/chat/ws`, {
      origin: GOOD,
      "sec-websocket-protocol": `sluice, sluice.token.${SECRETS.tokenAlpha}`,
    });
    expect(accepted.status).toBe(101);
  });
});

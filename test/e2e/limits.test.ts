// A flood engages the limits (requests per minute, answers at once) and others are still served.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awayFromMinuteEdge } from "../helpers/minute.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { TestSocket } from "../helpers/socket.ts";

const { tokenAlpha, tokenBeta, tokenGamma } = SECRETS;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const asToken = (token: string) => ["sluice", `sluice.token.${token}`];
let relay: Relay;

beforeAll(async () => {
  relay = await startRelay(
    {
      AUTH_TOKENS: [tokenAlpha, tokenBeta, tokenGamma].join(","),
      MAX_CONCURRENT_GENERATIONS: "2",
      DEMO_DELAY_MS: "5",
    },
    { requestsPerMinute: 20 },
  );
});
afterAll(() => relay.dispose());

/** `POST /sessions` `times` times as `token`, one after another: each status, and a 429's details. */
async function createSessions(url: string, token: string, times: number) {
  await awayFromMinuteEdge();
  const results: Array<{ status: number; retryAfter?: string | null; code?: string }> = [];
  for (let i = 0; i < times; i += 1) {
    const response = await fetch(`${url}/sessions`, { method: "POST", headers: bearer(token) });
    if (response.status === 429) {
      const { error } = (await response.json()) as { error: { code: string } };
      results.push({
        status: 429,
        retryAfter: response.headers.get("retry-after"),
        code: error.code,
      });
    } else {
      await response.body?.cancel();
      results.push({ status: response.status });
    }
  }
  return results;
}

describe("a flood of requests", () => {
  it("gets 429 with Retry-After past the limit, while another client is served", async () => {
    const results = await createSessions(relay.url, tokenAlpha, 40);
    expect(results.filter(({ status }) => status === 201).length).toBe(20);
    const limited = results.filter(({ status }) => status === 429);
    expect(limited.length).toBe(20);
    for (const refusal of limited) {
      expect(refusal).toEqual({ status: 429, retryAfter: "60", code: "rate_limited" });
    }

    const other = await fetch(`${relay.url}/sessions`, {
      method: "POST",
      headers: bearer(tokenBeta),
    });
    expect(other.status).toBe(201);
  });

  it("over a socket, frames past the limit get error frames and the socket stays open", async () => {
    const socket = await TestSocket.open(`${relay.wsUrl}/chat`, asToken(tokenGamma));
    await socket.waitFor("session");
    for (let i = 0; i < 30; i += 1) socket.send({ type: "history" });
    await socket.until(
      () => socket.frames.filter((f) => f.type === "history" || f.type === "error").length === 30,
    );
    const limited = socket.frames.filter((frame) => frame.type === "error");
    expect(limited.length).toBeGreaterThan(0);
    for (const frame of limited)
      expect(frame).toMatchObject({ code: "rate_limited", retryAfter: 60 });
    expect(socket.closed).toBeUndefined();
    await socket.close();
  });
});

describe("concurrent answers per client", () => {
  it("are capped (MAX_CONCURRENT_GENERATIONS=2); the third waits its turn, and nothing of it is stored", async () => {
    const sockets = await Promise.all(
      [0, 1, 2].map(() => TestSocket.open(`${relay.wsUrl}/chat`, asToken(tokenBeta))),
    );
    for (const socket of sockets) await socket.waitFor("session");
    const [one, two, three] = sockets as [TestSocket, TestSocket, TestSocket];
    one.send({ prompt: "/tokens 300" });
    two.send({ prompt: "/tokens 300" });
    await Promise.all([one.waitFor("start"), two.waitFor("start")]);
    three.send({ prompt: "/tokens 3" });
    expect(await three.waitFor("error")).toMatchObject({ code: "rate_limited", retryAfter: 5 });
    expect(three.frames.some((frame) => frame.type === "start")).toBe(false);

    await one.waitFor("done");
    const from = three.frames.length;
    three.send({ prompt: "/tokens 3" });
    expect(await three.waitFor("done", from)).toMatchObject({ status: "complete" });
    await Promise.all(sockets.map((socket) => socket.close()));
  });
});

describe("the benchmarks' lean services (in-memory limiter, Miniflare's Analytics Engine)", () => {
  it("refuse past the same per-minute count, per client, and answers still complete", async () => {
    const lean = await startRelay(
      { AUTH_TOKENS: [tokenAlpha, tokenBeta].join(",") },
      { requestsPerMinute: 5, services: "lean" },
    );
    try {
      const results = await createSessions(lean.url, tokenAlpha, 8);
      expect(results.map(({ status }) => status)).toEqual([201, 201, 201, 201, 201, 429, 429, 429]);
      expect(results.at(-1)).toEqual({ status: 429, retryAfter: "60", code: "rate_limited" });
      const socket = await TestSocket.open(`${lean.wsUrl}/chat`, asToken(tokenBeta));
      await socket.waitFor("session");
      socket.send({ prompt: "hello" });
      expect(await socket.waitFor("done")).toMatchObject({ status: "complete" });
      await socket.close();
    } finally {
      await lean.dispose();
    }
  });
});

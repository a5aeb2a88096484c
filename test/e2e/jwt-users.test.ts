// Two users of one app (one issuer, two subjects): each owns their sessions alone, and each
// has their own request rate and their own pool of answers streaming at once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIENCE, ISSUER, userToken } from "../helpers/jwt.ts";
import { awayFromMinuteEdge } from "../helpers/minute.ts";
import { record } from "../helpers/record.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { TestSocket } from "../helpers/socket.ts";
import { tryUpgrade } from "../helpers/upgrade.ts";
import { chatTransport, storedMessages } from "../helpers/ws-chat.ts";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const asToken = (token: string) => ["sluice", `sluice.token.${token}`];
let relay: Relay;

beforeAll(async () => {
  relay = await startRelay(
    {
      AUTH_JWT_SECRET: SECRETS.jwtSecret,
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: AUDIENCE,
      MAX_CONCURRENT_GENERATIONS: "2",
      DEMO_DELAY_MS: "5",
    },
    { requestsPerMinute: 20 },
  );
});
afterAll(() => relay.dispose());

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${relay.url}${path}`, init);
  const body = await response.text();
  record(`${response.status} ${[...response.headers].join(" ")} ${body}`);
  return { status: response.status, body };
}

describe("two users of one app", () => {
  it("cannot see or join each other's sessions, over HTTP, SSE or either WebSocket", async () => {
    const alice = await userToken("alice", "hs256");
    const bob = await userToken("bob", "hs256");
    const created = await call("/sessions", { method: "POST", headers: bearer(alice) });
    const { session } = JSON.parse(created.body);
    const socket = await TestSocket.open(`${relay.wsUrl}/chat?session=${session}`, asToken(alice));
    expect((await socket.ask("/tokens 2")).text).toBe("t0 t1 ");
    await socket.close();

    const attempts = [
      await call(`/sessions/${session}`, { headers: bearer(bob) }),
      await call(`/sessions/${session}/events?token=${bob}`),
      await call(`/sessions/${session}/messages`, {
        method: "POST",
        headers: bearer(bob),
        body: '{"content":"hi"}',
      }),
      await tryUpgrade(`${relay.url}/chat?session=${session}`, {
        "sec-websocket-protocol": `sluice, sluice.token.${bob}`,
      }),
    ];
    for (const { status, body } of attempts) {
      expect(status, body).toBe(404);
      expect(JSON.parse(body).error.code).toBe("session_not_found");
    }
    const transport = chatTransport(relay, { protocols: asToken(bob) });
    expect(await transport.reconnectToStream({ chatId: session })).toBeNull();
    transport.close();
    const stored = await storedMessages(relay, session, bearer(alice));
    expect(stored.map((message) => message.content)).toEqual(["/tokens 2", "t0 t1 "]);
  });

  it("each have their own request rate, shared by every token of the same user", async () => {
    const statuses: number[] = [];
    await awayFromMinuteEdge();
    for (let i = 0; i < 25; i += 1) {
      // A fresh token each time: the limit counts the user, not the token.
      const carol = await userToken("carol", "hs256");
      statuses.push((await call("/sessions", { method: "POST", headers: bearer(carol) })).status);
    }
    expect(statuses.filter((status) => status === 201).length).toBe(20);
    expect(statuses.filter((status) => status === 429).length).toBe(5);
    const dave = await userToken("dave", "hs256");
    expect((await call("/sessions", { method: "POST", headers: bearer(dave) })).status).toBe(201);
  });

  it("each have their own pool of answers streaming at once", async () => {
    const erin = await userToken("erin", "hs256");
    const frank = await userToken("frank", "hs256");
    const sockets = await Promise.all(
      [erin, erin, erin, frank].map((token) =>
        TestSocket.open(`${relay.wsUrl}/chat`, asToken(token)),
      ),
    );
    for (const socket of sockets) await socket.waitFor("session");
    const [one, two, three, other] = sockets as [TestSocket, TestSocket, TestSocket, TestSocket];
    one.send({ prompt: "/tokens 300" });
    two.send({ prompt: "/tokens 300" });
    await Promise.all([one.waitFor("start"), two.waitFor("start")]);
    three.send({ prompt: "/tokens 3" });
    expect(await three.waitFor("error")).toMatchObject({ code: "rate_limited" });
    // Erin's pool is full; Frank's is his own.
    other.send({ prompt: "/tokens 3" });
    expect(await other.waitFor("done")).toMatchObject({ status: "complete" });
    expect(one.frames.some((frame) => frame.type === "done")).toBe(false);
    await Promise.all(sockets.map((socket) => socket.close()));
  });
});

// The stall watchdog: an upstream that stops sending is cut off with a clear error.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { TestSocket } from "../helpers/socket.ts";
import { startUpstream, type Upstream } from "../helpers/upstreams.ts";

let relay: Relay;
let upstream: Upstream;

beforeAll(async () => {
  upstream = await startUpstream("openai", { tokens: ["one ", "two ", "three "], stallAfter: 2 });
  relay = await startRelay({
    PROVIDER: "openai",
    OPENAI_BASE_URL: upstream.baseUrl,
    OPENAI_API_KEY: SECRETS.openaiKey,
    STALL_TIMEOUT_MS: "300",
  });
});
afterAll(async () => {
  await relay.dispose();
  await upstream.close();
});

describe("the stall watchdog", () => {
  it("aborts an upstream that stops sending, sends upstream_stalled and keeps the partial answer", async () => {
    const socket = await TestSocket.open(`${relay.wsUrl}/chat`);
    const session = String((await socket.waitFor("session")).session);
    socket.send({ prompt: "hello" });
    const error = await socket.waitFor("error");
    expect(error).toMatchObject({ code: "upstream_stalled" });
    expect(await socket.waitFor("done")).toMatchObject({ status: "incomplete" });
    expect((await upstream.closed()).finished).toBe(false);

    const response = await fetch(`${relay.url}/sessions/${session}`);
    const { messages } = (await response.json()) as { messages: Array<Record<string, unknown>> };
    expect(messages.at(-1)).toMatchObject({
      content: "one two ",
      status: "incomplete",
      errorCode: "upstream_stalled",
    });
    await socket.close();
  });
});

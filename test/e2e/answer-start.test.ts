// A prompt's upstream request leaves beside its admission: a refused one is aborted and
// stores nothing, and the session then admits first, so repeating it calls no upstream.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { TestSocket } from "../helpers/socket.ts";
import { startUpstream, type Upstream } from "../helpers/upstreams.ts";

let relay: Relay;
let upstream: Upstream;
const TOKENS = Array.from({ length: 100 }, (_, i) => `w${i} `);

beforeAll(async () => {
  upstream = await startUpstream("openai", { tokens: TOKENS, delayMs: 10 });
  relay = await startRelay({
    PROVIDER: "openai",
    OPENAI_BASE_URL: upstream.baseUrl,
    OPENAI_API_KEY: SECRETS.openaiKey,
    MAX_CONCURRENT_GENERATIONS: "1",
  });
});
afterAll(async () => {
  await relay.dispose();
  await upstream.close();
});

async function messages(session: string): Promise<unknown[]> {
  const response = await fetch(`${relay.url}/sessions/${session}`);
  return ((await response.json()) as { messages: unknown[] }).messages;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe("a refused prompt", () => {
  it("stores nothing, and a refused session calls no upstream until a prompt is admitted", async () => {
    const one = await TestSocket.open(`${relay.wsUrl}/chat`);
    const two = await TestSocket.open(`${relay.wsUrl}/chat`);
    await one.waitFor("session");
    const { session } = await two.waitFor("session");
    one.send({ prompt: "holds the one slot" });
    await one.waitFor("chunk");
    const asked = upstream.requests.length;

    // Refused by the slot: the request that may have left is aborted, nothing is stored.
    two.send({ prompt: "refused" });
    expect(await two.waitFor("error")).toMatchObject({ code: "rate_limited" });
    expect(two.frames.some((frame) => frame.type === "start")).toBe(false);
    expect(await messages(String(session))).toEqual([]);
    await settle();
    const afterRefusal = upstream.requests.length;
    expect(afterRefusal).toBeLessThanOrEqual(asked + 1);

    // Refused again: now admitted first, so no upstream call at all.
    const from = two.frames.length;
    two.send({ prompt: "refused again" });
    expect(await two.waitFor("error", from)).toMatchObject({ code: "rate_limited" });
    await settle();
    expect(upstream.requests.length).toBe(afterRefusal);
    expect(await messages(String(session))).toEqual([]);

    // Once the slot is free, the next prompt is admitted and answered in full.
    one.send({ type: "cancel" });
    await one.waitFor("done");
    const answer = await two.ask("admitted");
    expect(answer.frames.filter((frame) => frame.type === "chunk")).toHaveLength(TOKENS.length);
    expect(await messages(String(session))).toHaveLength(2);
    await Promise.all([one.close(), two.close()]);
  });
});

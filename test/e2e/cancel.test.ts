// Cancel stops the upstream at once; answers outlive their clients unless told otherwise.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { TestSocket } from "../helpers/socket.ts";
import { startUpstream, type Upstream } from "../helpers/upstreams.ts";

let relay: Relay;
let upstream: Upstream;
const TOKENS = Array.from({ length: 400 }, (_, i) => `w${i} `);

beforeAll(async () => {
  upstream = await startUpstream("openai", { tokens: TOKENS, delayMs: 10 });
  relay = await startRelay({
    PROVIDER: "openai",
    OPENAI_BASE_URL: upstream.baseUrl,
    OPENAI_API_KEY: SECRETS.openaiKey,
  });
});
afterAll(async () => {
  await relay.dispose();
  await upstream.close();
});

async function history(session: string) {
  const response = await fetch(`${relay.url}/sessions/${session}`);
  return (await response.json()) as {
    generating: boolean;
    messages: Array<{ role: string; content: string; status: string }>;
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

describe("cancel", () => {
  it("closes the upstream connection at once and lets no chunk through once it is handled", async () => {
    const delays: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      const socket = await TestSocket.open(`${relay.wsUrl}/chat`);
      const session = String((await socket.waitFor("session")).session);
      socket.send({ prompt: "go on" });
      await socket.until(() => socket.frames.filter((frame) => frame.type === "chunk").length >= 3);
      const closed = upstream.closed();
      const chunksBefore = socket.frames.filter((frame) => frame.type === "chunk").length;
      const sentAt = Date.now();
      socket.send({ type: "cancel" });
      const { at, finished } = await closed;
      expect(finished).toBe(false);
      delays.push(at - sentAt);

      const done = await socket.waitFor("done");
      expect(done.status).toBe("cancelled");
      const chunks = socket.frames.filter((frame) => frame.type === "chunk");
      // Chunks already on their way when the cancel was sent still arrive: at most one per
      // upstream token interval (10 ms) until the upstream connection closed, plus one. On a
      // quiet machine that is one chunk; on a loaded one the cancel waits its turn.
      expect(chunks.length - chunksBefore).toBeLessThanOrEqual(2 + Math.ceil((at - sentAt) / 10));
      const partial = chunks.map((frame) => String(frame.content)).join("");
      const { messages } = await history(session);
      expect(messages.at(-1)).toMatchObject({ content: partial, status: "cancelled" });
      expect(partial.length).toBeGreaterThan(0);
      await socket.close();
    }
    // Under 100 ms on a quiet machine; the bound leaves room for a loaded one.
    expect(median(delays)).toBeLessThan(500);
  });

  it("works over HTTP too, and every listener is told", async () => {
    const a = await TestSocket.open(`${relay.wsUrl}/chat`);
    const session = String((await a.waitFor("session")).session);
    const b = await TestSocket.open(`${relay.wsUrl}/chat?session=${session}`);
    a.send({ prompt: "go on" });
    await b.waitFor("chunk");
    const closed = upstream.closed();
    const response = await fetch(`${relay.url}/sessions/${session}/cancel`, { method: "POST" });
    expect(await response.json()).toEqual({ cancelled: true });
    expect((await closed).finished).toBe(false);
    for (const socket of [a, b])
      expect(await socket.waitFor("done")).toMatchObject({ status: "cancelled" });
    const again = await fetch(`${relay.url}/sessions/${session}/cancel`, { method: "POST" });
    expect(await again.json()).toEqual({ cancelled: false });
    await Promise.all([a.close(), b.close()]);
  });
});

describe("when every client leaves mid-answer", () => {
  it("the answer runs to the end and is stored complete (the default)", async () => {
    upstream.script = { tokens: TOKENS.slice(0, 60), delayMs: 5 };
    const socket = await TestSocket.open(`${relay.wsUrl}/chat`);
    const session = String((await socket.waitFor("session")).session);
    socket.send({ prompt: "long answer" });
    await socket.waitFor("chunk");
    await socket.close();
    const finished = (await upstream.closed()).finished;
    expect(finished).toBe(true);
    let stored = await history(session);
    for (let i = 0; i < 100 && stored.generating; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      stored = await history(session);
    }
    expect(stored.messages.at(-1)).toMatchObject({
      role: "assistant",
      content: TOKENS.slice(0, 60).join(""),
      status: "complete",
    });
  });

  it("with onAbandon=cancel, the upstream is stopped and the partial answer stored as cancelled", async () => {
    upstream.script = { tokens: TOKENS, delayMs: 10 };
    const socket = await TestSocket.open(`${relay.wsUrl}/chat?onAbandon=cancel`);
    const session = String((await socket.waitFor("session")).session);
    socket.send({ prompt: "long answer" });
    await socket.waitFor("chunk");
    const closed = upstream.closed();
    await socket.close();
    expect((await closed).finished).toBe(false);
    let stored = await history(session);
    for (let i = 0; i < 100 && stored.generating; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      stored = await history(session);
    }
    expect(stored.messages.at(-1)).toMatchObject({ role: "assistant", status: "cancelled" });
  });
});

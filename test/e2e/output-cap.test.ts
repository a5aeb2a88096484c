// MAX_OUTPUT_TOKENS reaches each upstream as its own output cap, and the answer log line says
// how many retries an answer took and whether the fallback gave it.
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { TestSocket } from "../helpers/socket.ts";
import { startUpstream, type Upstream } from "../helpers/upstreams.ts";
import { answerLines } from "../helpers/usage.ts";

const CAP = "7";
const relays: Relay[] = [];
const upstreams: Upstream[] = [];

async function relayWith(vars: Record<string, string>): Promise<Relay> {
  const relay = await startRelay({ MAX_OUTPUT_TOKENS: CAP, ...vars });
  relays.push(relay);
  return relay;
}

async function ask(relay: Relay, prompt: string) {
  const socket = await TestSocket.open(`${relay.wsUrl}/chat`);
  await socket.waitFor("session");
  const answer = await socket.ask(prompt);
  await socket.close();
  return { ...answer, done: answer.frames.find((frame) => frame.type === "done") };
}

/** A port on which nothing listens: connections are refused. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

afterAll(async () => {
  await Promise.all([
    ...relays.map((relay) => relay.dispose()),
    ...upstreams.map((u) => u.close()),
  ]);
});

describe("MAX_OUTPUT_TOKENS", () => {
  let openaiUpstream: Upstream;
  let anthropicUpstream: Upstream;
  beforeAll(async () => {
    openaiUpstream = await startUpstream("openai", { tokens: ["Hi", " there"] });
    anthropicUpstream = await startUpstream("anthropic", { tokens: ["Hi", " there"] });
    upstreams.push(openaiUpstream, anthropicUpstream);
  });

  it("is max_tokens for an OpenAI-compatible server", async () => {
    const relay = await relayWith({ PROVIDER: "openai", OPENAI_BASE_URL: openaiUpstream.baseUrl });
    expect((await ask(relay, "hello")).text).toBe("Hi there");
    const body = openaiUpstream.requests.at(-1)?.body;
    expect(body?.max_tokens).toBe(7);
    expect(body).not.toHaveProperty("max_completion_tokens");
  });

  it("is max_tokens for Anthropic, in place of the default 4096", async () => {
    const relay = await relayWith({
      PROVIDER: "anthropic",
      ANTHROPIC_BASE_URL: anthropicUpstream.baseUrl,
      ANTHROPIC_API_KEY: SECRETS.anthropicKey,
    });
    expect((await ask(relay, "hello")).text).toBe("Hi there");
    expect(anthropicUpstream.requests.at(-1)?.body.max_tokens).toBe(7);
  });

  it("is max_tokens for Workers AI (the fake binding stops there)", async () => {
    const relay = await relayWith({ PROVIDER: "workers-ai" });
    const { text } = await ask(relay, "one two three four five six seven eight");
    expect(text.split(" ")).toHaveLength(7);
  });

  it("stops the demo after that many tokens with finish length", async () => {
    const relay = await relayWith({ PROVIDER: "demo" });
    const { text, done } = await ask(relay, "/tokens 50");
    expect(text).toBe("t0 t1 t2 t3 t4 t5 t6 ");
    expect(done).toMatchObject({
      status: "complete",
      finish: "length",
      usage: { outputTokens: 7 },
    });
  });
});

describe("the answer log line after a fallback", () => {
  it("counts the retries and names the fallback that answered, never the key", async () => {
    const relay = await relayWith({
      PROVIDER: "openai",
      OPENAI_BASE_URL: `http://127.0.0.1:${await deadPort()}/v1`,
      OPENAI_API_KEY: SECRETS.openaiKey,
      UPSTREAM_RETRIES: "1",
      UPSTREAM_RETRY_BASE_MS: "1",
      FALLBACK_PROVIDER: "demo",
    });
    const { done } = await ask(relay, "/tokens 3");
    expect(done).toMatchObject({ status: "complete" });
    let line: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && !line; i += 1) {
      line = answerLines(relay).find((entry) => entry.messageId === done?.messageId);
      if (!line) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // One retry of the primary, then the fallback's attempt: two attempts after the first.
    expect(line).toMatchObject({
      provider: "demo",
      model: "sluice-demo",
      status: "complete",
      retries: 2,
      fallback: true,
      outputTokens: 3,
    });
    expect(relay.logs.join("\n")).not.toContain(SECRETS.openaiKey);
  });
});

// The seed protocol over a real WebSocket against the running Worker, on every provider.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { TestSocket } from "../helpers/socket.ts";
import { startUpstream, type Upstream } from "../helpers/upstreams.ts";

const KEY = SECRETS.openaiKey;

describe("the seed protocol on the demo model", () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(() => relay.dispose());

  it("answers {prompt} with chunk frames then done, and keeps the socket open for the next prompt", async () => {
    const socket = await TestSocket.open(`${relay.wsUrl}/chat`);
    const session = await socket.waitFor("session");
    expect(session.session).toMatch(/^[0-9a-f]{32}$/);

    const first = await socket.ask("/tokens 5");
    expect(first.text).toBe("t0 t1 t2 t3 t4 ");
    const chunks = first.frames.filter((frame) => frame.type === "chunk");
    expect(chunks).toHaveLength(5);
    for (const chunk of chunks) expect(typeof chunk.content).toBe("string");
    expect(first.frames.at(-1)).toMatchObject({ type: "done", status: "complete" });

    const second = await socket.ask("Tell me about rivers.");
    expect(second.text.length).toBeGreaterThan(100);
    expect(socket.closed).toBeUndefined();
    await socket.close();
  });
});

describe.each([
  ["openai", { PROVIDER: "openai", OPENAI_API_KEY: KEY }],
  ["anthropic", { PROVIDER: "anthropic", ANTHROPIC_API_KEY: SECRETS.anthropicKey }],
] as const)("the seed protocol on %s against a local upstream", (kind, vars) => {
  let relay: Relay;
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await startUpstream(kind, { tokens: ["Hel", "lo", ", wörld", " ✓"] });
    const base = kind === "openai" ? "OPENAI_BASE_URL" : "ANTHROPIC_BASE_URL";
    relay = await startRelay({
      ...vars,
      [base]: upstream.baseUrl,
      MODEL: "test-model",
      SYSTEM_PROMPT: "Be brief.",
    });
  });
  afterAll(async () => {
    await relay.dispose();
    await upstream.close();
  });

  it("streams the upstream's text as chunk frames and ends with done", async () => {
    const socket = await TestSocket.open(`${relay.wsUrl}/chat`);
    const { text, frames } = await socket.ask("Hi there");
    expect(text).toBe("Hello, wörld ✓");
    expect(frames.at(-1)).toMatchObject({
      type: "done",
      status: "complete",
      usage: { inputTokens: 11, outputTokens: 4 },
    });
    await socket.close();
  });

  it("sends the provider's wire request with the key, the model and the system prompt", () => {
    const request = upstream.requests.at(-1);
    expect(request?.body).toMatchObject({ model: "test-model", stream: true });
    if (kind === "openai") {
      expect(request?.path).toBe("/v1/chat/completions");
      expect(request?.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(request?.body.stream_options).toEqual({ include_usage: true });
      expect(request?.body.messages).toEqual([
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi there" },
      ]);
    } else {
      expect(request?.path).toBe("/v1/messages");
      expect(request?.headers["x-api-key"]).toBe(SECRETS.anthropicKey);
      expect(request?.headers["anthropic-version"]).toBe("2023-06-01");
      expect(request?.body.system).toBe("Be brief.");
      expect(request?.body.messages).toEqual([{ role: "user", content: "Hi there" }]);
    }
  });
});

describe("the seed protocol on workers-ai through a test binding", () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay({ PROVIDER: "workers-ai", MODEL: "@cf/test/model" });
  });
  afterAll(() => relay.dispose());

  it("streams the binding's answer", async () => {
    const socket = await TestSocket.open(`${relay.wsUrl}/chat`);
    const { text, frames } = await socket.ask("ping me");
    expect(text).toBe("Workers AI (@cf/test/model) heard: ping me");
    expect(frames.at(-1)).toMatchObject({ type: "done", status: "complete" });
    await socket.close();
  });
});

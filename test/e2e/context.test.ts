// The context budget trims what goes upstream, oldest first, and never the stored history.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { TestSocket } from "../helpers/socket.ts";
import { startUpstream, type Upstream } from "../helpers/upstreams.ts";

let relay: Relay;
let upstream: Upstream;

beforeAll(async () => {
  upstream = await startUpstream("openai", { tokens: ["answer-xx"] });
  relay = await startRelay({
    PROVIDER: "openai",
    OPENAI_BASE_URL: upstream.baseUrl,
    OPENAI_API_KEY: SECRETS.openaiKey,
    SYSTEM_PROMPT: "sys",
    CONTEXT_BUDGET_CHARS: "40",
  });
});
afterAll(async () => {
  await relay.dispose();
  await upstream.close();
});

describe("the context budget", () => {
  it("sends only the newest messages that fit, starting with a user turn, and stores everything", async () => {
    const socket = await TestSocket.open(`${relay.wsUrl}/chat`);
    const session = String((await socket.waitFor("session")).session);
    for (const prompt of ["question-1", "question-2", "question-3"]) await socket.ask(prompt);

    // 3 (system) + 10 + 9 + 10 = 32 fits in 40; one more answer (9) would not.
    expect(upstream.requests.at(-1)?.body.messages).toEqual([
      { role: "system", content: "sys" },
      { role: "user", content: "question-2" },
      { role: "assistant", content: "answer-xx" },
      { role: "user", content: "question-3" },
    ]);
    const response = await fetch(`${relay.url}/sessions/${session}`);
    const { messages } = (await response.json()) as { messages: unknown[] };
    expect(messages).toHaveLength(6);

    const long = "x".repeat(100);
    await socket.ask(long);
    expect(upstream.requests.at(-1)?.body.messages).toEqual([
      { role: "system", content: "sys" },
      { role: "user", content: long },
    ]);
    await socket.close();
  });
});

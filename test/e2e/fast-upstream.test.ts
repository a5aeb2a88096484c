// An upstream that writes as fast as it can, through workerd: its deltas may be joined
// (src/providers/sse-events.ts), but every character arrives, in order, the first token is
// never held back, and the answer is stored whole. On /chat (the session object reads the
// upstream) and on the stateless /v1/chat/completions (the Worker reads it).
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { TestSocket } from "../helpers/socket.ts";
import { type Script, startUpstream, type Upstream } from "../helpers/upstreams.ts";

const TOKENS = Array.from({ length: 2_000 }, (_, i) => `w${i} `);
const ANSWER = TOKENS.join("");

let relay: Relay;
let upstream: Upstream;

beforeAll(async () => {
  upstream = await startUpstream("openai", { tokens: TOKENS });
  relay = await startRelay({
    PROVIDER: "openai",
    OPENAI_API_KEY: SECRETS.openaiKey,
    OPENAI_BASE_URL: upstream.baseUrl,
    MODEL: "test-model",
  });
});
afterAll(async () => {
  await relay.dispose();
  await upstream.close();
});

/** The upstream's next answer: the first token, then, once `open` is called, the rest at once. */
function gated(): { script: Script; open: () => void } {
  let open = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { script: { tokens: TOKENS, gate }, open };
}

describe("a fast upstream", () => {
  it("reaches a /chat client whole and in order, its first token alone, and is stored whole", async () => {
    const { script, open } = gated();
    upstream.script = script;
    const socket = await TestSocket.open(`${relay.wsUrl}/chat`);
    const { session } = await socket.waitFor("session");
    socket.send({ prompt: "go" });
    const first = await socket.waitFor("chunk");
    expect(first.content).toBe(TOKENS[0]);
    open();
    await socket.waitFor("done");
    const chunks = socket.frames.filter((frame) => frame.type === "chunk");
    expect(chunks.map((frame) => frame.content).join("")).toBe(ANSWER);
    const seqs = chunks.map((frame) => Number(frame.seq));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(chunks.length).toBeLessThan(TOKENS.length);
    await socket.close();

    const stored = await (await fetch(`${relay.url}/sessions/${String(session)}`)).json();
    const messages = (stored as { messages: Array<{ role: string; content: string }> }).messages;
    expect(messages.at(-1)).toMatchObject({ role: "assistant", content: ANSWER });
  });

  it("reaches the openai client on /v1/chat/completions whole and in order, its first token alone", async () => {
    const { script, open } = gated();
    upstream.script = script;
    const client = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: "unused" });
    const stream = await client.chat.completions.create({
      model: "test-model",
      stream: true,
      messages: [{ role: "user", content: "go" }],
    });
    const deltas: string[] = [];
    for await (const chunk of stream) {
      const content = chunk.choices[0]?.delta?.content;
      if (!content) continue;
      deltas.push(content);
      if (deltas.length === 1) {
        expect(content).toBe(TOKENS[0]);
        open();
      }
    }
    expect(deltas.join("")).toBe(ANSWER);
    expect(deltas.length).toBeLessThan(TOKENS.length);
  });
});

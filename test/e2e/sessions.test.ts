// Sessions over real sockets: history across connections, isolation, real streaming, SSE.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { TestSocket } from "../helpers/socket.ts";
import { startUpstream, type Upstream } from "../helpers/upstreams.ts";

let relay: Relay;
let upstream: Upstream;

beforeAll(async () => {
  upstream = await startUpstream("openai", { tokens: ["A", "B"] });
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
  expect(response.status).toBe(200);
  return (await response.json()) as { messages: Array<Record<string, unknown>> };
}

describe("a session", () => {
  it("keeps its history across connections and sends it upstream as context", async () => {
    upstream.script = { tokens: ["first ", "answer"] };
    const one = await TestSocket.open(`${relay.wsUrl}/chat`);
    const { session } = await one.waitFor("session");
    await one.ask("first question");
    await one.close();

    upstream.script = { tokens: ["second"] };
    const two = await TestSocket.open(`${relay.wsUrl}/chat?session=${session}`);
    expect(await two.waitFor("session")).toMatchObject({ session });
    await two.ask("second question");
    await two.close();

    expect(upstream.requests.at(-1)?.body.messages).toEqual([
      { role: "user", content: "first question" },
      { role: "assistant", content: "first answer" },
      { role: "user", content: "second question" },
    ]);
    const { messages } = await history(String(session));
    expect(messages.map((message) => [message.role, message.content, message.status])).toEqual([
      ["user", "first question", "complete"],
      ["assistant", "first answer", "complete"],
      ["user", "second question", "complete"],
      ["assistant", "second", "complete"],
    ]);
    for (const message of messages) {
      expect(message.id).toMatch(/^msg_/);
      expect(typeof message.createdAt).toBe("number");
    }
    expect(messages[1]?.usage).toEqual({ inputTokens: 11, outputTokens: 2 });
  });

  it("never shows its messages to another session", async () => {
    upstream.script = { tokens: ["private"] };
    const a = await TestSocket.open(`${relay.wsUrl}/chat`);
    const b = await TestSocket.open(`${relay.wsUrl}/chat`);
    const sessionA = String((await a.waitFor("session")).session);
    const sessionB = String((await b.waitFor("session")).session);
    expect(sessionA).not.toBe(sessionB);
    await a.ask("secret of A");
    expect(b.frames.filter((frame) => frame.type !== "session")).toEqual([]);
    expect((await history(sessionB)).messages).toEqual([]);
    expect(JSON.stringify(await history(sessionA))).toContain("secret of A");
    expect(upstream.requests.at(-1)?.body.messages).toEqual([
      { role: "user", content: "secret of A" },
    ]);
    await Promise.all([a.close(), b.close()]);
  });

  it("streams for real: the first chunk arrives while the upstream is still holding the rest", async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    upstream.script = { tokens: ["early", " late"], gate };
    const socket = await TestSocket.open(`${relay.wsUrl}/chat`);
    socket.send({ prompt: "go" });
    const first = await socket.waitFor("chunk");
    expect(first.content).toBe("early");
    expect(upstream.sent()).toBe(1);
    expect(socket.frames.some((frame) => frame.type === "done")).toBe(false);
    release();
    await socket.waitFor("done");
    await socket.close();
  });
});

describe("the SSE routes", () => {
  it("creates a session, streams an answer as text/event-stream, and returns the history", async () => {
    upstream.script = { tokens: ["over ", "SSE"] };
    const created = await fetch(`${relay.url}/sessions`, { method: "POST" });
    expect(created.status).toBe(201);
    const { session } = (await created.json()) as { session: string };

    const response = await fetch(`${relay.url}/sessions/${session}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ content: "hello" }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const body = await response.text();
    const events = body
      .trim()
      .split("\n\n")
      .map((block) => {
        const fields = Object.fromEntries(
          block
            .split("\n")
            .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
        );
        return { event: fields.event, id: fields.id, data: JSON.parse(String(fields.data)) };
      });
    expect(events.map((event) => event.event)).toEqual(["start", "chunk", "chunk", "done"]);
    for (const event of events) expect(event.id).toBe(String(event.data.seq));
    expect(
      events
        .filter((e) => e.event === "chunk")
        .map((e) => e.data.content)
        .join(""),
    ).toBe("over SSE");
    expect((await history(session)).messages.map((message) => message.content)).toEqual([
      "hello",
      "over SSE",
    ]);
  });
});

// Inside workerd, against the real Durable Object: storage cost per answer, and what survives
// an object that is aborted mid-answer.
import {
  abortAllDurableObjects,
  evictDurableObject,
  runInDurableObject,
  SELF,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ChatSession } from "../../src/session/ChatSession.ts";
import { BASE, openSocket, until } from "./support.ts";

function stub(session: string): DurableObjectStub<ChatSession> {
  return env.SESSIONS.get(env.SESSIONS.idFromName(session));
}

describe("storage cost", () => {
  it("a 1,000-token answer writes at most 20 rows (events are stored in batches)", async () => {
    const { ws, frames, session } = await openSocket();
    const before = await runInDurableObject(stub(session), (instance: ChatSession) =>
      instance.stats(),
    );
    ws.send(JSON.stringify({ prompt: "/tokens 1000" }));
    await until(() => frames.some((frame) => frame.type === "done"));
    const after = await runInDurableObject(stub(session), (instance: ChatSession) =>
      instance.stats(),
    );
    const rows = after.rowsWritten - before.rowsWritten;
    console.log(`storage rows written for a 1,000-token answer: ${rows}`);
    expect(rows).toBeLessThanOrEqual(20);
    expect(frames.filter((frame) => frame.type === "chunk")).toHaveLength(1000);
    ws.close();
  });
});

describe("an object aborted mid-answer", () => {
  it("keeps the partial answer marked incomplete, and a reconnecting client is told", async () => {
    const { ws, frames, session } = await openSocket();
    ws.send(JSON.stringify({ prompt: "/tokens 100000" }));
    // Past the first stored batch, so part of the answer is on disk and part only in memory.
    await until(() => frames.filter((frame) => frame.type === "chunk").length >= 300);
    await abortAllDurableObjects();
    const seen = frames.filter((frame) => typeof frame.seq === "number");
    const lastSeq = Number(seen.at(-1)?.seq);
    const seenText = seen
      .filter((frame) => frame.type === "chunk")
      .map((frame) => String(frame.content))
      .join("");

    const again = await openSocket(`?session=${session}&after=${lastSeq}`);
    await until(() => again.frames.some((frame) => frame.type === "done"));
    const resumed = again.frames.filter((frame) => typeof frame.seq === "number");
    expect(resumed.map((frame) => frame.type)).toEqual(["error", "done"]);
    expect(resumed[0]).toMatchObject({ code: "interrupted" });
    expect(resumed[1]).toMatchObject({ status: "incomplete" });
    expect(Number(resumed[0]?.seq)).toBeGreaterThan(lastSeq);

    const response = await SELF.fetch(`${BASE}/sessions/${session}`);
    const { messages, generating } = await response.json<{
      generating: boolean;
      messages: Array<{ role: string; content: string; status: string; errorCode?: string }>;
    }>();
    expect(generating).toBe(false);
    const answer = messages.at(-1);
    expect(answer).toMatchObject({
      role: "assistant",
      status: "incomplete",
      errorCode: "interrupted",
    });
    // What was stored is a prefix of what the client saw, and holds at least one whole batch.
    expect(seenText.startsWith(answer?.content ?? "-")).toBe(true);
    expect(answer?.content.length).toBeGreaterThanOrEqual("t0 ".length * 150);

    // A client that reconnects with no position sees the session idle, not a spinner.
    const fresh = await openSocket(`?session=${session}`);
    expect(fresh.frames[0]).toMatchObject({ generating: false });
    again.ws.close();
    fresh.ws.close();
  });
});

describe("hibernation", () => {
  it("a socket outlives its object's eviction: the next prompt wakes it and numbering continues", async () => {
    const { ws, frames, session } = await openSocket();
    ws.send(JSON.stringify({ prompt: "/tokens 3" }));
    await until(() => frames.filter((frame) => frame.type === "done").length === 1);
    await evictDurableObject(stub(session));

    ws.send(JSON.stringify({ prompt: "/tokens 3" }));
    await until(() => frames.filter((frame) => frame.type === "done").length === 2);
    const seqs = frames.filter((frame) => typeof frame.seq === "number").map((f) => f.seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    ws.close();
  });

  it("answers the keep-alive ping without waking the object", async () => {
    const { ws, frames, session } = await openSocket();
    await evictDurableObject(stub(session));
    ws.send('{"type":"ping"}');
    await until(() => frames.some((frame) => frame.type === "pong"));
    // The runtime answered it (the auto-response timestamp is set), not webSocketMessage.
    const last = await runInDurableObject(stub(session), (_instance, state) =>
      state.getWebSocketAutoResponseTimestamp(state.getWebSockets()[0] as WebSocket),
    );
    expect(last).toBeInstanceOf(Date);
    ws.close();
  });
});

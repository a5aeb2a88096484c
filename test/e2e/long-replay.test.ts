// A replay far longer than an SSE listener's queue (1,024 frames) reaches the client whole:
// the reader pulls it, so a late joiner of a long answer is never dropped as a slow reader.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { openSse, readAll } from "../helpers/sse.ts";

const TOKENS = 3_000;
let relay: Relay;
beforeAll(async () => {
  relay = await startRelay({ DEMO_DELAY_MS: "0" });
});
afterAll(() => relay.dispose());

describe("a long replay over SSE", () => {
  it("gives a client resuming from seq 0 every one of 3,000 chunks, then live", async () => {
    const created = await fetch(`${relay.url}/sessions`, { method: "POST" });
    const { session } = (await created.json()) as { session: string };
    const answer = await openSse(`${relay.url}/sessions/${session}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ content: `/tokens ${TOKENS}` }),
    });
    const asked = await readAll(answer);
    expect(asked.at(-1)?.data).toMatchObject({ type: "done", status: "complete" });

    const replay = await openSse(`${relay.url}/sessions/${session}/events`, {
      headers: { "last-event-id": "0" },
    });
    const chunks: string[] = [];
    for (;;) {
      const event = await replay.next();
      if (!event) break;
      expect(event.event).not.toBe("error");
      if (event.event === "chunk") chunks.push(String(event.data.content));
      if (event.event === "done") break;
    }
    replay.drop();
    expect(chunks).toHaveLength(TOKENS);
    expect(chunks.join("")).toBe(Array.from({ length: TOKENS }, (_, i) => `t${i} `).join(""));
  });
});

// Streams that survive: random drops and resumes over WebSocket and SSE lose nothing and
// repeat nothing; every client of a session sees the same events; late joiners catch up.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mulberry32 } from "../helpers/rechunk.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { type Frame, TestSocket } from "../helpers/socket.ts";
import { openSse } from "../helpers/sse.ts";
import { sweep } from "../helpers/sweep.ts";

const TOKENS = 60;
const WS_CYCLES = sweep(10, 40);
const SSE_CYCLES = sweep(5, 15);
const EXPECTED = Array.from({ length: TOKENS }, (_, i) => `t${i} `).join("");

let relay: Relay;
beforeAll(async () => {
  relay = await startRelay({ DEMO_DELAY_MS: "2" });
});
afterAll(() => relay.dispose());

/** The seq-bearing events of one answer, checked to be gapless and unrepeated. */
function assembled(events: Array<Record<string, unknown>>): string {
  const sequenced = events.filter((event) => typeof event.seq === "number");
  const seqs = sequenced.map((event) => Number(event.seq));
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => (seqs[0] ?? 0) + i));
  expect(sequenced[0]?.type).toBe("start");
  expect(sequenced.at(-1)).toMatchObject({ type: "done", status: "complete" });
  return sequenced
    .filter((event) => event.type === "chunk")
    .map((event) => String(event.content))
    .join("");
}

describe("resuming a WebSocket", () => {
  it(`after random drops gives byte-identical answers with every seq exactly once (${WS_CYCLES} cycles)`, async () => {
    const random = mulberry32(20261126);
    const first = await TestSocket.open(`${relay.wsUrl}/chat`);
    const session = String((await first.waitFor("session")).session);
    let socket = first;
    let lastSeq = 0;
    let drops = 0;
    for (let cycle = 0; cycle < WS_CYCLES; cycle += 1) {
      const received: Frame[] = [];
      const keep = (frames: Frame[]) => {
        for (const frame of frames) {
          if (typeof frame.seq !== "number") continue;
          received.push(frame);
          lastSeq = frame.seq;
        }
      };
      let from = socket.frames.length;
      socket.send({ prompt: `/tokens ${TOKENS}` });
      for (;;) {
        // Drop after 0..25 more frames: before the first chunk, mid-answer, or after done.
        const end = from + Math.floor(random() * 26);
        const isDone = (frame: Frame) => frame.type === "done";
        await socket.until(
          () => socket.frames.length >= end || socket.frames.slice(from).some(isDone),
        );
        const doneAt = socket.frames.findIndex((frame, i) => i >= from && isDone(frame));
        keep(socket.frames.slice(from, doneAt >= 0 && doneAt < end ? doneAt + 1 : end));
        if (received.at(-1)?.type === "done") break;
        await socket.close();
        drops += 1;
        socket = await TestSocket.open(`${relay.wsUrl}/chat?session=${session}&after=${lastSeq}`);
        await socket.waitFor("session");
        from = 1;
      }
      expect(assembled(received)).toBe(EXPECTED);
      if (random() < 0.3) {
        // Drop after done too: the resume must bring nothing new.
        await socket.close();
        socket = await TestSocket.open(`${relay.wsUrl}/chat?session=${session}&after=${lastSeq}`);
        await socket.waitFor("session");
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(socket.frames.filter((frame) => typeof frame.seq === "number")).toEqual([]);
      }
    }
    expect(drops).toBeGreaterThan(WS_CYCLES / 2);
    await socket.close();
  });
});

describe("resuming SSE with Last-Event-ID", () => {
  it(`after random drops gives byte-identical answers with every id exactly once (${SSE_CYCLES} cycles)`, async () => {
    const random = mulberry32(7);
    const created = await fetch(`${relay.url}/sessions`, { method: "POST" });
    const { session } = (await created.json()) as { session: string };
    const eventsUrl = `${relay.url}/sessions/${session}/events`;
    let lastId: string | undefined;
    let drops = 0;
    for (let cycle = 0; cycle < SSE_CYCLES; cycle += 1) {
      const received: Array<Record<string, unknown>> = [];
      let stream = await openSse(eventsUrl);
      expect((await stream.next())?.event).toBe("session");
      const post = await fetch(`${relay.url}/sessions/${session}/messages`, {
        method: "POST",
        body: JSON.stringify({ content: `/tokens ${TOKENS}` }),
      });
      // The poster leaves at once; the answer goes on for the other listener.
      await post.body?.cancel();
      for (;;) {
        for (let budget = Math.floor(random() * 26); budget > 0; budget -= 1) {
          const event = await stream.next();
          if (!event) break;
          expect(event, JSON.stringify(event)).toMatchObject({ id: String(event.data.seq) });
          received.push(event.data);
          lastId = event.id;
          if (event.event === "done") break;
        }
        if (received.at(-1)?.type === "done") break;
        stream.drop();
        drops += 1;
        stream = await openSse(eventsUrl, { headers: lastId ? { "last-event-id": lastId } : {} });
        expect((await stream.next())?.event).toBe("session");
      }
      stream.drop();
      expect(assembled(received)).toBe(EXPECTED);
    }
    expect(drops).toBeGreaterThan((SSE_CYCLES * 2) / 3);
  });
});

describe("fan-out", () => {
  it("gives two sockets, an SSE listener and a late joiner the same events", async () => {
    const a = await TestSocket.open(`${relay.wsUrl}/chat`);
    const session = String((await a.waitFor("session")).session);
    const b = await TestSocket.open(`${relay.wsUrl}/chat?session=${session}`);
    await b.waitFor("session");
    const sse = await openSse(`${relay.url}/sessions/${session}/events`);
    expect((await sse.next())?.event).toBe("session");

    a.send({ prompt: "/tokens 120" });
    await b.next((frame) => frame.type === "chunk" && frame.content === "t10 ");
    const late = await TestSocket.open(`${relay.wsUrl}/chat?session=${session}`);
    expect(await late.waitFor("session")).toMatchObject({ generating: true });

    const sseEvents: Array<Record<string, unknown>> = [];
    for (;;) {
      const event = await sse.next();
      if (!event) break;
      sseEvents.push(event.data);
      if (event.event === "done") break;
    }
    sse.drop();
    const sequenced = (socket: TestSocket) =>
      socket.waitFor("done").then(() => socket.frames.filter((frame) => "seq" in frame));
    const [fromA, fromB, fromLate] = await Promise.all([
      sequenced(a),
      sequenced(b),
      sequenced(late),
    ]);
    expect(fromA).toHaveLength(122);
    expect(fromB).toEqual(fromA);
    expect(sseEvents).toEqual(fromA);
    expect(fromLate).toEqual(fromA);
    await Promise.all([a.close(), b.close(), late.close()]);
  });
});

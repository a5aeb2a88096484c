// Resuming over /api/chat/ws with the `ai` package's WebSocketChatTransport: a new transport
// replays the answer in progress whole, or exactly the chunks after a lastSequence; a closed
// transport never ends the answer. Then the same, closed at random points many times over.
import type { UIMessageChunk } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mulberry32 } from "../helpers/rechunk.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import {
  ask,
  assemble,
  chatTransport,
  demoTokens,
  newSession,
  readAll,
  resume,
  startedMessageId,
  storedMessages,
  textOf,
} from "../helpers/ws-chat.ts";

let demo: Relay;

beforeAll(async () => {
  demo = await startRelay({ DEMO_DELAY_MS: "3" });
});
afterAll(() => demo.dispose());

/** Where a reader stops: after so many chunks, or after so many milliseconds. */
type Cut = { chunks: number } | { ms: number };

/**
 * Reads `stream` into `into` until `cut` (never, without one); true when the stream ended
 * first. A read still pending at the cut is dropped, as a connection that dies drops it.
 */
async function readUntil(
  stream: ReadableStream<UIMessageChunk>,
  into: UIMessageChunk[],
  cut?: Cut,
): Promise<boolean> {
  const reader = stream.getReader();
  const timeUp =
    cut && "ms" in cut
      ? new Promise<"cut">((resolve) => setTimeout(resolve, cut.ms, "cut"))
      : undefined;
  for (let taken = 0; ; taken += 1) {
    if (cut && "chunks" in cut && taken >= cut.chunks) return false;
    const read = reader.read();
    // Closing the transport errors the stream under a pending read; that read is abandoned.
    read.catch(() => {});
    const next = timeUp ? await Promise.race([read, timeUp]) : await read;
    if (next === "cut") return false;
    if (next.done) return true;
    into.push(next.value);
  }
}

describe("reconnectToStream on /api/chat/ws", () => {
  it("replays the answer in progress whole to a new transport, then finds nothing to resume", async () => {
    const chatId = "replayed-chat";
    const first = chatTransport(demo);
    const seen: UIMessageChunk[] = [];
    await readUntil(await ask(first, chatId, "/tokens 300"), seen, { chunks: 20 });
    // The socket closes mid-answer; the answer goes on in its session.
    first.close();

    const second = chatTransport(demo);
    const chunks = await readAll(await resume(second, { chatId }));
    expect(chunks.slice(0, 20)).toEqual(seen);
    expect(textOf(await assemble(chunks))).toBe(demoTokens(300));

    expect(await second.reconnectToStream({ chatId })).toBeNull();
    expect(await chatTransport(demo).reconnectToStream({ chatId: "never-used" })).toBeNull();
    second.close();
  });

  it("resumes after a lastSequence set in prepareReconnectToStreamRequest with exactly the rest", async () => {
    const chatId = "continued-chat";
    const first = chatTransport(demo);
    const seen: UIMessageChunk[] = [];
    await readUntil(await ask(first, chatId, "/tokens 200"), seen, { chunks: 25 });
    first.close();
    const messageId = startedMessageId(seen[0]);
    expect(messageId).toMatch(/^msg_/);

    const second = chatTransport(demo, {
      prepareReconnectToStreamRequest: ({ body }) => ({
        body: { ...body, lastSequence: seen.length - 1, messageId },
      }),
    });
    const rest = await readAll(await resume(second, { chatId }));
    const whole = [...seen, ...rest];
    const deltas = whole.flatMap((chunk) => (chunk.type === "text-delta" ? [chunk.delta] : []));
    expect(deltas.join("")).toBe(demoTokens(200));
    expect(whole.map((chunk) => chunk.type)).toEqual([
      ...["start", "start-step", "text-start"],
      ...deltas.map(() => "text-delta"),
      ...["text-end", "finish-step", "finish"],
    ]);
    expect(textOf(await assemble(whole))).toBe(demoTokens(200));

    // A later answer in the same chat is not the one that resume point belongs to.
    const third = chatTransport(demo);
    const later: UIMessageChunk[] = [];
    await readUntil(await ask(third, chatId, "/tokens 150"), later, { chunks: 3 });
    const stale = { lastSequence: 24, messageId };
    expect(await third.reconnectToStream({ chatId, body: stale })).toBeNull();
    const current = { lastSequence: 2, messageId: startedMessageId(later[0]) };
    const tail = await readAll(await resume(third, { chatId, body: current }));
    expect(textOf(await assemble([...later, ...tail]))).toBe(demoTokens(150));
    third.close();
    second.close();
  });
});

const SEED = 0x5eed_ab1e;
const CYCLES = 20;
const TOKENS = 1500;

it(`assembles the uninterrupted message after ${CYCLES} random closes, each resumed with lastSequence`, async () => {
  const random = mulberry32(SEED);
  const prompt = `/tokens ${TOKENS}`;
  const reference = chatTransport(demo);
  const uninterrupted = ask(reference, "uninterrupted-chat", prompt).then(readAll);

  const chatId = await newSession(demo);
  const received: UIMessageChunk[] = [];
  let transport = chatTransport(demo);
  let stream: ReadableStream<UIMessageChunk> | null = await ask(transport, chatId, prompt);
  let cycles = 0;
  while (stream) {
    const cut: Cut | undefined =
      cycles === CYCLES
        ? undefined
        : random() < 0.5
          ? { chunks: Math.floor(random() * 40) }
          : { ms: Math.floor(random() * 40) };
    const ended = await readUntil(stream, received, cut);
    transport.close();
    if (ended) break;
    cycles += 1;
    transport = chatTransport(demo);
    // Nothing read yet: a plain resume, which replays from the start.
    const body =
      received.length === 0
        ? {}
        : { lastSequence: received.length - 1, messageId: startedMessageId(received[0]) };
    stream = await transport.reconnectToStream({ chatId, body });
    if (!stream)
      throw new Error(`seed ${SEED}, cycle ${cycles}: the answer ended before the resume`);
  }
  expect(cycles).toBe(CYCLES);

  const messageId = startedMessageId(received[0]);
  const expected = (await uninterrupted).map((chunk) =>
    chunk.type === "start" ? { ...chunk, messageId } : chunk,
  );
  expect(received).toEqual(expected);
  const [message, whole] = await Promise.all([assemble(received), assemble(expected)]);
  expect(message).toEqual(whole);
  expect(textOf(message)).toBe(demoTokens(TOKENS));
  const stored = await storedMessages(demo, chatId);
  expect(stored.map((m) => [m.content, m.status])).toEqual([
    [prompt, "complete"],
    [demoTokens(TOKENS), "complete"],
  ]);
  reference.close();
}, 20_000);

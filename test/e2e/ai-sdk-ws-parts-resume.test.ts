// Exact resume across parts on /api/chat/ws: an answer with reasoning, text and two tool calls
// (the demo model, streamed slowly) is resumed after 200 seeded random chunks with the SDK's
// WebSocketChatTransport; every resume gives exactly the chunks after its point, and the
// message assembled from what was read plus the resume equals the stored message's parts.
import type { UIMessageChunk } from "ai";
import { afterAll, beforeAll, expect, it } from "vitest";
import { storedParts, uiParts } from "../helpers/parts-shape.ts";
import { mulberry32 } from "../helpers/rechunk.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { sweep } from "../helpers/sweep.ts";
import {
  ask,
  assemble,
  chatTransport,
  newSession,
  readAll,
  resume,
  startedMessageId,
} from "../helpers/ws-chat.ts";

const SEED = 0x9a27_5e5d;
const RESUMES = sweep(100, 200);
const TRANSPORTS = 4;
/** Resume points fall in the first SPAN chunks. */
const SPAN = 50;
const PROMPT = '/tool weather {"city":"Paris","units":"c"}\n/tokens 24\n/tool time CET';

let demo: Relay;

beforeAll(async () => {
  demo = await startRelay({ DEMO_DELAY_MS: "40" });
});
afterAll(async () => {
  await demo.dispose();
});

async function storedAnswerParts(session: string) {
  const response = await fetch(`${demo.url}/sessions/${session}`);
  const { messages } = (await response.json()) as {
    messages: Array<{ role: string; parts: Array<Record<string, unknown>> }>;
  };
  return storedParts(messages.at(-1)?.parts ?? []);
}

it(`resumes after ${RESUMES} random points across reasoning, text and tool-input parts, exactly`, async () => {
  const random = mulberry32(SEED);
  const session = await newSession(demo);
  const asker = chatTransport(demo);
  const stream = await ask(asker, session, PROMPT);
  const reader = stream.getReader();
  const first = await reader.read();
  if (first.done) throw new Error("the answer ended before it began");
  const messageId = startedMessageId(first.value);
  const rest = new ReadableStream<UIMessageChunk>({
    async pull(controller) {
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  });
  const whole = readAll(rest).then((chunks) => [first.value, ...chunks]);

  // Resume points spread over the answer's first chunks (about 90 unloaded; a loaded machine's
  // demo joins some deltas); all resumes start while it streams.
  const points = Array.from({ length: RESUMES }, () => Math.floor(random() * SPAN));
  const transports = Array.from({ length: TRANSPORTS }, () => chatTransport(demo));
  const resumed = await Promise.all(
    points.map(async (after, index) => {
      const transport = transports[index % TRANSPORTS];
      if (!transport) throw new Error("no transport");
      return readAll(
        await resume(transport, { chatId: session, body: { lastSequence: after, messageId } }),
      );
    }),
  );
  const reference = await whole;
  for (const transport of [asker, ...transports]) transport.close();

  expect(reference.length).toBeGreaterThan(SPAN);
  const kinds = new Set(reference.map((chunk) => chunk.type));
  for (const kind of [
    "reasoning-delta",
    "text-delta",
    "tool-input-delta",
    "tool-input-available",
  ]) {
    expect(kinds.has(kind as UIMessageChunk["type"])).toBe(true);
  }
  const stored = await storedAnswerParts(session);
  const expected = uiParts(await assemble(reference));
  expect(expected).toEqual(stored);
  const insideParts = new Set<string>();
  for (const [index, after] of points.entries()) {
    // The chunk at `after` tells which part the resume landed in.
    const at = reference[after];
    if (at?.type.endsWith("-delta") || at?.type.endsWith("-start")) insideParts.add(at.type);
    const got = resumed[index] ?? [];
    expect(got, `seed ${SEED}, resume ${index} after ${after}`).toEqual(reference.slice(after + 1));
    const message = await assemble([...reference.slice(0, after + 1), ...got]);
    expect(uiParts(message), `seed ${SEED}, resume ${index} after ${after}`).toEqual(stored);
  }
  // The points landed inside every kind of part, not only between them.
  expect([...insideParts].sort()).toEqual(
    expect.arrayContaining(["reasoning-delta", "text-delta", "tool-input-delta"]),
  );
}, 60_000);

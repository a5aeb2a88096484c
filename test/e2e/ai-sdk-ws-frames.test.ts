// /api/chat/ws from a raw Node WebSocket: the exact numbering of chunks, and every malformed
// frame we can think of, each answered exactly while another chat on the socket completes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WsChatResponse } from "../../src/routes/ai-sdk-ws-wire.ts";
import { record } from "../helpers/record.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { type Frame, TestSocket } from "../helpers/socket.ts";
import { demoTokens, newSession } from "../helpers/ws-chat.ts";

let demo: Relay;

beforeAll(async () => {
  demo = await startRelay({ DEMO_DELAY_MS: "3" });
});
afterAll(() => demo.dispose());

const user = (text: string) => ({ id: "u1", role: "user", parts: [{ type: "text", text }] });

/** A `send` frame as the transport builds it. */
const send = (requestId: string, id: string, text: string, extra: object = {}) => ({
  type: "send",
  requestId,
  id,
  trigger: "submit-message",
  messages: [user(text)],
  headers: {},
  body: {},
  ...extra,
});

/** A `resume` frame as the transport builds it. */
const resume = (requestId: string, id: string, extra: object = {}) => ({
  type: "resume",
  requestId,
  id,
  headers: {},
  body: {},
  ...extra,
});

const chunksOf = (socket: TestSocket, requestId: string) =>
  socket.frames.filter((frame) => frame.requestId === requestId && frame.type === "chunk");
/** The text a chunk frame adds, if it is a text delta. */
function deltaOf(frame: Frame): string[] {
  const { chunk } = frame;
  const isDelta = typeof chunk === "object" && chunk !== null && "delta" in chunk;
  return isDelta && typeof chunk.delta === "string" ? [chunk.delta] : [];
}
const ended = (socket: TestSocket, requestId: string) =>
  socket.next((frame) => frame.requestId === requestId && frame.type === "end");

describe("sequence numbers", () => {
  it("number chunks by position in the message; lastSequence resumes right after any of them", async () => {
    const session = await newSession(demo);
    const socket = await TestSocket.open(`${demo.wsUrl}/api/chat/ws`);
    socket.send(send("ask", session, "/tokens 200"));
    await socket.until(() => chunksOf(socket, "ask").length >= 10);
    // The protocol's own field keeps positions; the stock transport's `body` route starts at 0.
    socket.send(resume("kept", session, { lastSequence: 5 }));
    socket.send(resume("renumbered", session, { body: { lastSequence: 5 } }));
    await Promise.all(["ask", "kept", "renumbered"].map((id) => ended(socket, id)));

    const asked = chunksOf(socket, "ask");
    expect(asked.map((frame) => frame.sequence)).toEqual(asked.map((_, i) => i));
    // Position 0 and 1 come from the session's `start` event, 2 and 3 from its first chunk
    // event, then one per chunk event, and the last three from its `done` event.
    expect(asked.slice(1, 5).map((frame) => frame.chunk)).toEqual([
      { type: "start-step" },
      { type: "text-start", id: "text" },
      { type: "text-delta", id: "text", delta: "t0 " },
      { type: "text-delta", id: "text", delta: "t1 " },
    ]);
    expect(asked.slice(-3).map((frame) => frame.chunk)).toEqual([
      { type: "text-end", id: "text" },
      { type: "finish-step" },
      { type: "finish", finishReason: "stop" },
    ]);
    const kept = chunksOf(socket, "kept");
    expect(kept).toEqual(asked.slice(6).map((frame) => ({ ...frame, requestId: "kept" })));
    const renumbered = chunksOf(socket, "renumbered");
    expect(renumbered.map((frame) => frame.chunk)).toEqual(asked.slice(6).map((f) => f.chunk));
    expect(renumbered.map((frame) => frame.sequence)).toEqual(renumbered.map((_, i) => i));
    expect(socket.frames.filter((frame) => frame.type === "start")).toEqual([
      { type: "start", requestId: "kept" },
      { type: "start", requestId: "renumbered" },
    ]);
    await socket.close();
  });
});

const error = (requestId: string, errorText: string): WsChatResponse => ({
  type: "error",
  requestId,
  errorText,
});
const invalid = (requestId: string, message: string) =>
  error(requestId, `invalid_request: ${message}`);
const BAD_ID = 'The chat "id" must be 1 to 64 characters of A-Z, a-z, 0-9, "_" and "-".';
const BAD_REQUEST_ID = '"requestId" must be a string of 1 to 128 characters.';

/** A frame (built for the other chat's id, `chat`) and the exact answer; null: no answer. */
type Row = [string, (chat: string) => unknown, WsChatResponse | null];

const ROWS: Row[] = [
  [
    "text that is not JSON",
    () => "{nope",
    error("", expect.stringMatching(/^invalid_json: The frame is not valid JSON: ./)),
  ],
  [
    "a binary frame",
    () => new Uint8Array([123, 125]),
    invalid("", "Binary frames are not supported; send JSON text."),
  ],
  ["a JSON array", () => "[]", invalid("", "The frame must be a JSON object.")],
  ["a JSON string", () => '"send"', invalid("", "The frame must be a JSON object.")],
  ["no requestId", () => ({ type: "abort" }), invalid("", BAD_REQUEST_ID)],
  [
    "a numeric requestId",
    () => ({ ...send("x", "c", "hi"), requestId: 7 }),
    invalid("", BAD_REQUEST_ID),
  ],
  ["an empty requestId", () => resume("", "c"), invalid("", BAD_REQUEST_ID)],
  [
    "a requestId over 128 characters",
    () => resume("r".repeat(129), "c"),
    invalid("", BAD_REQUEST_ID),
  ],
  [
    "an unknown type",
    () => ({ type: "subscribe", requestId: "r" }),
    invalid("r", '"type" must be "send", "resume" or "abort".'),
  ],
  [
    "no type",
    () => ({ requestId: "r" }),
    invalid("r", '"type" must be "send", "resume" or "abort".'),
  ],
  [
    "headers with a number",
    () => send("r", "c", "hi", { headers: { "x-n": 1 } }),
    invalid("r", '"headers" must be an object of strings.'),
  ],
  [
    "no body",
    () => ({ ...resume("r", "c"), body: undefined }),
    invalid("r", '"body" must be an object.'),
  ],
  ["a chat id with a space", () => resume("r", "a b"), invalid("r", BAD_ID)],
  ["a numeric chat id", () => send("r", "c", "hi", { id: 5 }), invalid("r", BAD_ID)],
  [
    "a negative lastSequence",
    () => resume("r", "c", { lastSequence: -1 }),
    invalid("r", '"lastSequence" must be a whole number of 0 or more.'),
  ],
  [
    "a fractional body.lastSequence",
    () => resume("r", "c", { body: { lastSequence: 1.5 } }),
    invalid("r", '"body.lastSequence" must be a whole number of 0 or more.'),
  ],
  [
    "a numeric body.messageId",
    () => resume("r", "c", { body: { messageId: 5 } }),
    invalid("r", '"body.messageId" must be a string.'),
  ],
  [
    "an unknown trigger",
    () => send("r", "c", "hi", { trigger: "resume-stream" }),
    invalid("r", '"trigger" must be one of submit-message, regenerate-message.'),
  ],
  [
    "messages that are not an array",
    () => send("r", "c", "hi", { messages: {} }),
    invalid("r", '"messages" must be a non-empty array of UI messages.'),
  ],
  [
    "a blank prompt",
    () => send("r", "c", "   "),
    error("r", 'prompt_empty: "messages[0].parts" is empty.'),
  ],
  [
    "a frame over 1 MiB",
    () => JSON.stringify(send("r", "c", "x".repeat(1024 * 1024))),
    error("", "frame_too_large: Frames are limited to 1048576 characters."),
  ],
  [
    "a requestId in use on the socket",
    () => send("ok", "other-chat", "hi"),
    invalid("ok", "This requestId is already in use on this socket."),
  ],
  [
    "a question to the chat while it answers",
    (chat) => send("r", chat, "/tokens 1"),
    error(
      "r",
      "busy: An answer is already streaming in this session; wait for its done event or cancel it.",
    ),
  ],
  [
    "a resume of an idle chat",
    () => resume("r", "idle-chat"),
    { type: "no-active", requestId: "r" },
  ],
  ["an abort of a request that is not running", () => ({ type: "abort", requestId: "gone" }), null],
];

describe("malformed frames", () => {
  let rows = 0;
  it.each(ROWS)("answers %s exactly; the other chat goes on", async (_what, frame, expected) => {
    rows += 1;
    const chat = `frames-chat-${rows}`;
    const socket = await TestSocket.open(`${demo.wsUrl}/api/chat/ws`);
    socket.send(send("ok", chat, "/tokens 30"));
    await socket.next((f) => f.requestId === "ok" && f.type === "chunk");
    const payload = frame(chat);
    if (payload instanceof Uint8Array) socket.ws.send(payload);
    else socket.send(payload);
    const isOkStream = (f: Frame) =>
      f.requestId === "ok" && (f.type === "chunk" || f.type === "end");
    if (expected) await socket.next((f) => !isOkStream(f));
    await ended(socket, "ok");
    expect(socket.frames.filter((f) => !isOkStream(f))).toEqual(expected ? [expected] : []);
    expect(chunksOf(socket, "ok").flatMap(deltaOf).join("")).toBe(demoTokens(30));
    await socket.close();
  });

  it("refuses plain HTTP on the route", async () => {
    const get = await fetch(`${demo.url}/api/chat/ws`);
    const post = await fetch(`${demo.url}/api/chat/ws`, { method: "POST" });
    const bodies = [await get.text(), await post.text()];
    for (const body of bodies) record(body);
    expect([get.status, post.status]).toEqual([426, 405]);
    expect(JSON.parse(bodies[0] ?? "")).toMatchObject({ error: { code: "upgrade_required" } });
  });
});

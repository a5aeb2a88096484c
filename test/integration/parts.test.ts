// Inside workerd, against the real Durable Object: answers stored as parts, the migration of a
// database written by the schema before parts, and the client tool round trip over /chat.
import { evictDurableObject, runInDurableObject, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PartsAssembler } from "../../src/client/parts.ts";
import type { MessagePart, SessionEvent, StoredMessage } from "../../src/protocol.ts";
import type { ChatSession } from "../../src/session/ChatSession.ts";
import { SessionStore } from "../../src/session/store.ts";
import { BASE, openSocket, until } from "./support.ts";

function stub(session: string): DurableObjectStub<ChatSession> {
  return env.SESSIONS.get(env.SESSIONS.idFromName(session));
}

/** The schema and inserts of the store before parts (commit 126ce7f), verbatim. */
const OLD_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
  position INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  finish TEXT,
  error_code TEXT,
  input_tokens INTEGER,
  output_tokens INTEGER
);
CREATE TABLE IF NOT EXISTS events (
  first_seq INTEGER PRIMARY KEY,
  last_seq INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  frames TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS message_pieces (
  position INTEGER NOT NULL,
  piece INTEGER NOT NULL,
  content TEXT NOT NULL,
  PRIMARY KEY (position, piece)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS event_pieces (
  first_seq INTEGER NOT NULL,
  piece INTEGER NOT NULL,
  frames TEXT NOT NULL,
  PRIMARY KEY (first_seq, piece)
) WITHOUT ROWID;`;

type Frame = Record<string, unknown>;

/** The parts a client assembles from the frames of `messageId`. */
function assembled(frames: readonly Frame[], messageId: string): MessagePart[] {
  const assembler = new PartsAssembler();
  for (const frame of frames) {
    // Frames the Worker sent, parsed from JSON: the test trusts their shape.
    if (frame.messageId === messageId) assembler.apply(frame as unknown as SessionEvent);
  }
  return assembler.parts;
}

async function history(session: string): Promise<StoredMessage[]> {
  const response = await SELF.fetch(`${BASE}/sessions/${session}`);
  return (await response.json<{ messages: StoredMessage[] }>()).messages;
}

const sent = (ws: WebSocket, frame: object) => ws.send(JSON.stringify(frame));

describe("the migration of a database written before parts", () => {
  it("adds the parts column; old rows read as one text part; new answers store parts", async () => {
    const id = env.SESSIONS.idFromName(`migration-${Date.now()}`);
    await runInDurableObject(env.SESSIONS.get(id), (_instance, state) => {
      state.storage.sql.exec(OLD_SCHEMA);
      state.storage.sql.exec(
        "INSERT INTO messages (id, role, content, status, created_at) VALUES (?, ?, ?, ?, ?)",
        "u1",
        "user",
        "hello",
        "complete",
        1,
      );
      state.storage.sql.exec(
        "INSERT INTO messages (id, role, content, status, created_at, finish, input_tokens, output_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        "a1",
        "assistant",
        "old answer",
        "complete",
        1,
        "stop",
        3,
        2,
      );
      const store = new SessionStore(state.storage);
      const [user, answer] = store.history();
      expect(user).toMatchObject({ content: "hello", parts: [{ type: "text", text: "hello" }] });
      expect(answer).toMatchObject({
        content: "old answer",
        finish: "stop",
        parts: [{ type: "text", text: "old answer" }],
        usage: { inputTokens: 3, outputTokens: 2 },
      });
      const parts: MessagePart[] = [
        { type: "step-start" },
        { type: "reasoning", text: "thinking", signature: "sig" },
        { type: "text", text: "new" },
      ];
      const position = store.insertPrompt(
        { id: "u2", role: "user", content: "again", status: "complete", createdAt: 2 },
        "a2",
      );
      store.finishMessage(position, { content: "new", parts, status: "complete" });
      // Opening it again (a restart) migrates nothing twice.
      const reopened = new SessionStore(state.storage);
      expect(reopened.history().at(-1)).toMatchObject({ content: "new", parts });
    });
  });

  it("stores parts over 2 MB in pieces under the row limit", async () => {
    const id = env.SESSIONS.idFromName(`pieces-${Date.now()}`);
    await runInDurableObject(env.SESSIONS.get(id), (_instance, state) => {
      const store = new SessionStore(state.storage);
      const text = "é".repeat(1_500_000);
      const parts: MessagePart[] = [
        { type: "step-start" },
        { type: "reasoning", text },
        { type: "text", text },
      ];
      const position = store.insertPrompt(
        { id: "u", role: "user", content: "x", status: "complete", createdAt: 1 },
        "a",
      );
      store.finishMessage(position, { content: text, parts, status: "complete" });
      expect(store.messageAt(position)).toMatchObject({ content: text, parts });
      const [row] = state.storage.sql
        .exec<{ bytes: number }>(
          "SELECT length(CAST(content AS BLOB)) + length(CAST(parts AS BLOB)) AS bytes FROM messages WHERE position = ?",
          position,
        )
        .toArray();
      expect(row?.bytes).toBeLessThanOrEqual(1_000_000);
    });
  });
});

describe("a client tool round trip over /chat (demo model)", () => {
  it("waits for results, refuses bad ones, continues as the same message, and stores every part", async () => {
    const { ws, frames, session } = await openSocket();
    sent(ws, {
      prompt: "/tool weather Paris",
      tools: [{ name: "weather", inputSchema: { type: "object" } }],
    });
    const first = await until(() =>
      frames.find((frame) => frame.type === "done" && frame.finish === "tool_calls"),
    );
    const messageId = String(first.messageId);
    const call = frames.find((frame) => frame.type === "tool-call");
    expect(call).toMatchObject({ toolName: "weather", input: { query: "Paris" } });
    expect(
      frames.some((frame) => frame.type === "reasoning-start" && frame.partId === "s0-reasoning-0"),
    ).toBe(true);
    const toolCallId = String(call?.toolCallId);

    const errors = () =>
      frames.filter((frame) => frame.type === "error" && frame.seq === undefined);
    sent(ws, { prompt: "another" });
    await until(() => errors().length === 1);
    sent(ws, { type: "tool-results", results: [{ toolCallId: "call_nope", output: 1 }] });
    await until(() => errors().length === 2);
    sent(ws, {
      type: "tool-results",
      results: [
        { toolCallId, output: 1 },
        { toolCallId, output: 2 },
      ],
    });
    await until(() => errors().length === 3);
    sent(ws, { type: "tool-results", results: [{ toolCallId, output: "x".repeat(70_000) }] });
    await until(() => errors().length === 4);
    expect(errors().map((frame) => frame.code)).toEqual([
      "busy",
      "tool_call_unknown",
      "tool_result_duplicate",
      "tool_input_too_large",
    ]);
    // Refusals changed nothing: the answer still waits for exactly this call.
    expect((await history(session)).at(-1)?.parts?.at(-1)).toMatchObject({
      state: "input-available",
    });

    // Evicted while waiting: the wait is in storage, not memory.
    await evictDurableObject(stub(session));
    const again = await openSocket(`?session=${session}`);
    sent(again.ws, {
      type: "tool-results",
      results: [{ toolCallId, output: { temperature: 21, unit: "C" } }],
    });
    await until(() =>
      again.frames.some((frame) => frame.type === "done" && frame.status === "complete"),
    );
    const types = again.frames
      .filter((frame) => frame.seq !== undefined)
      .map((frame) => frame.type);
    expect(types[0]).toBe("tool-result");
    expect(types[1]).toBe("step");
    expect(again.frames.find((frame) => frame.type === "step")).toMatchObject({
      messageId,
      step: 1,
    });
    const text = again.frames
      .filter((frame) => frame.type === "chunk")
      .map((frame) => frame.content)
      .join("");
    expect(text).toContain('The weather tool returned {"temperature":21,"unit":"C"}.');

    const answer = (await history(session)).at(-1);
    expect(answer).toMatchObject({ id: messageId, status: "complete", content: text });
    expect(answer?.parts?.map((part) => part.type)).toEqual([
      "step-start",
      "reasoning",
      "tool-call",
      "step-start",
      "text",
    ]);
    expect(answer?.parts?.[2]).toMatchObject({
      state: "output-available",
      output: { temperature: 21, unit: "C" },
    });
    // Every event of the answer, from `start`, assembles to the stored parts.
    const resumed = await openSocket(`?session=${session}&after=0`);
    await until(() => resumed.frames.filter((frame) => frame.type === "done").length >= 2);
    expect(assembled(resumed.frames, messageId)).toEqual(answer?.parts);

    sent(again.ws, { type: "tool-results", results: [{ toolCallId, output: 1 }] });
    await until(() => again.frames.some((frame) => frame.code === "no_tool_call_pending"));
    for (const socket of [ws, again.ws, resumed.ws]) socket.close();
  });

  it("cancel drops the wait: the answer keeps its parts as cancelled and the session takes prompts", async () => {
    const { ws, frames, session } = await openSocket();
    sent(ws, { prompt: "/tool weather Paris" });
    await until(() => frames.some((frame) => frame.type === "done"));
    sent(ws, { type: "cancel" });
    await until(() =>
      frames.some((frame) => frame.type === "done" && frame.status === "cancelled"),
    );
    const answer = (await history(session)).at(-1);
    expect(answer).toMatchObject({ status: "cancelled" });
    expect(answer?.parts?.some((part) => part.type === "tool-call")).toBe(true);
    sent(ws, { prompt: "hello" });
    await until(() => frames.filter((frame) => frame.type === "done").length === 3);
    // The cancelled call has no result, so it is not sent upstream again; the prompt is answered.
    expect((await history(session)).at(-1)).toMatchObject({ status: "complete" });
    ws.close();
  });

  it("a call with invalid arguments is a tool-call-error and is not awaited", async () => {
    const { ws, frames, session } = await openSocket();
    sent(ws, { prompt: "/tool weather {not json" });
    await until(() => frames.some((frame) => frame.type === "done"));
    expect(frames.find((frame) => frame.type === "tool-call-error")).toMatchObject({
      toolName: "weather",
      inputText: "{not json",
    });
    expect((await history(session)).at(-1)?.parts?.at(-1)).toMatchObject({
      state: "input-error",
      inputText: "{not json",
    });
    sent(ws, { type: "tool-results", results: [{ toolCallId: "x", output: 1 }] });
    await until(() => frames.some((frame) => frame.code === "no_tool_call_pending"));
    // Nothing waits, so the next prompt is answered, with the failed call told to the model.
    sent(ws, { prompt: "hello" });
    await until(() => frames.filter((frame) => frame.type === "done").length === 2);
    expect((await history(session)).at(-1)).toMatchObject({ status: "complete" });
    ws.close();
  });

  it("refuses bad tools and options with their codes, starting nothing", async () => {
    const { ws, frames, session } = await openSocket();
    const cases: Array<[object, string]> = [
      [{ tools: [{ name: "bad name", inputSchema: { type: "object" } }] }, "invalid_tools"],
      [{ tools: [{ name: "a", inputSchema: { type: "string" } }] }, "invalid_tools"],
      [{ tools: "weather" }, "invalid_tools"],
      [{ options: { temperature: 3 } }, "invalid_option"],
      [{ options: { top_p: -1 } }, "invalid_option"],
      [{ options: { stop: ["a", "b", "c", "d", "e"] } }, "invalid_option"],
      [{ options: { reasoning_effort: "max" } }, "invalid_option"],
      [{ options: { tool_choice: "sometimes" } }, "invalid_option"],
      [{ options: { frequency: 1 } }, "invalid_option"],
      [{ options: { model: "gpt-9" } }, "model_not_allowed"],
    ];
    for (const [extra, code] of cases) {
      const before = frames.length;
      sent(ws, { prompt: "hi", ...extra });
      const reply = await until(() => frames.slice(before).find((frame) => frame.type === "error"));
      expect(reply, JSON.stringify(extra)).toMatchObject({ code });
    }
    expect(await history(session)).toEqual([]);
    ws.close();
  });
});

describe("storage cost with parts", () => {
  it("a 1,000-token answer with reasoning and two tool calls, and its continuation, writes at most 20 rows", async () => {
    const { ws, frames, session } = await openSocket();
    const before = await runInDurableObject(stub(session), (instance: ChatSession) =>
      instance.stats(),
    );
    sent(ws, { prompt: "/tool weather Paris\n/tool time Paris\n/tokens 1000" });
    await until(() => frames.some((frame) => frame.type === "done"));
    const calls = frames.filter((frame) => frame.type === "tool-call");
    expect(calls).toHaveLength(2);
    sent(ws, {
      type: "tool-results",
      results: calls.map((call) => ({ toolCallId: call.toolCallId, output: "ok" })),
    });
    await until(() => frames.filter((frame) => frame.type === "done").length === 2);
    const after = await runInDurableObject(stub(session), (instance: ChatSession) =>
      instance.stats(),
    );
    const rows = after.rowsWritten - before.rowsWritten;
    console.log(
      `storage rows for a 1,000-token answer with reasoning, two tool calls and results: ${rows}`,
    );
    expect(rows).toBeLessThanOrEqual(20);
    expect(frames.filter((frame) => frame.type === "chunk").length).toBeGreaterThanOrEqual(1000);
    ws.close();
  });
});

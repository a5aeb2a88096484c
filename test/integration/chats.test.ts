// A user's chats inside workerd: each principal lists only its own, pages stay stable under
// new activity, rename and delete over HTTP and WebSocket, a deleted session's storage is gone,
// and the chat list costs one row per answer.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { STREAMING_MARK_MS } from "../../src/directory/chat-list.ts";
import type { ChatPage, ChatSummary } from "../../src/protocol.ts";
import type { ChatSession } from "../../src/session/ChatSession.ts";
import { sweep } from "../helpers/sweep.ts";
import {
  askHttp,
  call,
  createChat,
  directoryOf,
  eventually,
  send,
  socketAs,
  type User,
} from "./principals.ts";
import { until } from "./support.ts";

/** Chats paged through in pages of 17: four pages in `npm test`, twelve in the heavy run. */
const CHATS = sweep(60, 200);

function sessionStub(session: string): DurableObjectStub<ChatSession> {
  return env.SESSIONS.get(env.SESSIONS.idFromName(session));
}

async function page(user: User, query = ""): Promise<ChatPage> {
  const response = await call(user, `/sessions${query}`);
  expect(response.status).toBe(200);
  return response.json<ChatPage>();
}

/** Every chat of `user`, walking the pages. */
async function everyChat(user: User, limit = 100): Promise<ChatSummary[]> {
  const chats: ChatSummary[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`;
    const next = await page(user, query);
    chats.push(...next.chats);
    cursor = next.cursor;
  } while (cursor);
  return chats;
}

async function chatOf(user: User, session: string): Promise<ChatSummary | undefined> {
  return (await everyChat(user)).find((chat) => chat.session === session);
}

/** The tables a session's SQLite holds (the platform's own `_cf_` tables left out). */
function tablesOf(session: string): Promise<string[]> {
  return runInDurableObject(sessionStub(session), (_instance, state) =>
    state.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'",
      )
      .toArray()
      .map((row) => row.name),
  );
}

describe("the chat list", () => {
  it("is refused in open mode with identity_required, over HTTP and WebSocket", async () => {
    const response = await call(undefined, "/sessions");
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: "identity_required" } });
    const socket = await socketAs(undefined);
    socket.ws.send(JSON.stringify({ type: "list" }));
    const refusal = await until(() => socket.frames.find((frame) => frame.type === "error"));
    expect(refusal).toMatchObject({ code: "identity_required" });
    socket.ws.close();
  });

  it("shows each principal only its own chats", async () => {
    const alice = [await createChat("alice"), await createChat("alice")];
    const bob = [await createChat("bob")];
    const aliceChats = (await everyChat("alice")).map((chat) => chat.session);
    const bobChats = (await everyChat("bob")).map((chat) => chat.session);
    for (const session of alice) expect(aliceChats).toContain(session);
    for (const session of bob) expect(bobChats).toContain(session);
    for (const session of alice) expect(bobChats).not.toContain(session);
    for (const session of bob) expect(aliceChats).not.toContain(session);
    // Nor can one open, rename or delete the other's: it answers like a missing session.
    const [first] = alice;
    expect((await call("bob", `/sessions/${first}`)).status).toBe(404);
    const rename = await send("bob", "PATCH", `/sessions/${first}`, { title: "mine now" });
    expect(await rename.json()).toMatchObject({ error: { code: "session_not_found" } });
    expect((await call("bob", `/sessions/${first}`, { method: "DELETE" })).status).toBe(204);
    expect((await call("alice", `/sessions/${first}`)).status).toBe(200);
  });

  it("describes a chat: title from the first prompt, count, preview, streaming", async () => {
    const session = await createChat("alice");
    const fresh = await chatOf("alice", session);
    expect(fresh).toMatchObject({ title: null, messages: 0, preview: "", streaming: false });
    const prompt = `${"word ".repeat(30)}  and\nmore`;
    const socket = await socketAs("alice", `?session=${session}`);
    socket.ws.send(JSON.stringify({ prompt: `/tokens 100000 ${prompt}` }));
    await until(() => socket.frames.filter((frame) => frame.type === "chunk").length > 50);
    const streaming = await eventually(async () => {
      const chat = await chatOf("alice", session);
      return chat?.streaming ? chat : undefined;
    });
    expect(streaming?.title).toBe(`/tokens 100000 ${"word ".repeat(12).trim()}…`);
    socket.ws.send(JSON.stringify({ type: "cancel" }));
    await until(() => socket.frames.some((frame) => frame.type === "done"));
    const done = await eventually(async () => {
      const chat = await chatOf("alice", session);
      return chat && !chat.streaming && chat.messages === 2 ? chat : undefined;
    });
    expect(done.title?.length).toBeLessThanOrEqual(80);
    expect(done.preview).toMatch(/^t0 t1 t2 .*…$/);
    expect(done.preview.length).toBeLessThanOrEqual(120);
    expect(done.lastActivity).toBeGreaterThanOrEqual(done.createdAt);
    socket.ws.close();
  });

  it(`pages ${CHATS} chats newest first, each once, while new activity happens`, async () => {
    const created: string[] = [];
    for (let i = 0; i < CHATS; i += 1) created.push(await createChat("carol"));
    const before = await everyChat("carol");
    expect(before).toHaveLength(CHATS);
    const order = before.map((chat) => chat.session);
    for (const [i, chat] of before.entries()) {
      const next = before[i + 1];
      if (!next) break;
      // Newest activity first; equal times in session id order, as the cursor assumes.
      const key = (c: ChatSummary) => [c.lastActivity, c.session] as const;
      const [at, id] = key(chat);
      const [nextAt, nextId] = key(next);
      expect(at > nextAt || (at === nextAt && id > nextId)).toBe(true);
    }

    // Walk in pages of 17; after each page, one chat already seen and one not yet seen get an answer.
    const seen: string[] = [];
    const touched = new Set<string>();
    let cursor: string | null = null;
    do {
      const query: string = `?limit=17${cursor ? `&cursor=${cursor}` : ""}`;
      const next = await page("carol", query);
      expect(next.chats.length).toBeLessThanOrEqual(17);
      seen.push(...next.chats.map((chat) => chat.session));
      cursor = next.cursor;
      const ahead = order.find((session) => !seen.includes(session) && !touched.has(session));
      for (const session of [seen.at(-3), ahead]) {
        if (session === undefined) continue;
        touched.add(session);
        await askHttp("carol", session, "/tokens 2");
      }
      // The answer's row lands in the directory just after the answer ends.
      await eventually(async () => (await page("carol", "?limit=1")).chats[0]?.messages === 2);
    } while (cursor);

    expect(new Set(seen).size).toBe(seen.length);
    const untouched = order.filter((session) => !touched.has(session));
    expect(seen.filter((session) => !touched.has(session))).toEqual(untouched);
    // The touched chats now lead the list, newest first.
    const after = (await everyChat("carol")).map((chat) => chat.session);
    expect(new Set(after.slice(0, touched.size))).toEqual(touched);
    expect(after).toHaveLength(CHATS);
  }, 60_000);

  it("forgets a streaming mark its session stopped renewing (a session that died)", async () => {
    const session = await createChat("bob");
    const directory = await directoryOf("bob");
    const streaming = await runInDurableObject(directory, (instance) => {
      instance.admit({ lease: "lost", limit: 1, ttlMs: 60_000, mark: { session, title: "Lost" } });
      const before = instance.list({ limit: 100 }).chats.find((c) => c.session === session);
      const marks: Map<string, { at: number }> = Reflect.get(
        Reflect.get(instance, "chatList"),
        "streaming",
      );
      const mark = marks.get(session);
      if (mark) mark.at -= STREAMING_MARK_MS + 1;
      const after = instance.list({ limit: 100 }).chats.find((c) => c.session === session);
      return [before?.streaming, before?.title, after?.streaming, after?.title];
    });
    expect(streaming).toEqual([true, "Lost", false, null]);
  });

  it("refuses a bad limit or cursor with a clear error", async () => {
    for (const query of [
      "?limit=0",
      "?limit=101",
      "?limit=abc",
      "?limit=1.5",
      "?cursor=nope!",
      "?cursor=bm9wZQ",
      `?cursor=${btoa("12.notasession")}`,
    ]) {
      const response = await call("alice", `/sessions${query}`);
      expect(response.status, query).toBe(400);
      const { error } = await response.json<{ error: { code: string; message: string } }>();
      expect(error.code, query).toBe("invalid_request");
      expect(error.message, query).toMatch(/limit|cursor/);
    }
  });

  it("costs one row written in the chat list per answer", async () => {
    const directory = await directoryOf("bob");
    const rows = async () => runInDurableObject(directory, (instance) => instance.stats().chatRows);
    await createChat("bob");
    const beforeCreate = await rows();
    const session = await createChat("bob");
    expect(await rows()).toBe(beforeCreate + 1);
    for (const prompt of ["/tokens 50", "/tokens 1000", "hello"]) {
      const before = await rows();
      await askHttp("bob", session, prompt);
      const after = await eventually(async () => {
        const now = await rows();
        return now > before ? now : undefined;
      });
      // Nothing else arrives later.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await rows()).toBe(after);
      console.log(`directory rows written for the answer to "${prompt}": ${after - before}`);
      expect(after - before).toBe(1);
    }
    const beforeRename = await rows();
    await send("bob", "PATCH", `/sessions/${session}`, { title: "Renamed" });
    expect(await rows()).toBe(beforeRename + 1);
    await call("bob", `/sessions/${session}`, { method: "DELETE" });
    expect(await rows()).toBe(beforeRename + 2);
  }, 20_000);
});

describe("a chat list that cannot be reached", () => {
  it("never fails an answer nor leaves the session stuck", async () => {
    const session = await createChat("alice");
    await runInDurableObject(sessionStub(session), (instance) => {
      const down = () => Promise.reject(new Error("directory down"));
      Reflect.set(Reflect.get(instance, "chats"), "stub", {
        streamingNow: down,
        answered: down,
        renamed: down,
        removed: down,
      });
    });
    for (const prompt of ["/tokens 3", "/tokens 2"]) {
      const text = await askHttp("alice", session, prompt);
      expect(text).toContain('"status":"complete"');
    }
    const renamed = await send("alice", "PATCH", `/sessions/${session}`, { title: "Still works" });
    expect(renamed.status).toBe(200);
    expect((await call("alice", `/sessions/${session}`, { method: "DELETE" })).status).toBe(204);
    expect(await tablesOf(session)).toEqual([]);
  });
});

describe("renaming a chat", () => {
  it("over HTTP: trimmed to one line, shown in the list and the history", async () => {
    const session = await createChat("alice");
    await askHttp("alice", session, "the first prompt names it");
    expect((await chatOf("alice", session))?.title).toBe("the first prompt names it");
    const response = await send("alice", "PATCH", `/sessions/${session}`, {
      title: "  Trip\n to   Lisbon ",
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ session, title: "Trip to Lisbon" });
    expect((await chatOf("alice", session))?.title).toBe("Trip to Lisbon");
    const snapshot = await (await call("alice", `/sessions/${session}`)).json();
    expect(snapshot).toMatchObject({ title: "Trip to Lisbon" });
    // A later answer keeps the chosen title.
    await askHttp("alice", session, "another prompt");
    await eventually(async () => (await chatOf("alice", session))?.messages === 4);
    expect((await chatOf("alice", session))?.title).toBe("Trip to Lisbon");
  });

  it("refuses a bad title and changes nothing", async () => {
    const session = await createChat("alice");
    await send("alice", "PATCH", `/sessions/${session}`, { title: "Kept" });
    const cases: Array<[string, string, string]> = [
      ["no JSON", "{nope", "invalid_json"],
      ["no title", "{}", "invalid_request"],
      ["a number", '{"title":5}', "invalid_request"],
      ["blank", '{"title":"  \\n "}', "invalid_request"],
      ["too long", JSON.stringify({ title: "x".repeat(121) }), "invalid_request"],
      ["a control character", '{"title":"a\\u0007b"}', "invalid_request"],
    ];
    for (const [what, body, code] of cases) {
      const response = await send("alice", "PATCH", `/sessions/${session}`, body);
      expect(response.status, what).toBe(400);
      expect(await response.json(), what).toMatchObject({ error: { code } });
    }
    expect((await chatOf("alice", session))?.title).toBe("Kept");
    const missing = await send("alice", "PATCH", "/sessions/0123456789abcdef0123456789abcdef", {
      title: "x",
    });
    expect(missing.status).toBe(404);
  });

  it("over the WebSocket: every client of the session gets renamed", async () => {
    const one = await socketAs("alice");
    const two = await socketAs("alice", `?session=${one.session}`);
    one.ws.send(JSON.stringify({ type: "rename", title: "From the socket" }));
    const renamed = { type: "renamed", session: one.session, title: "From the socket" };
    await until(() => two.frames.find((frame) => frame.type === "renamed"));
    expect(one.frames.find((frame) => frame.type === "renamed")).toEqual(renamed);
    expect(two.frames.find((frame) => frame.type === "renamed")).toEqual(renamed);
    expect((await chatOf("alice", one.session))?.title).toBe("From the socket");
    one.ws.send(JSON.stringify({ type: "rename", title: "" }));
    const refusal = await until(() => one.frames.find((frame) => frame.type === "error"));
    expect(refusal).toMatchObject({ code: "invalid_request" });
    one.ws.send(JSON.stringify({ type: "list", limit: 1 }));
    const list = await until(() => one.frames.find((frame) => frame.type === "chats"));
    expect(list).toMatchObject({ chats: [{ session: one.session }] });
    one.ws.close();
    two.ws.close();
  });
});

describe("deleting a chat", () => {
  it("over HTTP mid-answer: sockets close 4004, SSE ends with deleted, storage is gone", async () => {
    const socket = await socketAs("alice");
    const { session } = socket;
    await askHttp("alice", session, "/tokens 20");
    socket.ws.send(JSON.stringify({ prompt: "/tokens 100000" }));
    await until(() => socket.frames.filter((frame) => frame.type === "chunk").length > 100);
    const sse = await call("alice", `/sessions/${session}/events`);
    const reading = sse.text();
    expect(await chatOf("alice", session)).toBeDefined();

    const response = await call("alice", `/sessions/${session}`, { method: "DELETE" });
    expect(response.status).toBe(204);

    const closed = await until(() => socket.closed());
    expect(closed).toEqual({ code: 4004, reason: "session_deleted" });
    const last = socket.frames.slice(-2);
    expect(last[0]).toMatchObject({ type: "done", status: "cancelled" });
    expect(last[1]).toEqual({ type: "deleted", session, reason: "deleted" });
    const text = await reading;
    expect(
      text
        .trimEnd()
        .endsWith(
          `event: deleted\ndata: {"type":"deleted","session":"${session}","reason":"deleted"}`,
        ),
    ).toBe(true);

    expect(await tablesOf(session)).toEqual([]);
    const alarm = await runInDurableObject(sessionStub(session), (_i, state) =>
      state.storage.getAlarm(),
    );
    expect(alarm).toBeNull();
    expect(await chatOf("alice", session)).toBeUndefined();

    // Afterwards it is session_not_found everywhere, and deleting again changes nothing.
    for (const [method, path, body] of [
      ["GET", `/sessions/${session}`, undefined],
      ["POST", `/sessions/${session}/messages`, '{"content":"hi"}'],
      ["GET", `/sessions/${session}/events`, undefined],
      ["POST", `/sessions/${session}/cancel`, undefined],
      ["PATCH", `/sessions/${session}`, '{"title":"x"}'],
    ] as const) {
      const again = await call("alice", path, { method, body });
      expect(again.status, `${method} ${path}`).toBe(404);
      expect(await again.json()).toMatchObject({ error: { code: "session_not_found" } });
    }
    const rejoin = await call("alice", `/chat?session=${session}`, {
      headers: { upgrade: "websocket" },
    });
    expect(rejoin.status).toBe(404);
    expect((await call("alice", `/sessions/${session}`, { method: "DELETE" })).status).toBe(204);
    expect(await tablesOf(session)).toEqual([]);
  });

  it("over the WebSocket, and in open mode by whoever holds the id", async () => {
    const socket = await socketAs(undefined);
    const other = await socketAs(undefined, `?session=${socket.session}`);
    socket.ws.send(JSON.stringify({ prompt: "/tokens 5" }));
    await until(() => socket.frames.some((frame) => frame.type === "done"));
    socket.ws.send(JSON.stringify({ type: "delete" }));
    for (const client of [socket, other]) {
      expect(await until(() => client.closed())).toEqual({ code: 4004, reason: "session_deleted" });
      expect(client.frames.at(-1)).toEqual({
        type: "deleted",
        session: socket.session,
        reason: "deleted",
      });
    }
    expect(await tablesOf(socket.session)).toEqual([]);
    expect((await call(undefined, `/sessions/${socket.session}`)).status).toBe(404);

    // Open mode: rename and delete work by id alone.
    const held = await createChat(undefined);
    const renamed = await send(undefined, "PATCH", `/sessions/${held}`, { title: "Open" });
    expect(await renamed.json()).toEqual({ session: held, title: "Open" });
    expect((await call(undefined, `/sessions/${held}`, { method: "DELETE" })).status).toBe(204);
    expect((await call(undefined, `/sessions/${held}`)).status).toBe(404);
  });

  it("a deleted id can be created again, empty (an AI SDK chat id reused)", async () => {
    const session = await createChat("bob");
    await askHttp("bob", session, "/tokens 3");
    expect((await call("bob", `/sessions/${session}`, { method: "DELETE" })).status).toBe(204);
    const response = await call("bob", "/api/chat", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        id: session,
        messages: [{ id: "m1", role: "user", parts: [{ type: "text", text: "/tokens 2" }] }],
      }),
    });
    expect(response.status).toBe(200);
    await response.text();
    const snapshot = await (await call("bob", `/sessions/${session}`)).json<{
      messages: unknown[];
    }>();
    expect(snapshot.messages).toHaveLength(2);
    expect((await chatOf("bob", session))?.messages).toBe(2);
  });
});

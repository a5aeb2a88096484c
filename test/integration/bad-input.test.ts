// Every bad input gets a clear error, nothing is stored half-way, and the socket stays usable.
import { runInDurableObject, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_SESSION_MESSAGES } from "../../src/session/answer-start.ts";
import { BASE, openSocket, until } from "./support.ts";

async function newSession(): Promise<string> {
  const response = await SELF.fetch(`${BASE}/sessions`, { method: "POST" });
  const { session } = await response.json<{ session: string }>();
  return session;
}

async function historyOf(session: string): Promise<unknown[]> {
  const response = await SELF.fetch(`${BASE}/sessions/${session}`);
  return (await response.json<{ messages: unknown[] }>()).messages;
}

const UNKNOWN = "0123456789abcdef0123456789abcdef";

describe("bad HTTP requests", () => {
  const cases: Array<[string, string, string, BodyInit | undefined, number, string]> = [
    ["an unknown route", "GET", "/nope", undefined, 404, "not_found"],
    ["a wrong method on /sessions", "DELETE", "/sessions", undefined, 405, "method_not_allowed"],
    ["a wrong method on a session", "PUT", "/sessions/:id", undefined, 405, "method_not_allowed"],
    [
      "a rename of a malformed id",
      "PATCH",
      "/sessions/nope",
      '{"title":"x"}',
      404,
      "session_not_found",
    ],
    ["a delete of a malformed id", "DELETE", "/sessions/nope", undefined, 404, "session_not_found"],
    ["a rename without a body", "PATCH", "/sessions/:id", "", 400, "invalid_json"],
    ["a rename to a number", "PATCH", "/sessions/:id", '{"title":7}', 400, "invalid_request"],
    ["the list in open mode", "GET", "/sessions", undefined, 403, "identity_required"],
    [
      "a wrong method on messages",
      "GET",
      "/sessions/:id/messages",
      undefined,
      405,
      "method_not_allowed",
    ],
    ["a malformed session id", "GET", "/sessions/not-an-id", undefined, 404, "session_not_found"],
    ["an unknown session id", "GET", `/sessions/${UNKNOWN}`, undefined, 404, "session_not_found"],
    [
      "a message to an unknown session",
      "POST",
      `/sessions/${UNKNOWN}/messages`,
      '{"content":"hi"}',
      404,
      "session_not_found",
    ],
    ["invalid JSON", "POST", "/sessions/:id/messages", "{nope", 400, "invalid_json"],
    ["a JSON array", "POST", "/sessions/:id/messages", "[1]", 400, "invalid_request"],
    [
      "a number for content",
      "POST",
      "/sessions/:id/messages",
      '{"content":5}',
      400,
      "invalid_request",
    ],
    ["no content", "POST", "/sessions/:id/messages", '{"prompt":"hi"}', 400, "invalid_request"],
    ["empty content", "POST", "/sessions/:id/messages", '{"content":""}', 400, "prompt_empty"],
    ["blank content", "POST", "/sessions/:id/messages", '{"content":" \\n "}', 400, "prompt_empty"],
    [
      "oversized content",
      "POST",
      "/sessions/:id/messages",
      JSON.stringify({ content: "x".repeat(32_001) }),
      413,
      "prompt_too_large",
    ],
    [
      "an oversized body",
      "POST",
      "/sessions/:id/messages",
      JSON.stringify({ content: "x", pad: "y".repeat(70_000) }),
      413,
      "frame_too_large",
    ],
    ["/chat without an upgrade", "GET", "/chat", undefined, 426, "upgrade_required"],
    ["a session body that is not JSON", "POST", "/sessions", "{", 400, "invalid_json"],
    ["an unknown onAbandon", "POST", "/sessions", '{"onAbandon":"maybe"}', 400, "invalid_request"],
    [
      "a wrong method on events",
      "POST",
      "/sessions/:id/events",
      undefined,
      405,
      "method_not_allowed",
    ],
    [
      "a malformed ?after on events",
      "GET",
      "/sessions/:id/events?after=abc",
      undefined,
      400,
      "invalid_request",
    ],
    [
      "a wrong method on cancel",
      "GET",
      "/sessions/:id/cancel",
      undefined,
      405,
      "method_not_allowed",
    ],
    [
      "a cancel of an unknown session",
      "POST",
      `/sessions/${UNKNOWN}/cancel`,
      undefined,
      404,
      "session_not_found",
    ],
    ["a path with a trailing segment", "GET", "/sessions/:id/history", undefined, 404, "not_found"],
    ["a wrong method on /chat", "POST", "/chat", undefined, 405, "method_not_allowed"],
  ];

  it.each(cases)("%s gets a JSON error", async (_name, method, path, body, status, code) => {
    const session = await newSession();
    const response = await SELF.fetch(`${BASE}${path.replace(":id", session)}`, { method, body });
    expect(response.status).toBe(status);
    const json = await response.json<{ error: { code: string; message: string } }>();
    expect(json.error.code).toBe(code);
    expect(json.error.message.length).toBeGreaterThan(5);
    expect(await historyOf(session)).toEqual([]);
  });

  it("a malformed Last-Event-ID is refused", async () => {
    const session = await newSession();
    const response = await SELF.fetch(`${BASE}/sessions/${session}/events`, {
      headers: { "last-event-id": "12abc" },
    });
    expect(response.status).toBe(400);
    expect((await response.json<{ error: { code: string } }>()).error.code).toBe("invalid_request");
  });

  it("a WebSocket upgrade with a malformed ?after or ?onAbandon is refused", async () => {
    for (const query of ["after=-1", "after=x", "onAbandon=never"]) {
      const response = await SELF.fetch(`${BASE}/chat?${query}`, {
        headers: { upgrade: "websocket" },
      });
      expect(response.status).toBe(400);
      expect((await response.json<{ error: { code: string } }>()).error.code).toBe(
        "invalid_request",
      );
    }
  });

  it("a client's own x-sluice-create header creates no session and changes none", async () => {
    const response = await SELF.fetch(`${BASE}/chat?session=${UNKNOWN}`, {
      headers: { upgrade: "websocket", "x-sluice-create": "cancel" },
    });
    expect(response.status).toBe(404);
    expect((await SELF.fetch(`${BASE}/sessions/${UNKNOWN}`)).status).toBe(404);
    const session = await newSession();
    const reopened = await SELF.fetch(`${BASE}/chat?session=${session}`, {
      headers: { upgrade: "websocket", "x-sluice-create": "cancel" },
    });
    expect(reopened.status).toBe(101);
    reopened.webSocket?.accept();
    reopened.webSocket?.close();
    const options = await (await SELF.fetch(`${BASE}/sessions/${session}`)).json();
    expect(options).toMatchObject({ onAbandon: "continue" });
  });

  it("a WebSocket upgrade to a malformed or unknown session is refused", async () => {
    for (const id of ["bogus", UNKNOWN]) {
      const response = await SELF.fetch(`${BASE}/chat?session=${id}`, {
        headers: { upgrade: "websocket" },
      });
      expect(response.status).toBe(404);
      expect((await response.json<{ error: { code: string } }>()).error.code).toBe(
        "session_not_found",
      );
    }
  });
});

describe("bad WebSocket frames", () => {
  const frames: Array<[string, string | ArrayBuffer, string]> = [
    ["text that is not JSON", "hello", "invalid_json"],
    ["a JSON array", "[]", "invalid_request"],
    ["JSON null", "null", "invalid_request"],
    ["an empty object", "{}", "invalid_request"],
    ["a number prompt", '{"prompt":5}', "invalid_request"],
    ["an empty prompt", '{"prompt":""}', "prompt_empty"],
    ["an oversized prompt", JSON.stringify({ prompt: "x".repeat(32_001) }), "prompt_too_large"],
    [
      "an oversized frame",
      JSON.stringify({ prompt: "x", pad: "y".repeat(70_000) }),
      "frame_too_large",
    ],
    ["an unknown type", '{"type":"dance"}', "invalid_request"],
    ["a negative resume", '{"type":"resume","after":-1}', "invalid_request"],
    ["a string resume", '{"type":"resume","after":"3"}', "invalid_request"],
    ["a binary frame", new Uint8Array([123, 125]).buffer, "invalid_request"],
    ["a JSON string", '"hello"', "invalid_request"],
    ["a prompt frame without prompt", '{"type":"prompt"}', "invalid_request"],
    ["a null prompt", '{"prompt":null}', "invalid_request"],
    ["a blank prompt", '{"prompt":"  \\t\\n "}', "prompt_empty"],
    ["a numeric type", '{"type":5}', "invalid_request"],
    ["a resume without after", '{"type":"resume"}', "invalid_request"],
    ["a fractional resume", '{"type":"resume","after":1.5}', "invalid_request"],
    ["a huge resume", '{"type":"resume","after":1e300}', "invalid_request"],
    ["a rename without title", '{"type":"rename"}', "invalid_request"],
    ["a rename to a number", '{"type":"rename","title":5}', "invalid_request"],
    ["a rename to blank", '{"type":"rename","title":" "}', "invalid_request"],
    [
      "a rename too long",
      JSON.stringify({ type: "rename", title: "x".repeat(121) }),
      "invalid_request",
    ],
    ["a list of zero", '{"type":"list","limit":0}', "invalid_request"],
    ["a list with a text limit", '{"type":"list","limit":"5"}', "invalid_request"],
    ["a list of too many", '{"type":"list","limit":101}', "invalid_request"],
    ["a list with a numeric cursor", '{"type":"list","cursor":5}', "invalid_request"],
    ["a list with a made-up cursor", '{"type":"list","cursor":"zz"}', "invalid_request"],
    ["a list in open mode", '{"type":"list"}', "identity_required"],
  ];

  it.each(frames)(
    "%s gets an error frame and the socket still answers",
    async (_name, frame, code) => {
      const { ws, frames: received, session } = await openSocket();
      ws.send(frame);
      const error = await until(() => received.find((f) => f.type === "error"));
      expect(error).toMatchObject({ type: "error", code });
      expect(String(error.message).length).toBeGreaterThan(5);
      expect(error.seq).toBeUndefined();
      expect(await historyOf(session)).toEqual([]);

      ws.send(JSON.stringify({ prompt: "/tokens 2" }));
      await until(() => received.find((f) => f.type === "done"));
      const text = received
        .filter((f) => f.type === "chunk")
        .map((f) => f.content)
        .join("");
      expect(text).toBe("t0 t1 ");
      expect(await historyOf(session)).toHaveLength(2);
      ws.close();
    },
  );

  it("a second prompt while one streams is refused with busy, and the first completes", async () => {
    const { ws, frames: received, session } = await openSocket();
    ws.send(JSON.stringify({ prompt: "/tokens 300" }));
    ws.send(JSON.stringify({ prompt: "me too" }));
    const error = await until(() => received.find((f) => f.type === "error"));
    expect(error.code).toBe("busy");
    const done = await until(() => received.find((f) => f.type === "done"));
    expect(done.status).toBe("complete");
    const stored = await historyOf(session);
    expect(stored).toHaveLength(2);
    expect(JSON.stringify(stored)).not.toContain("me too");
    ws.close();
  });
});

describe("a full session", () => {
  it("refuses more prompts with session_full, storing nothing", async () => {
    const { ws, frames: received, session } = await openSocket();
    const stub = env.SESSIONS.get(env.SESSIONS.idFromName(session));
    await runInDurableObject(stub, (_instance, state) => {
      for (let i = 0; i < MAX_SESSION_MESSAGES - 1; i += 1) {
        state.storage.sql.exec(
          "INSERT INTO messages (id, role, content, status, created_at) VALUES (?, 'user', 'x', 'complete', 0)",
          `seed_${i}`,
        );
      }
    });
    ws.send(JSON.stringify({ prompt: "one more" }));
    const error = await until(() => received.find((f) => f.type === "error"));
    expect(error).toMatchObject({ code: "session_full" });
    expect(await historyOf(session)).toHaveLength(MAX_SESSION_MESSAGES - 1);
    ws.close();
  });
});

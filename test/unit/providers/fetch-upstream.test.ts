import { describe, expect, it } from "vitest";
import { SluiceError } from "../../../src/errors.ts";
import type { FetchLike } from "../../../src/providers/fetch-upstream.ts";
import { fetchUpstream, sseEvents } from "../../../src/providers/fetch-upstream.ts";
import { openaiEvents } from "../../../src/providers/openai.ts";
import { UpstreamFailure } from "../../../src/providers/retry-policy.ts";
import type { UpstreamEvent } from "../../../src/providers/types.ts";
import { bytesOf, collectEvents, sse } from "./support.ts";

const KEY = "sk-live-THIS-MUST-NEVER-LEAK-1234";

function upstreamRequest(): Request {
  return new Request("https://llm.example/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "x-api-key": KEY },
    body: "{}",
  });
}

/** A fetcher answering `status` with a body that echoes the key, as some upstreams do. */
function answering(status: number, body: string, headers: HeadersInit = {}): FetchLike {
  return async () => new Response(body, { status, headers });
}

async function failureOf(fetcher: FetchLike): Promise<SluiceError> {
  try {
    await fetchUpstream(upstreamRequest(), new AbortController().signal, fetcher);
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error("fetchUpstream resolved");
}

const echo = (message: string) =>
  JSON.stringify({ error: { message, type: "invalid_request_error" } });

describe("fetchUpstream", () => {
  it.each([
    [401, "upstream_auth", "The upstream rejected the API key (HTTP 401)"],
    [403, "upstream_auth", "The upstream rejected the API key (HTTP 403)"],
  ])("maps HTTP %i to %s without reading the body", async (status, code, message) => {
    const failure = await failureOf(answering(status, echo(`Incorrect API key provided: ${KEY}`)));
    expect(failure).toMatchObject({ code, message });
  });

  it("maps HTTP 429 to upstream_rate_limited and passes on Retry-After", async () => {
    const failure = await failureOf(answering(429, echo("slow down"), { "retry-after": "20" }));
    expect(failure.code).toBe("upstream_rate_limited");
    expect(failure.message).toBe("The upstream is rate limiting (HTTP 429); Retry-After says 20 s");
    const bare = await failureOf(answering(429, ""));
    expect(bare.message).toBe("The upstream is rate limiting (HTTP 429)");
  });

  it("keeps the status and Retry-After for the retry rules, as seconds or an HTTP date", async () => {
    const seconds = await failureOf(answering(503, "", { "retry-after": "3" }));
    expect(seconds).toBeInstanceOf(UpstreamFailure);
    expect(seconds).toMatchObject({ detail: { httpStatus: 503, retryAfterMs: 3_000 } });
    const inFiveSeconds = new Date(Date.now() + 5_000).toUTCString();
    const date = await failureOf(answering(429, "", { "retry-after": inFiveSeconds }));
    expect(date).toBeInstanceOf(UpstreamFailure);
    const { retryAfterMs } = date instanceof UpstreamFailure ? date.detail : {};
    expect(retryAfterMs).toBeGreaterThan(3_000);
    expect(retryAfterMs).toBeLessThanOrEqual(5_000);
    expect(date.message).toMatch(/; Retry-After says \d{4}-\d\d-\d\dT/);
    const garbled = await failureOf(answering(429, "", { "retry-after": "soon" }));
    expect(garbled).toMatchObject({
      message: "The upstream is rate limiting (HTTP 429)",
      detail: { httpStatus: 429, retryAfterMs: undefined },
    });
  });

  it("maps other statuses to upstream_http with the upstream's own message", async () => {
    const failure = await failureOf(answering(500, echo("The server had an error")));
    expect(failure).toMatchObject({
      code: "upstream_http",
      message: "The upstream answered HTTP 500: The server had an error",
    });
    const anthropic = JSON.stringify({
      type: "error",
      error: { type: "overloaded_error", message: "Overloaded" },
    });
    expect((await failureOf(answering(529, anthropic))).message).toBe(
      "The upstream answered HTTP 529: Overloaded",
    );
    expect((await failureOf(answering(502, "<html>Bad gateway</html>"))).message).toBe(
      "The upstream answered HTTP 502",
    );
  });

  it("passes on at most 200 characters of the upstream's message", async () => {
    const failure = await failureOf(answering(400, echo("x".repeat(5000))));
    const detail = failure.message.replace("The upstream answered HTTP 400: ", "");
    expect(detail.length).toBe(200);
  });

  it("maps a connection failure to upstream_unreachable", async () => {
    const failure = await failureOf(async () => {
      throw new TypeError("Network connection lost.");
    });
    expect(failure).toMatchObject({
      code: "upstream_unreachable",
      message: "Could not connect to the upstream at llm.example",
    });
  });

  it("never puts the API key in an error message", async () => {
    const fetchers = [401, 403, 429, 400, 500].map((status) =>
      answering(status, echo(`bad request for key ${KEY}`), { "x-echo": KEY }),
    );
    for (const fetcher of fetchers) {
      const failure = await failureOf(fetcher);
      expect(failure.message).not.toContain(KEY);
      expect(failure.message).not.toContain("NEVER-LEAK");
    }
  });

  it("refuses a JSON answer to a streaming request as upstream_malformed", async () => {
    const failure = await failureOf(answering(200, "{}", { "content-type": "application/json" }));
    expect(failure).toMatchObject({ code: "upstream_malformed" });
  });

  it("rejects with the signal's reason, not a SluiceError, when the caller aborted", async () => {
    const controller = new AbortController();
    const reason = new Error("cancelled by test");
    const fetcher: FetchLike = (_request, { signal }) =>
      new Promise((_resolve, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason)),
      );
    const pending = fetchUpstream(upstreamRequest(), controller.signal, fetcher);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});

const chunk = (content: string) => ({ choices: [{ delta: { content } }] });

describe("sseEvents", () => {
  it("turns a body that fails mid-stream into upstream_dropped and a clean close", async () => {
    const body = bytesOf([sse(chunk("Hel")), sse(chunk("lo"))], new Error("connection reset"));
    const events = await collectEvents(
      sseEvents(body, openaiEvents(), new AbortController().signal),
    );
    expect(events).toEqual([
      { type: "text", text: "Hel" },
      { type: "text", text: "lo" },
      {
        type: "error",
        code: "upstream_dropped",
        message: "The upstream closed the stream before it finished",
      },
    ] satisfies UpstreamEvent[]);
  });

  it("closes without an error event when the signal fires, and cancels the body", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(sse(chunk("a"))));
      },
      cancel() {
        cancelled = true;
      },
    });
    const controller = new AbortController();
    const events = sseEvents(body, openaiEvents(), controller.signal);
    expect(await events.next()).toEqual({ type: "text", text: "a" });
    controller.abort();
    expect(await events.next()).toBeUndefined();
    expect(cancelled).toBe(true);
  });

  it("ends a pending read without an event when the signal fires or the consumer cancels", async () => {
    for (const stop of ["abort", "cancel"] as const) {
      const controller = new AbortController();
      const silent = new ReadableStream<Uint8Array>();
      const events = sseEvents(silent, openaiEvents(), controller.signal);
      const pending = events.next();
      if (stop === "abort") controller.abort();
      else events.cancel();
      expect(await pending).toBeUndefined();
      expect(await events.next()).toBeUndefined();
    }
  });

  it("closes right after the finish event and cancels a body the upstream left open", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(sse(chunk("a"), "[DONE]")));
      },
      cancel() {
        cancelled = true;
      },
    });
    const events = await collectEvents(
      sseEvents(body, openaiEvents(), new AbortController().signal),
    );
    expect(events.at(-1)).toEqual({ type: "finish", reason: "stop" });
    expect(cancelled).toBe(true);
  });

  it("cancels the body when the consumer cancels", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      cancel() {
        cancelled = true;
      },
    });
    sseEvents(body, openaiEvents(), new AbortController().signal).cancel();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(cancelled).toBe(true);
  });

  it("reports an SSE line that never ends as upstream_malformed instead of buffering it", async () => {
    const piece = "x".repeat(64 * 1024);
    const body = bytesOf(["data: ", ...Array.from({ length: 70 }, () => piece)]);
    const events = await collectEvents(
      sseEvents(body, openaiEvents(), new AbortController().signal),
    );
    expect(events).toEqual([
      expect.objectContaining({ type: "error", code: "upstream_malformed" }),
    ]);
  });

  it("joins the text events of one read into one, keeping the order of other events", async () => {
    const usage = { choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } };
    const body = bytesOf([
      sse(chunk("a"), chunk("b"), chunk("c")),
      sse(chunk("d")),
      sse(chunk("e"), usage, chunk("f"), chunk("g"), "[DONE]"),
    ]);
    const events = await collectEvents(
      sseEvents(body, openaiEvents(), new AbortController().signal),
    );
    expect(events).toEqual([
      { type: "text", text: "abc" },
      { type: "text", text: "d" },
      { type: "text", text: "e" },
      { type: "usage", usage: { inputTokens: 3, outputTokens: 2 } },
      { type: "text", text: "fg" },
      { type: "finish", reason: "stop" },
    ] satisfies UpstreamEvent[]);
  });

  it("joins the deltas of one reasoning part or one tool call within a read, never across parts", async () => {
    const think = (reasoning_content: string) => ({ choices: [{ delta: { reasoning_content } }] });
    const args = (index: number, id: string | undefined, piece: string) => ({
      choices: [
        {
          delta: {
            tool_calls: [
              {
                index,
                ...(id
                  ? { id, function: { name: "f", arguments: piece } }
                  : { function: { arguments: piece } }),
              },
            ],
          },
        },
      ],
    });
    const body = bytesOf([
      sse(think("a"), think("b"), think("c")),
      sse(args(0, "call_1", '{"x"'), args(0, undefined, ":1"), args(0, undefined, "}")),
      sse(
        args(1, "call_2", "{"),
        args(0, undefined, ""),
        args(1, undefined, "}"),
        args(1, undefined, " "),
      ),
      sse({ choices: [{ delta: {}, finish_reason: "tool_calls" }] }, "[DONE]"),
    ]);
    const events = await collectEvents(
      sseEvents(body, openaiEvents(), new AbortController().signal),
    );
    expect(events.filter((e) => e.type.endsWith("-delta"))).toEqual([
      { type: "reasoning-delta", id: "reasoning-0", text: "abc" },
      { type: "tool-call-delta", id: "call_1", index: 0, arguments: '{"x":1}' },
      { type: "tool-call-delta", id: "call_2", index: 1, arguments: "{} " },
    ] satisfies UpstreamEvent[]);
  });

  it("reads nothing ahead of the consumer, and tells onActivity of every read", async () => {
    let reads = 0;
    const pieces = [": keep-alive\n\n", sse(chunk("a")), sse(chunk("b")), sse("[DONE]")];
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          const piece = pieces[reads++];
          if (piece === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(piece));
        },
      },
      { highWaterMark: 0 },
    );
    let activity = 0;
    const events = sseEvents(body, openaiEvents(), new AbortController().signal, () => activity++);
    expect(reads).toBe(0);
    expect(await events.next()).toEqual({ type: "text", text: "a" });
    expect([reads, activity]).toEqual([2, 2]);
    expect(await events.next()).toEqual({ type: "text", text: "b" });
    expect(await events.next()).toEqual({ type: "finish", reason: "stop" });
    expect(await events.next()).toBeUndefined();
    expect([reads, activity]).toEqual([4, 4]);
  });

  it("decodes a character split across two reads", async () => {
    const bytes = new TextEncoder().encode(sse(chunk("café")));
    const at = bytes.indexOf(0xc3) + 1;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, at));
        controller.enqueue(bytes.slice(at));
        controller.close();
      },
    });
    const events = await collectEvents(
      sseEvents(body, openaiEvents(), new AbortController().signal),
    );
    expect(events[0]).toEqual({ type: "text", text: "café" });
  });
});

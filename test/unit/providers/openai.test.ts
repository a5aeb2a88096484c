import { describe, expect, it } from "vitest";
import { SluiceError } from "../../../src/errors.ts";
import type { FetchLike } from "../../../src/providers/fetch-upstream.ts";
import { createOpenAIProvider, openaiEvents } from "../../../src/providers/openai.ts";
import { fixtureBytes } from "./fixtures.ts";
import { bytesOf, collectEvents, replay, replayText, sse, summarize } from "./support.ts";

const text = (content: string) => ({ choices: [{ index: 0, delta: { content } }] });
const finish = (reason: string) => ({ choices: [{ index: 0, delta: {}, finish_reason: reason }] });
const usage = { choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } };

describe("openaiEvents", () => {
  it("ends with upstream_dropped when the stream closes without [DONE] or a finish reason", async () => {
    const events = await replay(bytesOf([sse(text("Hel")), sse(text("lo"))]), openaiEvents());
    expect(events).toEqual([
      { type: "text", text: "Hel" },
      { type: "text", text: "lo" },
      {
        type: "error",
        code: "upstream_dropped",
        message: "The upstream closed the stream before it finished",
      },
    ]);
  });

  it("still finishes when a finish reason came but [DONE] did not", async () => {
    const events = await replayText(sse(text("Hi"), finish("stop"), usage), openaiEvents());
    expect(summarize(events)).toMatchObject({ text: "Hi", finish: "stop", error: undefined });
  });

  it("ends with upstream_malformed at a chunk that is not JSON, and reads nothing after it", async () => {
    const events = await replayText(
      sse(text("a"), "{not json", text("b"), "[DONE]"),
      openaiEvents(),
    );
    expect(events.map((event) => event.type)).toEqual(["text", "error"]);
    expect(summarize(events).error?.code).toBe("upstream_malformed");
  });

  it("sends finish last, after the usage chunk that follows the finish chunk", async () => {
    const events = await replayText(
      sse(text("x"), finish("length"), usage, "[DONE]"),
      openaiEvents(),
    );
    expect(events.map((event) => event.type)).toEqual(["text", "usage", "finish"]);
    expect(events[1]).toEqual({ type: "usage", usage: { inputTokens: 3, outputTokens: 2 } });
    expect(events[2]).toEqual({ type: "finish", reason: "length" });
  });

  it("finishes with stop when [DONE] comes without any finish reason", async () => {
    const events = await replayText(sse(text("x"), "[DONE]"), openaiEvents());
    expect(events.at(-1)).toEqual({ type: "finish", reason: "stop" });
  });

  it("ignores everything after [DONE]", async () => {
    const events = await replayText(sse(text("x"), "[DONE]", text("late"), "junk"), openaiEvents());
    expect(summarize(events).text).toBe("x");
  });

  it("turns a tool-call stream into no text and a tool_calls finish", async () => {
    const events = await replay(
      bytesOf([new TextDecoder().decode(fixtureBytes("openai-gpt4o-tool-call.sse"))]),
      openaiEvents(),
    );
    expect(events.filter((event) => event.type === "text")).toEqual([]);
    expect(summarize(events).finish).toBe("tool_calls");
  });

  it("lets an error reported after the finish reason replace the finish", async () => {
    const events = await replay(
      bytesOf([new TextDecoder().decode(fixtureBytes("openrouter-midstream-error.sse"))]),
      openaiEvents(),
    );
    expect(events.some((event) => event.type === "finish")).toBe(false);
    expect(events.at(-1)).toEqual({
      type: "error",
      code: "upstream_error",
      message: "The upstream failed mid-stream: Token limit reached",
    });
  });

  it("reads an error given as a bare string, and one without a message", async () => {
    const bare = await replayText(sse(text("a"), { error: "model unloaded" }), openaiEvents());
    expect(summarize(bare).error?.message).toContain("model unloaded");
    const silent = await replayText(sse({ error: { code: 500 } }), openaiEvents());
    expect(summarize(silent).error?.code).toBe("upstream_error");
  });

  it("skips SSE comments, empty data and unknown fields", async () => {
    const body = `: keep-alive\n\ndata:\n\nfoo: bar\n${sse(text("ok"), "[DONE]")}`;
    expect(summarize(await replayText(body, openaiEvents())).text).toBe("ok");
  });

  it("adds no text for role-only deltas, content null or reasoning deltas", async () => {
    const body = sse(
      { choices: [{ delta: { role: "assistant", content: "" } }] },
      { choices: [{ delta: { content: null, reasoning: "hmm" } }] },
      text("yes"),
      "[DONE]",
    );
    expect(summarize(await replayText(body, openaiEvents())).text).toBe("yes");
  });
});

/** A fetcher that records the request and answers with a tiny successful stream. */
function recordingFetcher(): { fetcher: FetchLike; requests: Request[] } {
  const requests: Request[] = [];
  const fetcher: FetchLike = async (request) => {
    requests.push(request);
    return new Response(sse(text("hi"), finish("stop"), "[DONE]"), {
      headers: { "content-type": "text/event-stream" },
    });
  };
  return { fetcher, requests };
}

const messages = [
  { role: "system" as const, content: "Be brief." },
  { role: "user" as const, content: "Hello?" },
];

describe("createOpenAIProvider", () => {
  it("posts the conversation to OPENAI_BASE_URL/chat/completions with a Bearer key", async () => {
    const { fetcher, requests } = recordingFetcher();
    const provider = createOpenAIProvider(
      { OPENAI_BASE_URL: "https://llm.example/v1/", OPENAI_API_KEY: "sk-test", MODEL: "m-1" },
      fetcher,
    );
    const events = await collectEvents(
      await provider.stream({ messages, signal: new AbortController().signal }),
    );
    expect(summarize(events)).toMatchObject({ text: "hi", finish: "stop" });
    const [request] = requests;
    expect(request?.url).toBe("https://llm.example/v1/chat/completions");
    expect(request?.method).toBe("POST");
    expect(request?.headers.get("authorization")).toBe("Bearer sk-test");
    expect(await request?.json()).toEqual({
      model: "m-1",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("defaults to api.openai.com and gpt-4o-mini", async () => {
    const { fetcher, requests } = recordingFetcher();
    const provider = createOpenAIProvider({ OPENAI_API_KEY: "sk-test" }, fetcher);
    expect(provider.model).toBe("gpt-4o-mini");
    await collectEvents(await provider.stream({ messages, signal: new AbortController().signal }));
    expect(requests[0]?.url).toBe("https://api.openai.com/v1/chat/completions");
  });

  it("reports a missing key from stream(), not when the provider is created", async () => {
    const provider = createOpenAIProvider({}, recordingFetcher().fetcher);
    const failure = provider.stream({ messages, signal: new AbortController().signal });
    await expect(failure).rejects.toBeInstanceOf(SluiceError);
    await expect(failure).rejects.toMatchObject({
      code: "config_error",
      message: "OPENAI_API_KEY is not set; run `wrangler secret put OPENAI_API_KEY`",
    });
  });

  it("needs no key for a server on this machine, and then sends no Authorization", async () => {
    for (const base of ["http://localhost:11434/v1", "http://127.0.0.1:8000/v1"]) {
      const { fetcher, requests } = recordingFetcher();
      const provider = createOpenAIProvider({ OPENAI_BASE_URL: base }, fetcher);
      await collectEvents(
        await provider.stream({ messages, signal: new AbortController().signal }),
      );
      expect(requests[0]?.headers.has("authorization")).toBe(false);
    }
  });

  it("reports an OPENAI_BASE_URL that is not a URL as a config_error", async () => {
    const provider = createOpenAIProvider({ OPENAI_BASE_URL: "api.example", OPENAI_API_KEY: "k" });
    await expect(
      provider.stream({ messages, signal: new AbortController().signal }),
    ).rejects.toMatchObject({ code: "config_error" });
  });
});

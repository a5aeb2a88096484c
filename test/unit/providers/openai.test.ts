import { describe, expect, it } from "vitest";
import { SluiceError } from "../../../src/errors.ts";
import type { FetchLike } from "../../../src/providers/fetch-upstream.ts";
import { createOpenAIProvider, openaiEvents } from "../../../src/providers/openai.ts";
import { MAX_TOOL_ARGUMENTS } from "../../../src/providers/tool-input.ts";
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

  it("turns a tool-call stream into no text, one tool call and a tool_calls finish", async () => {
    const events = await replay(
      bytesOf([new TextDecoder().decode(fixtureBytes("openai-gpt4o-tool-call.sse"))]),
      openaiEvents(),
    );
    expect(events.filter((event) => event.type === "text")).toEqual([]);
    expect(summarize(events)).toMatchObject({
      finish: "tool_calls",
      toolCalls: [
        { name: "GetWeatherArgs", input: { city: "Edinburgh", country: "UK", units: "c" } },
      ],
    });
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

/** A chunk whose delta carries `tool_calls` entries. */
const calls = (...entries: unknown[]) => ({
  choices: [{ index: 0, delta: { tool_calls: entries } }],
});
/** A `tool_calls` entry: `index`, then `id` / `name` / `arguments` when given. */
const call = (
  index: number | undefined,
  fields: { id?: string; name?: string; args?: string },
) => ({
  ...(index === undefined ? {} : { index }),
  ...(fields.id === undefined ? {} : { id: fields.id, type: "function" }),
  function: {
    ...(fields.name === undefined ? {} : { name: fields.name }),
    ...(fields.args === undefined ? {} : { arguments: fields.args }),
  },
});
const reasoning = (delta: object) => ({ choices: [{ index: 0, delta }] });

/** The outcome of `payloads` as one Chat Completions stream, cut with `seed`. */
async function outcomeOf(payloads: (string | object)[], seed = 1) {
  return summarize(await replayText(sse(...payloads), openaiEvents(), seed));
}

describe("openaiEvents parts", () => {
  it("groups parallel calls by index, even when their argument pieces interleave", async () => {
    const payloads = [
      calls(call(0, { id: "call_a", name: "weather", args: "" })),
      calls(call(1, { id: "call_b", name: "time", args: '{"tz":' })),
      calls(call(0, { args: '{"city":' })),
      calls(call(1, { args: '"CET"}' }), call(0, { args: '"Paris"}' })),
      finish("tool_calls"),
      "[DONE]",
    ];
    for (let seed = 1; seed <= 20; seed++) {
      const outcome = await outcomeOf(payloads, seed);
      expect(outcome.toolCalls).toEqual([
        {
          id: "call_a",
          name: "weather",
          arguments: '{"city":"Paris"}',
          input: { city: "Paris" },
          invalid: undefined,
        },
        {
          id: "call_b",
          name: "time",
          arguments: '{"tz":"CET"}',
          input: { tz: "CET" },
          invalid: undefined,
        },
      ]);
      expect(outcome.finish).toBe("tool_calls");
    }
  });

  it("numbers calls 0, 1, ... in start order and sends each call's deltas with its number", async () => {
    const events = await replayText(
      sse(
        calls(call(0, { id: "call_a", name: "f", args: '{"a":1}' })),
        calls(call(1, { id: "call_b", name: "g", args: "{}" })),
        finish("tool_calls"),
        "[DONE]",
      ),
      openaiEvents(),
    );
    expect(events.filter((e) => e.type.startsWith("tool-call-"))).toEqual([
      { type: "tool-call-start", id: "call_a", index: 0, name: "f" },
      { type: "tool-call-delta", id: "call_a", index: 0, arguments: '{"a":1}' },
      { type: "tool-call-start", id: "call_b", index: 1, name: "g" },
      { type: "tool-call-delta", id: "call_b", index: 1, arguments: "{}" },
      {
        type: "tool-call-end",
        id: "call_a",
        index: 0,
        name: "f",
        arguments: '{"a":1}',
        input: { a: 1 },
      },
      { type: "tool-call-end", id: "call_b", index: 1, name: "g", arguments: "{}", input: {} },
    ]);
  });

  it("takes the id and name from the first delta that has them, holding earlier arguments", async () => {
    const events = await replayText(
      sse(
        calls(call(0, { args: '{"q"' })),
        calls(call(0, { id: "call_late", args: ":" })),
        calls(call(0, { name: "search", args: '"x"}' })),
        calls(call(0, { id: "call_other", name: "renamed" })),
        finish("tool_calls"),
        "[DONE]",
      ),
      openaiEvents(),
    );
    expect(events.slice(0, 3)).toEqual([
      { type: "tool-call-start", id: "call_late", index: 0, name: "search" },
      { type: "tool-call-delta", id: "call_late", index: 0, arguments: '{"q":"x"}' },
      {
        type: "tool-call-end",
        id: "call_late",
        index: 0,
        name: "search",
        arguments: '{"q":"x"}',
        input: { q: "x" },
      },
    ]);
  });

  it("reads a whole call in one delta, and arguments sent as an object", async () => {
    const outcome = await outcomeOf([
      calls({
        index: 0,
        id: "call_w",
        type: "function",
        function: { name: "f", arguments: { n: 1 } },
      }),
      finish("tool_calls"),
      "[DONE]",
    ]);
    expect(outcome.toolCalls).toEqual([
      { id: "call_w", name: "f", arguments: '{"n":1}', input: { n: 1 }, invalid: undefined },
    ]);
  });

  it("reads reasoning_content, reasoning and reasoning_details, one of them per delta", async () => {
    const outcome = await outcomeOf([
      reasoning({ reasoning_content: "A", reasoning: "not this" }),
      reasoning({ reasoning_content: "", reasoning: "B" }),
      reasoning({ reasoning: null, reasoning_details: [{ type: "reasoning.text", text: "C" }] }),
      reasoning({ reasoning_details: [{ type: "reasoning.summary", summary: "D" }] }),
      reasoning({ reasoning_details: [{ type: "reasoning.encrypted", data: "opaque" }] }),
      reasoning({ reasoning: "E", reasoning_details: [{ type: "reasoning.text", text: "E" }] }),
      text("answer"),
      "[DONE]",
    ]);
    expect(outcome).toMatchObject({ reasoning: "ABCDE", text: "answer", finish: "stop" });
    expect(outcome.reasoningParts.map((part) => part.id)).toEqual(["reasoning-0"]);
  });

  it("ends reasoning at text or a tool call, and opens a new part when reasoning resumes", async () => {
    const events = await replayText(
      sse(
        reasoning({ reasoning_content: "one" }),
        text("Hi"),
        reasoning({ reasoning_content: "two" }),
        calls(call(0, { id: "call_r", name: "f", args: "{}" })),
        finish("tool_calls"),
        "[DONE]",
      ),
      openaiEvents(),
    );
    expect(events.map((e) => ("id" in e ? `${e.type}:${e.id}` : e.type))).toEqual([
      "reasoning-start:reasoning-0",
      "reasoning-delta:reasoning-0",
      "reasoning-end:reasoning-0",
      "text",
      "reasoning-start:reasoning-1",
      "reasoning-delta:reasoning-1",
      "reasoning-end:reasoning-1",
      "tool-call-start:call_r",
      "tool-call-delta:call_r",
      "tool-call-end:call_r",
      "finish",
    ]);
  });

  it("closes the parts at the finish reason and ignores later pieces of an ended call", async () => {
    const outcome = await outcomeOf([
      calls(call(0, { id: "call_x", name: "f", args: '{"a":1}' })),
      finish("tool_calls"),
      calls(call(0, { args: "garbage" })),
      usage,
      "[DONE]",
    ]);
    expect(outcome.toolCalls).toEqual([
      { id: "call_x", name: "f", arguments: '{"a":1}', input: { a: 1 }, invalid: undefined },
    ]);
  });

  it("closes the parts when the stream ends after a finish reason but without [DONE]", async () => {
    const outcome = await outcomeOf([
      reasoning({ reasoning_content: "r" }),
      calls(call(0, { id: "call_y", name: "f", args: "{}" })),
      finish("tool_calls"),
    ]);
    expect(outcome).toMatchObject({ reasoning: "r", finish: "tool_calls", error: undefined });
    expect(outcome.toolCalls).toHaveLength(1);
  });

  it("leaves a call open, without an end, when an error ends the stream", async () => {
    const events = await replayText(
      sse(calls(call(0, { id: "call_e", name: "f", args: '{"a"' })), {
        error: { message: "boom" },
      }),
      openaiEvents(),
    );
    expect(events.map((e) => e.type)).toEqual(["tool-call-start", "tool-call-delta", "error"]);
  });

  it.each<[string, (string | object)[], Partial<Record<"invalid" | "input", unknown>>]>([
    [
      "arguments that never form valid JSON end as tool-call-invalid",
      [calls(call(0, { id: "call_1", name: "f", args: '{"city": "Par' })), finish("length")],
      {
        invalid: expect.stringMatching(/^The tool call's arguments are not valid JSON: /),
        input: undefined,
      },
    ],
    [
      "arguments that are JSON but an array end as tool-call-invalid",
      [calls(call(0, { id: "call_1", name: "f", args: "[1,2]" })), finish("tool_calls")],
      { invalid: "The tool call's arguments are an array, not a JSON object", input: undefined },
    ],
    [
      "arguments that are a JSON string end as tool-call-invalid",
      [calls(call(0, { id: "call_1", name: "f", args: '"x"' })), finish("tool_calls")],
      { invalid: "The tool call's arguments are a string, not a JSON object", input: undefined },
    ],
    [
      "no arguments at all give the input {}",
      [calls(call(0, { id: "call_1", name: "f" })), finish("tool_calls")],
      { invalid: undefined, input: {} },
    ],
    [
      "an entry without an index continues the last call",
      [
        calls(call(undefined, { id: "call_1", name: "f", args: '{"a"' })),
        calls(call(undefined, { args: ":1}" })),
        finish("tool_calls"),
      ],
      { invalid: undefined, input: { a: 1 } },
    ],
    [
      "unknown fields in the chunk, the delta, the entry and the function are ignored",
      [
        {
          future: 1,
          choices: [
            {
              delta: {
                audio: { id: "a" },
                tool_calls: [
                  {
                    index: 0,
                    id: "call_1",
                    type: "function",
                    extra: true,
                    function: { name: "f", arguments: "{}", strict: true },
                  },
                ],
              },
            },
          ],
        },
        finish("tool_calls"),
      ],
      { invalid: undefined, input: {} },
    ],
  ])("%s", async (_, payloads, expected) => {
    const outcome = await outcomeOf([...payloads, "[DONE]"]);
    expect(outcome.error).toBeUndefined();
    expect(outcome.toolCalls).toEqual([
      expect.objectContaining({ id: "call_1", name: "f", ...expected }),
    ]);
  });

  it("starts a new call for an entry without an index but with a new id", async () => {
    const outcome = await outcomeOf([
      calls(call(undefined, { id: "call_1", name: "f", args: "{}" })),
      calls(call(undefined, { id: "call_2", name: "g", args: "{}" })),
      calls(call(undefined, { id: "call_1", args: "" })),
      finish("tool_calls"),
      "[DONE]",
    ]);
    expect(outcome.toolCalls.map((c) => [c.id, c.name])).toEqual([
      ["call_1", "f"],
      ["call_2", "g"],
    ]);
  });

  it.each<[string, object, string]>([
    [
      "an index that is negative",
      calls(call(-1, { id: "c", name: "f" })),
      "a tool call with index -1",
    ],
    [
      "an index that is a string",
      calls({ index: "0", id: "c", function: { name: "f" } }),
      'a tool call with index "0"',
    ],
    [
      "an index that is not whole",
      calls(call(1.5, { id: "c", name: "f" })),
      "a tool call with index 1.5",
    ],
    [
      "tool_calls that is an object",
      { choices: [{ delta: { tool_calls: { index: 0 } } }] },
      "tool_calls that is not an array",
    ],
    ["an entry that is not an object", calls("call"), "a tool_calls entry that is not an object"],
    [
      "a call that never gets a name",
      calls(call(0, { id: "call_n", args: "{}" })),
      "a tool call (call_n) without a function name",
    ],
  ])("ends with upstream_malformed at %s", async (_, chunk, what) => {
    const outcome = await outcomeOf([chunk, finish("tool_calls"), "[DONE]"]);
    expect(outcome.error).toEqual({
      type: "error",
      code: "upstream_malformed",
      message: `The upstream sent ${what}`,
    });
  });

  it("ends with upstream_malformed when a call's arguments pass MAX_TOOL_ARGUMENTS", async () => {
    const piece = "x".repeat(64 * 1024);
    const payloads = [calls(call(0, { id: "call_big", name: "f", args: '{"a":"' }))];
    for (let i = 0; i * piece.length <= MAX_TOOL_ARGUMENTS; i++)
      payloads.push(calls(call(0, { args: piece })));
    const events = await replay(
      bytesOf([sse(...payloads, finish("tool_calls"), "[DONE]")]),
      openaiEvents(),
    );
    expect(events.at(-1)).toEqual({
      type: "error",
      code: "upstream_malformed",
      message: `The upstream sent tool call arguments over ${MAX_TOOL_ARGUMENTS} characters`,
    });
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

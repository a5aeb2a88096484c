import { describe, expect, it } from "vitest";
import { createAnthropicProvider } from "../../../src/providers/anthropic.ts";
import { anthropicEvents } from "../../../src/providers/anthropic-events.ts";
import type { FetchLike } from "../../../src/providers/fetch-upstream.ts";
import { BODIES } from "./fixtures.ts";
import { collectEvents, replayText, summarize } from "./support.ts";

/** One Anthropic SSE event, with its `event:` line unless `bare`. */
function event(payload: { type: string } & Record<string, unknown>, bare = false): string {
  const name = bare ? "" : `event: ${payload.type}\n`;
  return `${name}data: ${JSON.stringify(payload)}\n\n`;
}

const start = event({
  type: "message_start",
  message: { usage: { input_tokens: 11, output_tokens: 1 } },
});
const delta = (text: string) =>
  event({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text } });
const messageDelta = (usage: object) =>
  event({ type: "message_delta", delta: { stop_reason: "end_turn" }, usage });
const stop = event({ type: "message_stop" });

describe("anthropicEvents", () => {
  it("never turns thinking deltas into text", async () => {
    const outcome = summarize(
      await replayText(BODIES["anthropic-sonnet45-thinking.sse"] ?? "", anthropicEvents()),
    );
    expect(outcome.text).toBe("925 ÷ 5 = 185");
    expect(outcome.text).not.toContain("The previous");
  });

  it("sends one usage at message_delta, taking input tokens from message_start if needed", async () => {
    const events = await replayText(
      start + delta("Hi") + messageDelta({ output_tokens: 7 }) + stop,
      anthropicEvents(),
    );
    expect(events).toEqual([
      { type: "text", text: "Hi" },
      { type: "usage", usage: { inputTokens: 11, outputTokens: 7 } },
      { type: "finish", reason: "end_turn" },
    ]);
  });

  it("prefers message_delta's input tokens when it has them", async () => {
    const body = start + messageDelta({ input_tokens: 20, output_tokens: 7 }) + stop;
    const outcome = summarize(await replayText(body, anthropicEvents()));
    expect(outcome.usage).toEqual({ inputTokens: 20, outputTokens: 7 });
  });

  it("skips ping, unknown event, block and delta types, and server tool blocks", async () => {
    const body =
      start +
      event({ type: "ping" }) +
      event({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }) +
      delta("A") +
      event({
        type: "content_block_delta",
        index: 0,
        delta: { type: "citations_delta", citation: { cited_text: "x" } },
      }) +
      event({ type: "future_event", detail: 1 }) +
      event({ type: "content_block_stop", index: 0 }) +
      event({
        type: "content_block_start",
        index: 1,
        content_block: { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: {} },
      }) +
      event({
        type: "content_block_delta",
        index: 1,
        delta: { type: "future_delta", partial_json: "{}" },
      }) +
      event({ type: "content_block_stop", index: 1 }) +
      messageDelta({ output_tokens: 1 }) +
      stop;
    const events = await replayText(body, anthropicEvents());
    expect(events.map((e) => e.type)).toEqual(["text", "usage", "finish"]);
    expect(summarize(events)).toMatchObject({ text: "A", finish: "end_turn", error: undefined });
  });

  it("reads events by their JSON type even without an event: line", async () => {
    const body =
      event({ type: "message_start", message: {} }, true) +
      delta("x") +
      event({ type: "message_stop" }, true);
    expect(summarize(await replayText(body, anthropicEvents()))).toMatchObject({
      text: "x",
      finish: "end_turn",
    });
  });

  it("ends with upstream_dropped when the stream closes before a stop reason", async () => {
    const outcome = summarize(await replayText(start + delta("Hel"), anthropicEvents()));
    expect(outcome).toMatchObject({ text: "Hel", finish: "error" });
    expect(outcome.error?.code).toBe("upstream_dropped");
  });

  it("still finishes when the stop reason came but message_stop did not", async () => {
    const outcome = summarize(
      await replayText(start + delta("Hi") + messageDelta({ output_tokens: 1 }), anthropicEvents()),
    );
    expect(outcome).toMatchObject({ text: "Hi", finish: "end_turn", error: undefined });
  });

  it("turns an error event into upstream_error with the upstream's message and type", async () => {
    const body =
      start +
      delta("Hel") +
      event({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } });
    const outcome = summarize(await replayText(body, anthropicEvents()));
    expect(outcome.error).toEqual({
      type: "error",
      code: "upstream_error",
      message: "The upstream failed mid-stream: Overloaded (overloaded_error)",
    });
  });

  it("ends with upstream_malformed at an event that is not JSON", async () => {
    const outcome = summarize(
      await replayText(`${start}data: {oops\n\n${delta("late")}`, anthropicEvents()),
    );
    expect(outcome.error?.code).toBe("upstream_malformed");
    expect(outcome.text).toBe("");
  });
});

/** `content_block_start` of block `index`. */
const blockStart = (index: number, content_block: object) =>
  event({ type: "content_block_start", index, content_block });
/** `content_block_delta` of block `index`. */
const blockDelta = (index: number, delta: object) =>
  event({ type: "content_block_delta", index, delta });
const blockStop = (index: number) => event({ type: "content_block_stop", index });
const toolStop = event({
  type: "message_delta",
  delta: { stop_reason: "tool_use" },
  usage: { output_tokens: 9 },
});

describe("anthropicEvents parts", () => {
  it("keeps a thinking block's signature on its reasoning-end", async () => {
    const body = BODIES["anthropic-sonnet45-thinking.sse"] ?? "";
    for (let seed = 1; seed <= 20; seed++) {
      const outcome = summarize(await replayText(body, anthropicEvents(), seed));
      expect(outcome.reasoningParts).toEqual([
        {
          id: "reasoning-0",
          text: "The previous result was 925. Now I need to divide that by 5.\n\n925 ÷ 5 = 185",
          signature: expect.stringMatching(/^EvQBCkYICxgCKkAxhD4N.*17BgB$/),
          redactedData: undefined,
        },
      ]);
    }
  });

  it("turns redacted_thinking into a reasoning part with no text and its data on the end", async () => {
    const body =
      start +
      blockStart(0, { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix/LafPsn4a" }) +
      blockStop(0) +
      blockStart(1, { type: "thinking", thinking: "", signature: "" }) +
      blockDelta(1, { type: "thinking_delta", thinking: "Next." }) +
      blockDelta(1, { type: "signature_delta", signature: "sig-" }) +
      blockDelta(1, { type: "signature_delta", signature: "two" }) +
      blockStop(1) +
      blockStart(2, { type: "text", text: "" }) +
      blockDelta(2, { type: "text_delta", text: "Done" }) +
      blockStop(2) +
      messageDelta({ output_tokens: 5 }) +
      stop;
    const events = await replayText(body, anthropicEvents());
    expect(events.slice(0, 5)).toEqual([
      { type: "reasoning-start", id: "reasoning-0" },
      { type: "reasoning-end", id: "reasoning-0", redactedData: "EmwKAhgBEgy3va3pzix/LafPsn4a" },
      { type: "reasoning-start", id: "reasoning-1" },
      { type: "reasoning-delta", id: "reasoning-1", text: "Next." },
      { type: "reasoning-end", id: "reasoning-1", signature: "sig-two" },
    ]);
    expect(summarize(events)).toMatchObject({
      text: "Done",
      reasoning: "Next.",
      finish: "end_turn",
    });
  });

  it("streams a tool_use block as a tool call and parses its input at the block's stop", async () => {
    const body =
      start +
      blockStart(0, { type: "tool_use", id: "toolu_1", name: "get_weather", input: {} }) +
      blockDelta(0, { type: "input_json_delta", partial_json: "" }) +
      blockDelta(0, { type: "input_json_delta", partial_json: '{"city": "Zü' }) +
      blockDelta(0, { type: "input_json_delta", partial_json: 'rich"}' }) +
      blockStop(0) +
      toolStop +
      stop;
    const events = await replayText(body, anthropicEvents());
    expect(events).toEqual([
      { type: "tool-call-start", id: "toolu_1", index: 0, name: "get_weather" },
      { type: "tool-call-delta", id: "toolu_1", index: 0, arguments: '{"city": "Zü' },
      { type: "tool-call-delta", id: "toolu_1", index: 0, arguments: 'rich"}' },
      {
        type: "tool-call-end",
        id: "toolu_1",
        index: 0,
        name: "get_weather",
        arguments: '{"city": "Zürich"}',
        input: { city: "Zürich" },
      },
      { type: "usage", usage: { inputTokens: 11, outputTokens: 9 } },
      { type: "finish", reason: "tool_use" },
    ]);
  });

  it.each([
    ["no input deltas at all", [], "", {}],
    ["an input on the block start and no deltas", [], '{"a":1}', { a: 1 }],
  ])("gives a tool_use block with %s its input", async (_, deltas: string[], initial, input) => {
    const body =
      start +
      blockStart(0, {
        type: "tool_use",
        id: "toolu_2",
        name: "now",
        input: initial ? JSON.parse(initial) : {},
      }) +
      deltas
        .map((piece) => blockDelta(0, { type: "input_json_delta", partial_json: piece }))
        .join("") +
      blockStop(0) +
      toolStop +
      stop;
    const [call] = summarize(await replayText(body, anthropicEvents())).toolCalls;
    expect(call).toEqual({
      id: "toolu_2",
      name: "now",
      arguments: initial,
      input,
      invalid: undefined,
    });
  });

  it("ends a call whose input never forms JSON as tool-call-invalid, and the stream goes on", async () => {
    const body =
      start +
      blockStart(0, { type: "tool_use", id: "toolu_3", name: "f", input: {} }) +
      blockDelta(0, { type: "input_json_delta", partial_json: '{"a": ' }) +
      blockStop(0) +
      toolStop +
      stop;
    const outcome = summarize(await replayText(body, anthropicEvents()));
    expect(outcome.toolCalls).toEqual([
      {
        id: "toolu_3",
        name: "f",
        arguments: '{"a": ',
        input: undefined,
        invalid: expect.stringMatching(/^The tool call's arguments are not valid JSON: /),
      },
    ]);
    expect(outcome).toMatchObject({ finish: "tool_use", error: undefined });
  });

  it("ends blocks still open at message_stop before the finish", async () => {
    const body =
      start +
      blockStart(0, { type: "thinking", thinking: "", signature: "" }) +
      blockDelta(0, { type: "thinking_delta", thinking: "hm" }) +
      messageDelta({ output_tokens: 1 }) +
      stop;
    const outcome = summarize(await replayText(body, anthropicEvents()));
    expect(outcome).toMatchObject({ reasoning: "hm", finish: "end_turn" });
  });

  it("leaves the open part open when an error ends the stream", async () => {
    const body =
      start +
      blockStart(0, { type: "tool_use", id: "toolu_4", name: "f", input: {} }) +
      blockDelta(0, { type: "input_json_delta", partial_json: '{"a"' }) +
      event({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } });
    const events = await replayText(body, anthropicEvents());
    expect(events.map((e) => e.type)).toEqual(["tool-call-start", "tool-call-delta", "error"]);
    expect(summarize(events).toolCalls).toEqual([]);
  });

  it.each([
    [
      "a thinking delta before any start",
      blockDelta(0, { type: "thinking_delta", thinking: "x" }),
      "thinking_delta for block 0, which is not an open block of its kind",
    ],
    [
      "a signature delta for a text block",
      blockStart(0, { type: "text", text: "" }) +
        blockDelta(0, { type: "signature_delta", signature: "s" }),
      "signature_delta for block 0, which is not an open block of its kind",
    ],
    [
      "an input delta for a block that already stopped",
      blockStart(0, { type: "tool_use", id: "toolu_5", name: "f", input: {} }) +
        blockStop(0) +
        blockDelta(0, { type: "input_json_delta", partial_json: "{}" }),
      "input_json_delta for block 0, which is not an open block of its kind",
    ],
    [
      "an input delta for a block that never started",
      blockDelta(3, { type: "input_json_delta", partial_json: "{}" }),
      "input_json_delta for block 3, which is not an open block of its kind",
    ],
    [
      "a tool_use start without an id",
      blockStart(0, { type: "tool_use", name: "f", input: {} }),
      "a tool_use block without an id or a name",
    ],
    [
      "a tool_use start with an empty name",
      blockStart(0, { type: "tool_use", id: "toolu_6", name: "", input: {} }),
      "a tool_use block without an id or a name",
    ],
    [
      "a block start without an index",
      event({ type: "content_block_start", content_block: { type: "thinking", thinking: "" } }),
      "a content_block_start event without a block index",
    ],
    [
      "a thinking delta with index -1",
      event({
        type: "content_block_delta",
        index: -1,
        delta: { type: "thinking_delta", thinking: "x" },
      }),
      "a content_block_delta event without a block index",
    ],
  ])("ends with upstream_malformed at %s", async (_, middle, what) => {
    const body = start + middle + messageDelta({ output_tokens: 1 }) + stop;
    const outcome = summarize(await replayText(body, anthropicEvents()));
    expect(outcome.error).toEqual({
      type: "error",
      code: "upstream_malformed",
      message: `The upstream sent ${what}`,
    });
  });

  it("still reads a text delta whose block never started as text, as before", async () => {
    const outcome = summarize(
      await replayText(
        start + delta("ok") + messageDelta({ output_tokens: 1 }) + stop,
        anthropicEvents(),
      ),
    );
    expect(outcome).toMatchObject({ text: "ok", error: undefined });
  });
});

function recordingFetcher(): { fetcher: FetchLike; requests: Request[] } {
  const requests: Request[] = [];
  const fetcher: FetchLike = async (request) => {
    requests.push(request);
    return new Response(start + delta("ok") + messageDelta({ output_tokens: 1 }) + stop, {
      headers: { "content-type": "text/event-stream" },
    });
  };
  return { fetcher, requests };
}

describe("createAnthropicProvider", () => {
  it("posts to ANTHROPIC_BASE_URL/messages with the key, the version and a top-level system", async () => {
    const { fetcher, requests } = recordingFetcher();
    const provider = createAnthropicProvider(
      { ANTHROPIC_BASE_URL: "https://proxy.example/v1", ANTHROPIC_API_KEY: "sk-ant-test" },
      fetcher,
    );
    const messages = [
      { role: "system" as const, content: "Be brief." },
      { role: "user" as const, content: "Hi" },
      { role: "assistant" as const, content: "Hello." },
      { role: "user" as const, content: "Bye" },
    ];
    const events = await collectEvents(
      await provider.stream({ messages, signal: new AbortController().signal }),
    );
    expect(summarize(events).text).toBe("ok");
    const [request] = requests;
    expect(request?.url).toBe("https://proxy.example/v1/messages");
    expect(request?.headers.get("x-api-key")).toBe("sk-ant-test");
    expect(request?.headers.get("anthropic-version")).toBe("2023-06-01");
    expect(await request?.json()).toEqual({
      model: "claude-sonnet-4-5",
      max_tokens: 4096,
      stream: true,
      system: "Be brief.",
      messages: messages.slice(1),
    });
  });

  it("sends no system field when the conversation has no system message", async () => {
    const { fetcher, requests } = recordingFetcher();
    const provider = createAnthropicProvider(
      { ANTHROPIC_API_KEY: "k", MODEL: "claude-x" },
      fetcher,
    );
    await collectEvents(
      await provider.stream({
        messages: [{ role: "user", content: "Hi" }],
        signal: new AbortController().signal,
      }),
    );
    expect(requests[0]?.url).toBe("https://api.anthropic.com/v1/messages");
    const body: unknown = await requests[0]?.json();
    expect(body).toMatchObject({ model: "claude-x" });
    expect(body).not.toHaveProperty("system");
  });

  it("reports a missing key from stream(), not when the provider is created", async () => {
    const provider = createAnthropicProvider({});
    await expect(
      provider.stream({ messages: [], signal: new AbortController().signal }),
    ).rejects.toMatchObject({
      code: "config_error",
      message: "ANTHROPIC_API_KEY is not set; run `wrangler secret put ANTHROPIC_API_KEY`",
    });
  });
});

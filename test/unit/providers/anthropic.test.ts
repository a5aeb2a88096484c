import { describe, expect, it } from "vitest";
import { anthropicEvents, createAnthropicProvider } from "../../../src/providers/anthropic.ts";
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

  it("skips ping, block start and stop, tool input and unknown event types", async () => {
    const body =
      start +
      event({ type: "ping" }) +
      event({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }) +
      delta("A") +
      event({
        type: "content_block_delta",
        index: 1,
        delta: { type: "input_json_delta", partial_json: "{}" },
      }) +
      event({ type: "future_event", detail: 1 }) +
      event({ type: "content_block_stop", index: 0 }) +
      messageDelta({ output_tokens: 1 }) +
      stop;
    expect(summarize(await replayText(body, anthropicEvents())).text).toBe("A");
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

import { describe, expect, it } from "vitest";
import type { AiRunner } from "../../../src/providers/workers-ai.ts";
import { createWorkersAiProvider, workersAiEvents } from "../../../src/providers/workers-ai.ts";
import { rechunk, rechunkInsideCharacters } from "../../helpers/rechunk.ts";
import { bytesOf, collectEvents, replay, replayText, sse, summarize } from "./support.ts";

/** A stream in the documented format: tokens with `p` padding, a usage chunk, then [DONE]. */
const DOCUMENTED = sse(
  { response: "Bonjour", p: "abcdefgh" },
  { response: " — café", p: "abc" },
  { response: " au lait.", p: "a" },
  { response: "", usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 } },
  "[DONE]",
);

const messages = [{ role: "user" as const, content: "Hi" }];

describe("workersAiEvents", () => {
  it("reads response tokens, the usage chunk and [DONE] however the bytes are cut", async () => {
    const bytes = new TextEncoder().encode(DOCUMENTED);
    for (let seed = 1; seed <= 20; seed++) {
      for (const body of [rechunk(bytes, seed), rechunkInsideCharacters(bytes, seed)]) {
        expect(summarize(await replay(body, workersAiEvents()))).toMatchObject({
          text: "Bonjour — café au lait.",
          reasoning: "",
          toolCalls: [],
          finish: "stop",
          usage: { inputTokens: 12, outputTokens: 5 },
          error: undefined,
        });
      }
    }
  });

  it("reads Chat Completions chunks from newer models, reasoning_content as a reasoning part", async () => {
    const body = sse(
      { choices: [{ delta: { reasoning_content: "think" }, finish_reason: null }] },
      { choices: [{ delta: { content: "Hello" }, finish_reason: null }] },
      { choices: [{ delta: {}, finish_reason: "length" }] },
      { response: "", usage: { prompt_tokens: 1, completion_tokens: 1 } },
      "[DONE]",
    );
    const events = await replayText(body, workersAiEvents());
    expect(events.slice(0, 4)).toEqual([
      { type: "reasoning-start", id: "reasoning-0" },
      { type: "reasoning-delta", id: "reasoning-0", text: "think" },
      { type: "reasoning-end", id: "reasoning-0" },
      { type: "text", text: "Hello" },
    ]);
    expect(summarize(events)).toMatchObject({
      text: "Hello",
      reasoning: "think",
      finish: "length",
      usage: { inputTokens: 1, outputTokens: 1 },
      error: undefined,
    });
  });

  it("reads Workers AI's own tool_calls ([{name, arguments}], as Cloudflare documents) as whole calls", async () => {
    // The "Traditional" function calling page: `response.tool_calls` is `[{arguments, name}]`.
    const body = sse(
      {
        response: "",
        tool_calls: [
          { arguments: { latitude: "51.5074", longitude: "-0.1278" }, name: "getWeather" },
          { arguments: {}, name: "getTime" },
        ],
      },
      { response: "", usage: { prompt_tokens: 30, completion_tokens: 12 } },
      "[DONE]",
    );
    let ids = 0;
    const newId = () => `call_test${ids++}`;
    for (let seed = 1; seed <= 20; seed++) {
      ids = 0;
      const events = await replayText(body, workersAiEvents(newId), seed);
      const outcome = summarize(events);
      expect(outcome.toolCalls).toEqual([
        {
          id: "call_test0",
          name: "getWeather",
          arguments: '{"latitude":"51.5074","longitude":"-0.1278"}',
          input: { latitude: "51.5074", longitude: "-0.1278" },
          invalid: undefined,
        },
        { id: "call_test1", name: "getTime", arguments: "{}", input: {}, invalid: undefined },
      ]);
      expect(outcome).toMatchObject({ text: "", finish: "stop", error: undefined });
    }
  });

  it("names calls without an id call_ and 24 hex digits by default", async () => {
    const body = sse({ tool_calls: [{ name: "f", arguments: { a: 1 } }] }, "[DONE]");
    const [call] = summarize(await replayText(body, workersAiEvents())).toolCalls;
    expect(call?.id).toMatch(/^call_[0-9a-f]{24}$/);
  });

  it("reads delta.tool_calls of the Chat Completions format, and skips null entries", async () => {
    const body = sse(
      {
        choices: [
          {
            delta: {
              tool_calls: [
                { index: 0, id: "chatcmpl-tool-1", type: "function", function: { name: "f" } },
              ],
            },
          },
        ],
      },
      { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '{"x":' } }] } }] },
      { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: "2}" } }] } }] },
      { tool_calls: [{ id: null, type: null, function: { name: null } }] },
      { choices: [{ delta: {}, finish_reason: "tool_calls" }] },
      "[DONE]",
    );
    const outcome = summarize(await replayText(body, workersAiEvents()));
    expect(outcome.toolCalls).toEqual([
      {
        id: "chatcmpl-tool-1",
        name: "f",
        arguments: '{"x":2}',
        input: { x: 2 },
        invalid: undefined,
      },
    ]);
    expect(outcome.finish).toBe("tool_calls");
  });

  it.each([
    ["tool_calls that is not an array", { tool_calls: { name: "f" } }],
    ["a tool_calls entry that is not an object", { tool_calls: ["f"] }],
    ["a tool call without a function name", { tool_calls: [{ arguments: { a: 1 } }] }],
  ])("ends with upstream_malformed for %s", async (what, chunk) => {
    const outcome = summarize(await replayText(sse(chunk, "[DONE]"), workersAiEvents()));
    expect(outcome.error).toEqual({
      type: "error",
      code: "upstream_malformed",
      message: `The upstream sent ${what}`,
    });
  });

  it("ends with upstream_dropped when [DONE] never comes", async () => {
    const outcome = summarize(await replayText(sse({ response: "Hi" }), workersAiEvents()));
    expect(outcome).toMatchObject({ text: "Hi", finish: "error" });
    expect(outcome.error?.code).toBe("upstream_dropped");
  });
});

/** A fake binding whose `run` records its arguments and answers with `answer()`. */
function fakeAi(answer: () => unknown): { ai: AiRunner; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const ai: AiRunner = {
    async run(...args) {
      calls.push(args);
      return answer();
    },
  };
  return { ai, calls };
}

describe("createWorkersAiProvider", () => {
  it("runs the model with the messages and stream: true, and reads the stream it returns", async () => {
    const { ai, calls } = fakeAi(() => bytesOf([DOCUMENTED]));
    const provider = createWorkersAiProvider({ AI: ai });
    expect(provider.model).toBe("@cf/meta/llama-3.1-8b-instruct");
    const signal = new AbortController().signal;
    const outcome = summarize(await collectEvents(await provider.stream({ messages, signal })));
    expect(outcome.text).toBe("Bonjour — café au lait.");
    expect(calls).toEqual([["@cf/meta/llama-3.1-8b-instruct", { messages, stream: true }]]);
  });

  it("reports a missing AI binding as a config_error saying how to add it", async () => {
    const provider = createWorkersAiProvider({});
    const failure = provider.stream({ messages, signal: new AbortController().signal });
    await expect(failure).rejects.toMatchObject({ code: "config_error" });
    await expect(failure).rejects.toThrow('binding = "AI"');
  });

  it("cancels the binding's stream when the signal fires, without an error event", async () => {
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(sse({ response: "tick" })));
      },
      cancel() {
        cancelled = true;
      },
    });
    const controller = new AbortController();
    const provider = createWorkersAiProvider({ AI: fakeAi(() => endless).ai, MODEL: "@cf/x" });
    const events = await provider.stream({ messages, signal: controller.signal });
    expect(await events.next()).toEqual({ type: "text", text: "tick" });
    controller.abort();
    expect(await events.next()).toBeUndefined();
    expect(cancelled).toBe(true);
  });

  it("maps a rejected run to upstream_rate_limited or upstream_error", async () => {
    const signal = new AbortController().signal;
    const busy = createWorkersAiProvider({
      AI: fakeAi(() => Promise.reject(new Error("3040: Capacity temporarily exceeded"))).ai,
    });
    await expect(busy.stream({ messages, signal })).rejects.toMatchObject({
      code: "upstream_rate_limited",
    });
    const broken = createWorkersAiProvider({
      AI: fakeAi(() => Promise.reject(new Error("5007: No such model"))).ai,
    });
    await expect(broken.stream({ messages, signal })).rejects.toMatchObject({
      code: "upstream_error",
      message: "Workers AI refused the request: 5007: No such model",
    });
  });

  it("reports a run that returns no stream as upstream_malformed", async () => {
    const provider = createWorkersAiProvider({ AI: fakeAi(() => ({ response: "whole" })).ai });
    await expect(
      provider.stream({ messages, signal: new AbortController().signal }),
    ).rejects.toMatchObject({ code: "upstream_malformed" });
  });
});

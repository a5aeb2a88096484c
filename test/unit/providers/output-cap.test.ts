// MAX_OUTPUT_TOKENS in each provider's request: the field it goes in, and bad values.
import { describe, expect, it } from "vitest";
import { createAnthropicProvider } from "../../../src/providers/anthropic.ts";
import { createDemoProvider } from "../../../src/providers/demo.ts";
import type { FetchLike } from "../../../src/providers/fetch-upstream.ts";
import { createOpenAIProvider } from "../../../src/providers/openai.ts";
import { createWorkersAiProvider } from "../../../src/providers/workers-ai.ts";
import { collectEvents, summarize } from "./support.ts";

const messages = [{ role: "user" as const, content: "Hi" }];
const signal = new AbortController().signal;

/** A fetcher that keeps each request's JSON body and answers with an empty finished stream. */
function bodies(stream: string): { fetcher: FetchLike; sent: Array<Record<string, unknown>> } {
  const sent: Array<Record<string, unknown>> = [];
  const fetcher: FetchLike = async (request) => {
    sent.push(await request.json());
    return new Response(stream, { headers: { "content-type": "text/event-stream" } });
  };
  return { fetcher, sent };
}

const OPENAI_DONE = 'data: {"choices":[{"delta":{},"finish_reason":"length"}]}\n\ndata: [DONE]\n\n';

describe("the output cap", () => {
  it.each([
    ["https://api.openai.com/v1", "max_completion_tokens"],
    ["https://my-resource.openai.azure.com/openai/v1", "max_completion_tokens"],
    ["https://api.groq.com/openai/v1", "max_tokens"],
    ["http://127.0.0.1:11434/v1", "max_tokens"],
  ])("goes to %s as %s", async (base, field) => {
    const { fetcher, sent } = bodies(OPENAI_DONE);
    const env = { OPENAI_BASE_URL: base, OPENAI_API_KEY: "sk-test", MAX_OUTPUT_TOKENS: "64" };
    await collectEvents(await createOpenAIProvider(env, fetcher).stream({ messages, signal }));
    expect(sent[0]?.[field]).toBe(64);
    expect(Object.keys(sent[0] ?? {}).filter((key) => key.startsWith("max_"))).toEqual([field]);
  });

  it("is left out for OpenAI-compatible servers when unset", async () => {
    const { fetcher, sent } = bodies(OPENAI_DONE);
    const env = { OPENAI_BASE_URL: "http://127.0.0.1:1/v1" };
    await collectEvents(await createOpenAIProvider(env, fetcher).stream({ messages, signal }));
    expect(Object.keys(sent[0] ?? {}).filter((key) => key.startsWith("max_"))).toEqual([]);
  });

  it("replaces Anthropic's required max_tokens", async () => {
    const { fetcher, sent } = bodies('data: {"type":"message_stop"}\n\n');
    const env = { ANTHROPIC_API_KEY: "sk-ant-test", MAX_OUTPUT_TOKENS: "300" };
    await collectEvents(await createAnthropicProvider(env, fetcher).stream({ messages, signal }));
    expect(sent[0]?.max_tokens).toBe(300);
  });

  it("is max_tokens in the Workers AI inputs", async () => {
    const calls: unknown[][] = [];
    const ai = {
      async run(...args: unknown[]) {
        calls.push(args);
        return new Response("data: [DONE]\n\n").body;
      },
    };
    const provider = createWorkersAiProvider({ AI: ai, MAX_OUTPUT_TOKENS: "12" });
    await collectEvents(await provider.stream({ messages, signal }));
    expect(calls[0]?.[1]).toEqual({ messages, stream: true, max_tokens: 12 });
  });

  it("stops the demo after that many tokens, finishing with length", async () => {
    const provider = createDemoProvider({ DEMO_DELAY_MS: "0", MAX_OUTPUT_TOKENS: "3" });
    const capped = [{ role: "user" as const, content: "/tokens 10" }];
    const outcome = summarize(
      await collectEvents(await provider.stream({ messages: capped, signal })),
    );
    expect(outcome).toMatchObject({ text: "t0 t1 t2 ", finish: "length" });
    const under = createDemoProvider({ DEMO_DELAY_MS: "0", MAX_OUTPUT_TOKENS: "10" });
    const full = summarize(await collectEvents(await under.stream({ messages: capped, signal })));
    expect(full).toMatchObject({ finish: "stop" });
  });

  it.each(["0", "-1", "2.5", "lots"])(
    "refuses MAX_OUTPUT_TOKENS=%j with a config_error",
    async (value) => {
      const provider = createDemoProvider({ MAX_OUTPUT_TOKENS: value });
      await expect(provider.stream({ messages, signal })).rejects.toMatchObject({
        code: "config_error",
        message: expect.stringContaining("MAX_OUTPUT_TOKENS"),
      });
    },
  );
});

describe("Workers AI request inputs with tools and options", () => {
  function recording() {
    const calls: unknown[][] = [];
    const ai = {
      async run(...args: unknown[]) {
        calls.push(args);
        return new Response("data: [DONE]\n\n").body;
      },
    };
    return { ai, calls };
  }

  it("sends tools in the Chat Completions shape, its sampling options, the smaller cap and the model", async () => {
    const { ai, calls } = recording();
    const provider = createWorkersAiProvider({ AI: ai, MAX_OUTPUT_TOKENS: "12", MODEL: "@cf/a" });
    const tools = [{ name: "weather", inputSchema: { type: "object" } }];
    const options = { model: "@cf/b", temperature: 0.2, top_p: 0.9, seed: 7, max_tokens: 5 };
    await collectEvents(await provider.stream({ messages, signal, tools, options }));
    expect(calls[0]?.[0]).toBe("@cf/b");
    expect(calls[0]?.[1]).toEqual({
      messages,
      stream: true,
      tools: [{ type: "function", function: { name: "weather", parameters: { type: "object" } } }],
      temperature: 0.2,
      top_p: 0.9,
      seed: 7,
      max_tokens: 5,
    });
  });

  it.each([
    { stop: ["x"] },
    { tool_choice: "auto" as const },
    { reasoning_effort: "low" as const },
    { thinking_budget: 2048 },
  ])("refuses %o with invalid_option, calling nothing", async (options) => {
    const { ai, calls } = recording();
    const provider = createWorkersAiProvider({ AI: ai });
    await expect(provider.stream({ messages, signal, options })).rejects.toMatchObject({
      code: "invalid_option",
    });
    expect(calls).toHaveLength(0);
  });
});

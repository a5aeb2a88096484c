// /v1/chat/completions relays the recorded upstream streams (test/fixtures, OpenAI-compatible
// and Anthropic) with every part: read by the official `openai` client's stream helpers, each
// recording arrives with index.json's text, reasoning, tool calls, finish and usage.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  FIXTURE_INDEX,
  type FixtureEntry,
  type FixtureUpstream,
  startFixtureUpstream,
} from "../helpers/fixture-upstream.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";

let openaiUpstream: FixtureUpstream;
let anthropicUpstream: FixtureUpstream;
const relays: Partial<Record<FixtureEntry["provider"], Relay>> = {};

beforeAll(async () => {
  [openaiUpstream, anthropicUpstream] = await Promise.all([
    startFixtureUpstream(),
    startFixtureUpstream(),
  ]);
  [relays.openai, relays.anthropic] = await Promise.all([
    startRelay({
      PROVIDER: "openai",
      MODEL: "gpt-test",
      OPENAI_BASE_URL: openaiUpstream.baseUrl,
      OPENAI_API_KEY: SECRETS.openaiKey,
    }),
    startRelay({
      PROVIDER: "anthropic",
      MODEL: "claude-test",
      ANTHROPIC_BASE_URL: anthropicUpstream.baseUrl,
      ANTHROPIC_API_KEY: SECRETS.anthropicKey,
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([relays.openai?.dispose(), relays.anthropic?.dispose()]);
  await Promise.all([openaiUpstream.close(), anthropicUpstream.close()]);
});

/** The recordings that complete (the error ones have their own tests). */
const COMPLETE = FIXTURE_INDEX.filter((entry) => entry.error === null);

function setUp(entry: FixtureEntry): OpenAI {
  const upstream = entry.provider === "openai" ? openaiUpstream : anthropicUpstream;
  upstream.serve = entry.file;
  const relay = relays[entry.provider];
  if (!relay) throw new Error("relay not started");
  return new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: "sk-client", maxRetries: 0 });
}

const FINISH: Record<string, string> = {
  stop: "stop",
  end_turn: "stop",
  length: "length",
  max_tokens: "length",
  tool_calls: "tool_calls",
  tool_use: "tool_calls",
};

/** index.json's tool calls as OpenAI's, with the arguments parsed (Anthropic's may come whole). */
const expectedCalls = (entry: FixtureEntry) =>
  entry.expected_tool_calls.map((call) => ({
    id: call.id,
    name: call.name,
    input: call.arguments === "" ? {} : JSON.parse(call.arguments),
  }));

const actualCalls = (calls: OpenAI.ChatCompletionMessageToolCall[] | undefined) =>
  (calls ?? []).map((call) => {
    if (call.type !== "function") throw new Error(`unexpected call type ${call.type}`);
    return { id: call.id, name: call.function.name, input: JSON.parse(call.function.arguments) };
  });

describe.each(COMPLETE)("$file over /v1/chat/completions", (entry) => {
  it("streams its text, reasoning, tool calls, finish and usage to the stream helpers", async () => {
    const client = setUp(entry);
    const stream = client.chat.completions.stream({
      model: "gpt-test",
      messages: [{ role: "user", content: "go" }],
      stream_options: { include_usage: true },
    });
    let reasoning = "";
    const firstDeltas = new Map<number, unknown>();
    const laterDeltas: unknown[] = [];
    let usageChunk: OpenAI.ChatCompletionChunk | undefined;
    for await (const chunk of stream) {
      if (chunk.usage) usageChunk = chunk;
      const delta: Record<string, unknown> = { ...chunk.choices[0]?.delta };
      if (typeof delta.reasoning_content === "string") reasoning += delta.reasoning_content;
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        if (firstDeltas.has(call.index)) laterDeltas.push(call);
        else firstDeltas.set(call.index, call);
      }
    }
    const completion = await stream.finalChatCompletion();
    const choice = completion.choices[0];
    expect(choice?.message.content ?? "").toBe(entry.expected_text);
    expect(reasoning).toBe(entry.expected_reasoning);
    expect(actualCalls(choice?.message.tool_calls)).toEqual(expectedCalls(entry));
    expect(choice?.finish_reason).toBe(FINISH[entry.finish]);
    // As OpenAI streams them: id, type and name once, on each call's first delta; then text only.
    for (const [index, call] of entry.expected_tool_calls.entries()) {
      expect(firstDeltas.get(index)).toEqual({
        index,
        id: call.id,
        type: "function",
        function: expect.objectContaining({ name: call.name }),
      });
    }
    for (const later of laterDeltas) {
      expect(Object.keys(later as object).sort()).toEqual(["function", "index"]);
      expect(Object.keys((later as { function: object }).function)).toEqual(["arguments"]);
    }
    expect(usageChunk?.choices).toEqual([]);
    expect(usageChunk?.usage).toMatchObject({
      prompt_tokens: entry.usage?.input_tokens,
      completion_tokens: entry.usage?.output_tokens,
    });
  });

  it("answers the same whole without streaming (message.tool_calls)", async () => {
    const client = setUp(entry);
    const completion = await client.chat.completions.create({
      model: "gpt-test",
      messages: [{ role: "user", content: "go" }],
    });
    const choice = completion.choices[0];
    const message: Record<string, unknown> = { ...choice?.message };
    expect(choice?.message.content ?? "").toBe(entry.expected_text);
    expect(message.reasoning_content ?? "").toBe(entry.expected_reasoning);
    expect(actualCalls(choice?.message.tool_calls)).toEqual(expectedCalls(entry));
    expect(choice?.finish_reason).toBe(FINISH[entry.finish]);
  });
});

describe("a tool round trip over /v1/chat/completions", () => {
  const tools: OpenAI.ChatCompletionTool[] = [
    {
      type: "function",
      function: { name: "GetWeatherArgs", parameters: { type: "object", properties: {} } },
    },
  ];

  /** The openai client's own round trip: the call, then the conversation with its result. */
  async function roundTrip(client: OpenAI, headers: Record<string, string> = {}) {
    openaiUpstream.serve = ["openai-gpt4o-tool-call.sse", "openai-gpt5-moderation-trailer.sse"];
    openaiUpstream.requests.length = 0;
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "weather?" }];
    const first = await client.chat.completions
      .stream({ model: "gpt-test", messages, tools }, { headers })
      .finalChatCompletion();
    const message = first.choices[0]?.message;
    const call = message?.tool_calls?.[0];
    if (!message || !call) throw new Error("no tool call");
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    messages.push(message, { role: "tool", tool_call_id: call.id, content: '{"temp":11}' });
    const second = await client.chat.completions
      .stream({ model: "gpt-test", messages, tools }, { headers })
      .finalChatCompletion();
    return { call, second };
  }

  it("stateless: the assistant's tool_calls and the tool message go upstream in OpenAI's format", async () => {
    const { call, second } = await roundTrip(setUp(COMPLETE[0] as FixtureEntry));
    expect(second.choices[0]?.message.content).toBe("Paris.");
    expect(openaiUpstream.requests[1]).toMatchObject({
      tools: [{ type: "function", function: { name: "GetWeatherArgs" } }],
      messages: [
        { role: "user", content: "weather?" },
        { role: "assistant", tool_calls: [{ id: call.id, function: { name: "GetWeatherArgs" } }] },
        { role: "tool", tool_call_id: call.id, content: '{"temp":11}' },
      ],
    });
  });

  it("in a session (X-Sluice-Session): the tool message is the session's tool result, the answer its continuation", async () => {
    const relay = relays.openai;
    if (!relay) throw new Error("relay not started");
    const created = await fetch(`${relay.url}/sessions`, { method: "POST" });
    const { session } = (await created.json()) as { session: string };
    const client = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: "sk-client", maxRetries: 0 });
    const { call, second } = await roundTrip(client, { "x-sluice-session": session });
    expect(second.choices[0]?.message.content).toBe("Paris.");
    expect(second.id).toBe((await history(relay, session)).at(-1)?.id);
    // The session sent the call and the result from its own history.
    expect(openaiUpstream.requests[1]).toMatchObject({
      tools: [{ type: "function", function: { name: "GetWeatherArgs" } }],
      messages: [
        { role: "user", content: "weather?" },
        { role: "assistant", tool_calls: [{ id: call.id }] },
        { role: "tool", tool_call_id: call.id },
      ],
    });
    const stored = await history(relay, session);
    expect(stored.map((message) => [message.role, message.status])).toEqual([
      ["user", "complete"],
      ["assistant", "complete"],
    ]);
  });
});

describe("runTools over /v1/chat/completions", () => {
  it("runs the openai client's automated tool loop against the relay, streaming", async () => {
    const client = setUp(COMPLETE[0] as FixtureEntry);
    openaiUpstream.requests.length = 0;
    openaiUpstream.serve = ["openai-gpt4o-tool-call.sse", "openai-gpt5-moderation-trailer.sse"];
    const seen: string[] = [];
    const runner = client.chat.completions.runTools({
      model: "gpt-test",
      stream: true,
      messages: [{ role: "user", content: "weather?" }],
      tools: [
        {
          type: "function",
          function: {
            name: "GetWeatherArgs",
            description: "The weather in a city",
            parameters: { type: "object", properties: {} },
            parse: (args: string) => {
              seen.push(args);
              return JSON.parse(args) as object;
            },
            function: () => ({ temp: 11 }),
          },
        },
      ],
    });
    expect(await runner.finalContent()).toBe("Paris.");
    expect(seen).toEqual(['{"city":"Edinburgh","country":"UK","units":"c"}']);
    expect(openaiUpstream.requests).toHaveLength(2);
    expect(((openaiUpstream.requests[1]?.messages ?? []) as unknown[]).at(-1)).toMatchObject({
      role: "tool",
      content: '{"temp":11}',
    });
  });
});

async function history(relay: Relay, session: string) {
  const response = await fetch(`${relay.url}/sessions/${session}`);
  const { messages } = (await response.json()) as {
    messages: Array<{ id: string; role: string; status: string }>;
  };
  return messages;
}

// Per-request options on the compatibility protocols, as a table: each accepted value is
// asserted on the request the local upstream received; each refused value gets its error code
// and reaches no upstream. /v1/chat/completions takes OpenAI's names; /api/chat takes
// `body.options` (the one options vocabulary) and `body.tools`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FixtureUpstream, startFixtureUpstream } from "../helpers/fixture-upstream.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { newSession } from "../helpers/ws-chat.ts";

const TEXT = "openai-gpt5-moderation-trailer.sse";
const ANTHROPIC_TEXT = "anthropic-sonnet45-thinking.sse";

let openai: FixtureUpstream;
let anthropic: FixtureUpstream;
let relay: Relay;
let anthropicRelay: Relay;

beforeAll(async () => {
  [openai, anthropic] = await Promise.all([startFixtureUpstream(), startFixtureUpstream()]);
  [relay, anthropicRelay] = await Promise.all([
    startRelay({
      PROVIDER: "openai",
      MODEL: "gpt-test",
      ALLOWED_MODELS: "gpt-test,gpt-other",
      MAX_OUTPUT_TOKENS: "1000",
      OPENAI_BASE_URL: openai.baseUrl,
      OPENAI_API_KEY: SECRETS.openaiKey,
    }),
    startRelay({
      PROVIDER: "anthropic",
      MODEL: "claude-test",
      MAX_OUTPUT_TOKENS: "8000",
      ANTHROPIC_BASE_URL: anthropic.baseUrl,
      ANTHROPIC_API_KEY: SECRETS.anthropicKey,
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([relay.dispose(), anthropicRelay.dispose()]);
  await Promise.all([openai.close(), anthropic.close()]);
});

const TOOL = {
  type: "function",
  function: { name: "weather", parameters: { type: "object", properties: {} } },
};

/** POSTs a completion request and returns the status, the body and what the upstream got. */
async function complete(target: Relay, upstream: FixtureUpstream, file: string, body: object) {
  upstream.serve = file;
  upstream.requests.length = 0;
  const response = await fetch(`${target.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "gpt-test",
      messages: [{ role: "user", content: "hi" }],
      ...body,
    }),
  });
  return { status: response.status, body: await response.json(), sent: upstream.requests[0] };
}

describe("/v1/chat/completions options, OpenAI upstream", () => {
  it.each([
    ["temperature", { temperature: 0.3 }, { temperature: 0.3 }],
    ["top_p", { top_p: 0.9 }, { top_p: 0.9 }],
    ["max_tokens under the cap", { max_tokens: 200 }, { max_tokens: 200 }],
    ["max_tokens at MAX_OUTPUT_TOKENS", { max_tokens: 1000 }, { max_tokens: 1000 }],
    ["max_completion_tokens", { max_completion_tokens: 50 }, { max_tokens: 50 }],
    ["stop as a string", { stop: "END" }, { stop: ["END"] }],
    ["stop as strings", { stop: ["a", "b"] }, { stop: ["a", "b"] }],
    ["seed", { seed: 7 }, { seed: 7 }],
    ["reasoning_effort", { reasoning_effort: "high" }, { reasoning_effort: "high" }],
    ["an allowed model", { model: "gpt-other" }, { model: "gpt-other" }],
    [
      "tools and tool_choice by name",
      { tools: [TOOL], tool_choice: { type: "function", function: { name: "weather" } } },
      {
        tools: [{ type: "function", function: { name: "weather" } }],
        tool_choice: { type: "function", function: { name: "weather" } },
      },
    ],
    [
      "tool_choice required",
      { tools: [TOOL], tool_choice: "required" },
      { tool_choice: "required" },
    ],
    [
      "response_format",
      { response_format: { type: "json_object" } },
      { response_format: { type: "json_object" } },
    ],
    ["parallel_tool_calls", { parallel_tool_calls: false }, { parallel_tool_calls: false }],
  ])("passes %s upstream", async (_name, body, upstreamGot) => {
    const { status, sent } = await complete(relay, openai, TEXT, body);
    expect(status).toBe(200);
    expect(sent).toMatchObject(upstreamGot);
  });

  it("leaves out what the client did not send", async () => {
    const { sent } = await complete(relay, openai, TEXT, {});
    for (const key of ["temperature", "top_p", "stop", "seed", "tools", "response_format"]) {
      expect(sent).not.toHaveProperty(key);
    }
    expect(sent).toMatchObject({ model: "gpt-test", max_tokens: 1000 });
  });

  it.each([
    ["a temperature over 2", { temperature: 2.5 }, "invalid_option"],
    ["a top_p below 0", { top_p: -0.1 }, "invalid_option"],
    ["max_tokens over MAX_OUTPUT_TOKENS", { max_tokens: 1001 }, "invalid_option"],
    ["max_tokens 0", { max_tokens: 0 }, "invalid_option"],
    ["both max_tokens names", { max_tokens: 5, max_completion_tokens: 5 }, "invalid_option"],
    ["five stop sequences", { stop: ["a", "b", "c", "d", "e"] }, "invalid_option"],
    ["a fractional seed", { seed: 1.5 }, "invalid_option"],
    ["reasoning_effort minimal", { reasoning_effort: "minimal" }, "invalid_option"],
    ["a model not in ALLOWED_MODELS", { model: "gpt-secret" }, "model_not_allowed"],
    ["a tool_choice of a kind not known", { tool_choice: "sometimes" }, "invalid_option"],
    [
      "a tool with a bad name",
      { tools: [{ type: "function", function: { name: "a b" } }] },
      "invalid_tools",
    ],
    ["tools as an object", { tools: { weather: {} } }, "invalid_tools"],
    [
      "a response_format of an unknown type",
      { response_format: { type: "yaml" } },
      "invalid_option",
    ],
    ["parallel_tool_calls as text", { parallel_tool_calls: "yes" }, "invalid_option"],
  ])("refuses %s with its code, asking no upstream", async (_name, body, code) => {
    const { status, body: error, sent } = await complete(relay, openai, TEXT, body);
    expect(status).toBe(400);
    expect(error).toMatchObject({ error: { code } });
    expect(sent).toBeUndefined();
  });

  it("refuses a tool message that answers no earlier call", async () => {
    const { status, body } = await complete(relay, openai, TEXT, {
      messages: [
        { role: "user", content: "hi" },
        { role: "tool", tool_call_id: "call_x", content: "1" },
      ],
    });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: { code: "invalid_request" } });
  });
});

describe("/v1/chat/completions to an Anthropic upstream", () => {
  it("sends tools, the call and its result as Anthropic blocks", async () => {
    const { status, sent } = await complete(anthropicRelay, anthropic, ANTHROPIC_TEXT, {
      tools: [TOOL],
      temperature: 1,
      messages: [
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "toolu_1",
              type: "function",
              function: { name: "weather", arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "toolu_1", content: '{"temp":21}' },
      ],
    });
    expect(status).toBe(200);
    expect(sent).toMatchObject({
      temperature: 1,
      tools: [{ name: "weather", input_schema: { type: "object" } }],
      messages: [
        { role: "user" },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } }],
        },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "toolu_1", content: '{"temp":21}' }],
        },
      ],
    });
  });

  it.each([
    ["response_format", { response_format: { type: "json_object" } }],
    ["parallel_tool_calls", { parallel_tool_calls: true }],
  ])("refuses %s, which only OpenAI-compatible upstreams take", async (_name, body) => {
    const {
      status,
      body: error,
      sent,
    } = await complete(anthropicRelay, anthropic, ANTHROPIC_TEXT, body);
    expect(status).toBe(400);
    expect(error).toMatchObject({ error: { code: "invalid_option" } });
    expect(sent).toBeUndefined();
  });
});

/** POSTs a /api/chat request with `extra` in its body; status, error code, upstream request. */
async function chat(extra: object) {
  openai.serve = TEXT;
  openai.requests.length = 0;
  const session = await newSession(relay);
  const response = await fetch(`${relay.url}/api/chat`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      id: session,
      trigger: "submit-message",
      messages: [{ id: "u", role: "user", parts: [{ type: "text", text: "hi" }] }],
      ...extra,
    }),
  });
  const text = await response.text();
  return { status: response.status, text, sent: openai.requests[0] };
}

describe("/api/chat body.options and body.tools", () => {
  it.each([
    ["temperature", { options: { temperature: 0.5 } }, { temperature: 0.5 }],
    ["max_tokens", { options: { max_tokens: 10 } }, { max_tokens: 10 }],
    ["an allowed model", { options: { model: "gpt-other" } }, { model: "gpt-other" }],
    ["tool_choice none", { options: { tool_choice: "none" } }, { tool_choice: "none" }],
    [
      "tools",
      { tools: [{ name: "weather", inputSchema: { type: "object" } }] },
      {
        tools: [
          { type: "function", function: { name: "weather", parameters: { type: "object" } } },
        ],
      },
    ],
  ])("passes %s upstream", async (_name, extra, upstreamGot) => {
    const { status, sent } = await chat(extra);
    expect(status).toBe(200);
    expect(sent).toMatchObject(upstreamGot);
  });

  it.each([
    ["a temperature as text", { options: { temperature: "hot" } }, "invalid_option"],
    ["an unknown option", { options: { frequency_penalty: 1 } }, "invalid_option"],
    ["a model not allowed", { options: { model: "gpt-secret" } }, "model_not_allowed"],
    ["tools without a schema", { tools: [{ name: "weather" }] }, "invalid_tools"],
  ])("refuses %s with its code, asking no upstream", async (_name, extra, code) => {
    const { status, text, sent } = await chat(extra);
    expect(status).toBe(400);
    expect(JSON.parse(text)).toMatchObject({ error: { code } });
    expect(sent).toBeUndefined();
  });
});

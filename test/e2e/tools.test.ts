// Client tools and per-request options over SSE against local OpenAI and Anthropic upstreams:
// the model calls a tool, the client posts its result, the continuation streams as the same
// message, and the upstream's second request carries the call and the result in its own format.
import { EventSourceParserStream } from "eventsource-parser/stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import type { SseEvent } from "../helpers/sse.ts";
import { startUpstream, type Upstream, type UpstreamKind } from "../helpers/upstreams.ts";

const WEATHER = {
  name: "weather",
  description: "The weather in a city.",
  inputSchema: { type: "object", properties: { city: { type: "string" } } },
};

interface Setup {
  relay: Relay;
  upstream: Upstream;
}

const setups = new Map<UpstreamKind, Setup>();

async function setup(kind: UpstreamKind): Promise<Setup> {
  const upstream = await startUpstream(kind, { tokens: ["ok"] });
  const vars: Record<string, string> =
    kind === "openai"
      ? { PROVIDER: "openai", OPENAI_BASE_URL: upstream.baseUrl, OPENAI_API_KEY: SECRETS.openaiKey }
      : {
          PROVIDER: "anthropic",
          ANTHROPIC_BASE_URL: upstream.baseUrl,
          ANTHROPIC_API_KEY: SECRETS.anthropicKey,
        };
  const relay = await startRelay({
    ...vars,
    MODEL: "model-a",
    ALLOWED_MODELS: "model-a,model-b",
    MAX_OUTPUT_TOKENS: "4000",
    UPSTREAM_RETRIES: "0",
  });
  return { relay, upstream };
}

beforeAll(async () => {
  for (const kind of ["openai", "anthropic"] as const) setups.set(kind, await setup(kind));
});

afterAll(async () => {
  for (const { relay, upstream } of setups.values()) {
    await relay.dispose();
    await upstream.close();
  }
});

async function newSession(relay: Relay): Promise<string> {
  const created = await fetch(`${relay.url}/sessions`, { method: "POST" });
  return String(((await created.json()) as { session: string }).session);
}

/** POSTs `body`: the answer's SSE events, or one `refused` event holding the error body. */
async function post(relay: Relay, path: string, body: object): Promise<SseEvent[]> {
  const response = await fetch(`${relay.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok || !response.body) {
    const data = (await response.json()) as Record<string, unknown>;
    return [{ event: "refused", id: undefined, data }];
  }
  const events: SseEvent[] = [];
  const reader = response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return events;
    events.push({ event: value.event ?? "message", id: value.id, data: JSON.parse(value.data) });
  }
}

const CALL_ID = { openai: "call_w1", anthropic: "toolu_w1" } as const;

describe.each(["openai", "anthropic"] as const)(
  "a client tool round trip over SSE (%s)",
  (kind) => {
    it("streams the call, waits, continues with the result, and the upstream gets it in its format", async () => {
      const { relay, upstream } = setups.get(kind) ?? (await setup(kind));
      const toolCallId = CALL_ID[kind];
      upstream.script = {
        reasoning: "Let me check.",
        tokens: ["Checking."],
        toolCalls: [{ id: toolCallId, name: "weather", arguments: '{"city":"Paris"}' }],
        next: { tokens: ["It is", " sunny."] },
      };
      const session = await newSession(relay);
      const from = upstream.requests.length;
      const first = await post(relay, `/sessions/${session}/messages`, {
        content: "Weather in Paris?",
        tools: [WEATHER],
        options: { temperature: 0.5 },
      });
      const names = first.map((event) => event.event);
      expect(names).toContain("reasoning-start");
      expect(names).toContain("tool-call-start");
      expect(first.find((event) => event.event === "tool-call")?.data).toMatchObject({
        toolCallId,
        toolName: "weather",
        input: { city: "Paris" },
      });
      expect(first.at(-1)?.data).toMatchObject({
        type: "done",
        status: "complete",
        finish: "tool_calls",
      });
      const messageId = first.at(-1)?.data.messageId;

      const second = await post(relay, `/sessions/${session}/tool-results`, {
        results: [{ toolCallId, output: { temp: 21 } }],
      });
      expect(second.map((event) => event.event).slice(0, 2)).toEqual(["tool-result", "step"]);
      expect(second.every((event) => event.data.messageId === messageId)).toBe(true);
      expect(second.at(-1)?.data).toMatchObject({ type: "done", status: "complete" });
      const text = second
        .filter((event) => event.event === "chunk")
        .map((event) => event.data.content)
        .join("");
      expect(text).toBe("It is sunny.");

      const [asked, continued] = upstream.requests.slice(from);
      if (kind === "openai") {
        expect(asked?.body).toMatchObject({
          temperature: 0.5,
          tools: [
            {
              type: "function",
              function: {
                name: "weather",
                description: WEATHER.description,
                parameters: WEATHER.inputSchema,
              },
            },
          ],
        });
        expect(continued?.body.messages).toEqual([
          { role: "user", content: "Weather in Paris?" },
          {
            role: "assistant",
            content: "Checking.",
            tool_calls: [
              {
                id: toolCallId,
                type: "function",
                function: { name: "weather", arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: "tool", tool_call_id: toolCallId, content: '{"temp":21}' },
        ]);
        // The tools of the prompt stay in force for its continuation.
        expect(continued?.body.tools).toEqual(asked?.body.tools);
      } else {
        expect(asked?.body).toMatchObject({
          temperature: 0.5,
          tools: [
            {
              name: "weather",
              description: WEATHER.description,
              input_schema: WEATHER.inputSchema,
            },
          ],
        });
        expect(continued?.body.messages).toEqual([
          { role: "user", content: "Weather in Paris?" },
          {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "Let me check.", signature: "sig-1" },
              { type: "text", text: "Checking." },
              { type: "tool_use", id: toolCallId, name: "weather", input: { city: "Paris" } },
            ],
          },
          {
            role: "user",
            content: [{ type: "tool_result", tool_use_id: toolCallId, content: '{"temp":21}' }],
          },
        ]);
      }

      const snapshot = (await (await fetch(`${relay.url}/sessions/${session}`)).json()) as {
        messages: Array<{ parts: Array<{ type: string; state?: string; signature?: string }> }>;
      };
      const parts = snapshot.messages.at(-1)?.parts ?? [];
      expect(parts.map((part) => part.type)).toEqual([
        "step-start",
        "reasoning",
        "text",
        "tool-call",
        "step-start",
        "text",
      ]);
      expect(parts[3]).toMatchObject({ state: "output-available", output: { temp: 21 } });
      if (kind === "anthropic") expect(parts[1]).toMatchObject({ signature: "sig-1" });
    });
  },
);

/** Per protocol: options in, the fields the upstream received (undefined: left out). */
const ACCEPTED: Record<UpstreamKind, Array<[object, Record<string, unknown>]>> = {
  openai: [
    [{}, { model: "model-a", max_tokens: 4000, temperature: undefined }],
    [{ model: "model-b" }, { model: "model-b" }],
    [{ temperature: 0 }, { temperature: 0 }],
    [
      { temperature: 2, top_p: 0.9 },
      { temperature: 2, top_p: 0.9 },
    ],
    [{ max_tokens: 100 }, { max_tokens: 100 }],
    [{ max_tokens: 4000 }, { max_tokens: 4000 }],
    [{ stop: "END" }, { stop: ["END"] }],
    [{ stop: ["a", "b", "c", "d"] }, { stop: ["a", "b", "c", "d"] }],
    [{ seed: 42 }, { seed: 42 }],
    [{ reasoning_effort: "low" }, { reasoning_effort: "low" }],
    [{ tool_choice: "required" }, { tool_choice: "required" }],
    [
      { tool_choice: { name: "weather" } },
      { tool_choice: { type: "function", function: { name: "weather" } } },
    ],
  ],
  anthropic: [
    [{}, { model: "model-a", max_tokens: 4000, thinking: undefined }],
    [{ model: "model-b" }, { model: "model-b" }],
    [
      { temperature: 1, top_p: 0.5 },
      { temperature: 1, top_p: 0.5 },
    ],
    [{ max_tokens: 100 }, { max_tokens: 100 }],
    [{ stop: ["END"] }, { stop_sequences: ["END"] }],
    [{ thinking_budget: 1024 }, { thinking: { type: "enabled", budget_tokens: 1024 } }],
    [{ tool_choice: "auto" }, { tool_choice: { type: "auto" } }],
    [{ tool_choice: "required" }, { tool_choice: { type: "any" } }],
    [{ tool_choice: { name: "weather" } }, { tool_choice: { type: "tool", name: "weather" } }],
  ],
};

/** Per protocol: options refused, with the code; nothing reaches the upstream. */
const REFUSED: Record<UpstreamKind, Array<[object, string]>> = {
  openai: [
    [{ model: "model-c" }, "model_not_allowed"],
    [{ temperature: 2.5 }, "invalid_option"],
    [{ top_p: 1.5 }, "invalid_option"],
    [{ max_tokens: 0 }, "invalid_option"],
    [{ max_tokens: 4001 }, "invalid_option"],
    [{ seed: 1.5 }, "invalid_option"],
    [{ stop: [] }, "invalid_option"],
    [{ thinking_budget: 100 }, "invalid_option"],
    [{ tool_choice: { name: "bad name" } }, "invalid_option"],
  ],
  anthropic: [
    [{ model: "claude-x" }, "model_not_allowed"],
    [{ temperature: -0.1 }, "invalid_option"],
    [{ max_tokens: 10_000 }, "invalid_option"],
    [{ thinking_budget: 1023 }, "invalid_option"],
    [{ reasoning_effort: "extreme" }, "invalid_option"],
    // Valid options Anthropic does not take: refused by the request builder, still before
    // anything is stored or sent.
    [{ seed: 7 }, "invalid_option"],
    [{ reasoning_effort: "low" }, "invalid_option"],
  ],
};

describe.each(["openai", "anthropic"] as const)("per-request options (%s)", (kind) => {
  it("passes accepted values to the upstream in its own fields", async () => {
    const { relay, upstream } = setups.get(kind) ?? (await setup(kind));
    for (const [options, fields] of ACCEPTED[kind]) {
      upstream.script = { tokens: ["ok"] };
      const session = await newSession(relay);
      const events = await post(relay, `/sessions/${session}/messages`, {
        content: "hi",
        tools: [WEATHER],
        options,
      });
      expect(events.at(-1)?.data, JSON.stringify(options)).toMatchObject({ status: "complete" });
      const body = upstream.requests.at(-1)?.body ?? {};
      for (const [field, value] of Object.entries(fields)) {
        expect(body[field], `${JSON.stringify(options)} ${field}`).toEqual(value);
      }
    }
  });

  it("refuses values out of bounds with a code naming the field, and nothing goes upstream", async () => {
    const { relay, upstream } = setups.get(kind) ?? (await setup(kind));
    const session = await newSession(relay);
    const before = upstream.requests.length;
    for (const [options, code] of REFUSED[kind]) {
      const [refusal] = await post(relay, `/sessions/${session}/messages`, {
        content: "hi",
        options,
      });
      expect(refusal?.event, JSON.stringify(options)).toBe("refused");
      expect(refusal?.data, JSON.stringify(options)).toMatchObject({ error: { code } });
      expect(JSON.stringify(refusal?.data)).toContain("options.");
    }
    expect(upstream.requests.length).toBe(before);
    // Every refusal left the session as it was: no prompt, no answer stored.
    const history = await (await fetch(`${relay.url}/sessions/${session}`)).json();
    expect(history.messages).toEqual([]);
  });
});

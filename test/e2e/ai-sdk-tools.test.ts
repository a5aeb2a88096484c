// A client tool round trip over POST /api/chat, as useChat makes it: the answer ends with a
// tool call (finish tool-calls), the page adds the tool's output to the assistant message and
// sends the messages again (sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithToolCalls);
// Sluice sends the output to the session as its tool result and streams the continuation.
import {
  DefaultChatTransport,
  lastAssistantMessageIsCompleteWithToolCalls,
  readUIMessageStream,
  type UIMessage,
  type UIMessageChunk,
} from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FixtureUpstream, startFixtureUpstream } from "../helpers/fixture-upstream.ts";
import { storedParts, uiParts } from "../helpers/parts-shape.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { chatTransport, newSession, readAll } from "../helpers/ws-chat.ts";

let demo: Relay;
let relay: Relay;
let upstream: FixtureUpstream;

beforeAll(async () => {
  upstream = await startFixtureUpstream();
  [demo, relay] = await Promise.all([
    startRelay({ DEMO_DELAY_MS: "0" }),
    startRelay({
      PROVIDER: "openai",
      MODEL: "gpt-test",
      OPENAI_BASE_URL: upstream.baseUrl,
      OPENAI_API_KEY: SECRETS.openaiKey,
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([demo.dispose(), relay.dispose()]);
  await upstream.close();
});

const WEATHER = {
  name: "GetWeatherArgs",
  description: "The weather in a city",
  inputSchema: { type: "object", properties: { city: { type: "string" } } },
};

/** Sends `messages` as useChat does, and returns the message the SDK assembles. */
async function turn(
  target: Relay,
  chatId: string,
  messages: UIMessage[],
  body: object,
  previous?: UIMessage,
): Promise<UIMessage> {
  const stream = await new DefaultChatTransport<UIMessage>({
    api: `${target.url}/api/chat`,
    body,
  }).sendMessages({
    chatId,
    messages,
    trigger: "submit-message",
    messageId: undefined,
    abortSignal: undefined,
  });
  let last: UIMessage | undefined;
  // As useChat does, a continuation's chunks go on the last assistant message.
  for await (const message of readUIMessageStream({
    stream: stream as ReadableStream<UIMessageChunk>,
    message: previous,
    terminateOnError: true,
  })) {
    last = message;
  }
  if (!last) throw new Error("no message");
  return last;
}

/** What addToolOutput does: the call's part gets its output. */
function withOutput(message: UIMessage, toolCallId: string, output: unknown): UIMessage {
  return {
    ...message,
    parts: message.parts.map((part) =>
      "toolCallId" in part && part.toolCallId === toolCallId
        ? { ...part, state: "output-available", output }
        : part,
    ) as UIMessage["parts"],
  };
}

async function stored(target: Relay, session: string) {
  const response = await fetch(`${target.url}/sessions/${session}`);
  const { messages } = (await response.json()) as {
    messages: Array<{ role: string; status: string; parts: Array<Record<string, unknown>> }>;
  };
  return messages;
}

describe("a client tool round trip over /api/chat", () => {
  it("streams the continuation after addToolOutput, and the upstream gets the result as a tool message", async () => {
    upstream.serve = ["openai-gpt4o-tool-call.sse", "openai-gpt5-moderation-trailer.sse"];
    upstream.requests.length = 0;
    const session = await newSession(relay);
    const user: UIMessage = { id: "u1", role: "user", parts: [{ type: "text", text: "weather?" }] };
    const body = { tools: [WEATHER], options: { temperature: 0.2 } };
    const first = await turn(relay, session, [user], body);
    const call = first.parts.find((part) => "toolCallId" in part);
    if (!call || !("toolCallId" in call)) throw new Error("no tool call");
    expect(call).toMatchObject({
      type: "tool-GetWeatherArgs",
      state: "input-available",
      input: { city: "Edinburgh", country: "UK", units: "c" },
    });
    const answered = withOutput(first, call.toolCallId, { temperature: 11 });
    expect(lastAssistantMessageIsCompleteWithToolCalls({ messages: [user, answered] })).toBe(true);

    const second = await turn(relay, session, [user, answered], body, answered);
    expect(second.id).toBe(first.id);
    expect(uiParts(second).map((part) => part.type)).toEqual([
      "step-start",
      "tool",
      "step-start",
      "text",
    ]);
    const history = await stored(relay, session);
    expect(history.map((message) => [message.role, message.status])).toEqual([
      ["user", "complete"],
      ["assistant", "complete"],
    ]);
    expect(uiParts(second)).toEqual(storedParts(history[1]?.parts ?? []));

    // The first request carried the tools in OpenAI's format and the option.
    expect(upstream.requests[0]).toMatchObject({
      temperature: 0.2,
      tools: [{ type: "function", function: { name: "GetWeatherArgs" } }],
    });
    // The second carried the call and its result in OpenAI's own format.
    const messages = upstream.requests[1]?.messages as Array<Record<string, unknown>>;
    expect(messages.slice(-2)).toMatchObject([
      { role: "assistant", tool_calls: [{ id: call.toolCallId, type: "function" }] },
      { role: "tool", tool_call_id: call.toolCallId, content: '{"temperature":11}' },
    ]);
  });

  it("refuses results for calls that are not awaited, changing nothing", async () => {
    const session = await newSession(demo);
    const user: UIMessage = { id: "u1", role: "user", parts: [{ type: "text", text: "hi" }] };
    const ghost: UIMessage = {
      id: "a1",
      role: "assistant",
      parts: [
        { type: "step-start" },
        {
          type: "tool-weather",
          toolCallId: "call_nobody",
          state: "output-available",
          input: {},
          output: 1,
        },
      ],
    };
    const response = await fetch(`${demo.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: session, messages: [user, ghost], trigger: "submit-message" }),
    });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ error: { code: "no_tool_call_pending" } });
    expect(await stored(demo, session)).toEqual([]);
  });

  it("refuses an assistant message last with no tool output", async () => {
    const session = await newSession(demo);
    const response = await fetch(`${demo.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        id: session,
        messages: [
          { id: "u", role: "user", parts: [{ type: "text", text: "hi" }] },
          { id: "a", role: "assistant", parts: [{ type: "text", text: "hello" }] },
        ],
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_request" } });
  });
});

describe("a client tool round trip over /api/chat/ws", () => {
  it("takes tools and options from the send frame's body, and the outputs as tool results", async () => {
    upstream.serve = ["openai-gpt4o-tool-call.sse", "openai-gpt5-moderation-trailer.sse"];
    upstream.requests.length = 0;
    const session = await newSession(relay);
    const transport = chatTransport(relay);
    const user: UIMessage = { id: "u1", role: "user", parts: [{ type: "text", text: "weather?" }] };
    const body = { tools: [WEATHER], options: { seed: 3 } };
    const send = async (messages: UIMessage[], previous?: UIMessage) => {
      const chunks = await readAll(
        await transport.sendMessages({
          chatId: session,
          messages,
          trigger: "submit-message",
          messageId: undefined,
          abortSignal: undefined,
          body,
        }),
      );
      let last: UIMessage | undefined;
      const stream = new ReadableStream<UIMessageChunk>({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(chunk);
          controller.close();
        },
      });
      for await (const message of readUIMessageStream({ stream, message: previous }))
        last = message;
      if (!last) throw new Error("no message");
      return last;
    };
    const first = await send([user]);
    const call = first.parts.find((part) => "toolCallId" in part);
    if (!call || !("toolCallId" in call)) throw new Error("no tool call");
    const answered = withOutput(first, call.toolCallId, { temperature: 11 });
    const second = await send([user, answered], answered);
    transport.close();
    expect(uiParts(second).map((part) => part.type)).toEqual([
      "step-start",
      "tool",
      "step-start",
      "text",
    ]);
    expect(upstream.requests[0]).toMatchObject({
      seed: 3,
      tools: [{ type: "function", function: { name: "GetWeatherArgs" } }],
    });
    expect(((upstream.requests[1]?.messages ?? []) as unknown[]).at(-1)).toMatchObject({
      role: "tool",
      tool_call_id: call.toolCallId,
    });
  });
});

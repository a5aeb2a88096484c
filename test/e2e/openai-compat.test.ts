// The OpenAI-compatible relay, driven by the official `openai` client pointed at the running
// Worker: streaming and not, stateless and in a session, the Worker's key upstream, errors.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_STATUS, type ErrorCode } from "../../src/errors.ts";
import { record } from "../helpers/record.ts";
import { type Relay, startRelay } from "../helpers/relay.ts";
import { SECRETS } from "../helpers/secrets.ts";
import { openSse } from "../helpers/sse.ts";
import { startUpstream, type Upstream } from "../helpers/upstreams.ts";

const CLIENT_KEY = "sk-client-never-forwarded";

let demo: Relay;
let relay: Relay;
let upstream: Upstream;

beforeAll(async () => {
  upstream = await startUpstream("openai", { tokens: ["A", "B"] });
  [demo, relay] = await Promise.all([
    startRelay({ DEMO_DELAY_MS: "0" }),
    startRelay({
      PROVIDER: "openai",
      MODEL: "gpt-test",
      OPENAI_BASE_URL: upstream.baseUrl,
      OPENAI_API_KEY: SECRETS.openaiKey,
      MAX_CONCURRENT_GENERATIONS: "1",
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([demo.dispose(), relay.dispose()]);
  await upstream.close();
});

/** `fetch` that also records every response body for the suite's secrets scan. */
const recordingFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const copy = response.clone();
  copy.text().then(record, () => {});
  return response;
};

function client(target: Relay, options: ConstructorParameters<typeof OpenAI>[0] = {}) {
  return new OpenAI({
    baseURL: `${target.url}/v1`,
    apiKey: CLIENT_KEY,
    fetch: recordingFetch,
    ...options,
  });
}

const ask = (content: string) => [{ role: "user" as const, content }];
const PARTS: OpenAI.ChatCompletionContentPartText[] = [
  { type: "text", text: "hi " },
  { type: "text", text: "you" },
];

/** Reads a streamed completion as an application would, into `read` (kept if it throws). */
async function readStream(stream: AsyncIterable<OpenAI.ChatCompletionChunk>, read = { text: "" }) {
  const finishes: string[] = [];
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    expect(chunk.object).toBe("chat.completion.chunk");
    read.text += chunk.choices[0]?.delta.content ?? "";
    if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
    usage = chunk.usage ?? usage;
  }
  return { text: read.text, finishes, usage };
}

describe("the official openai client against the demo model", () => {
  it("streams a completion whose deltas assemble to the answer, with a usage chunk", async () => {
    const stream = await client(demo).chat.completions.create({
      model: "anything",
      messages: ask("/tokens 5"),
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(await readStream(stream)).toEqual({
      text: "t0 t1 t2 t3 t4 ",
      finishes: ["stop"],
      usage: { prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 },
    });
    const helper = client(demo).chat.completions.stream({ model: "x", messages: ask("/tokens 3") });
    expect(await helper.finalContent()).toBe("t0 t1 t2 ");
  });

  it("answers a non-streaming request with one chat.completion, and lists the model", async () => {
    const completion = await client(demo).chat.completions.create({
      model: "anything",
      messages: [{ role: "system", content: "be brief" }, ...ask("/tokens 3")],
    });
    expect(completion).toMatchObject({
      object: "chat.completion",
      model: "sluice-demo",
      choices: [
        { index: 0, message: { role: "assistant", content: "t0 t1 t2 " }, finish_reason: "stop" },
      ],
      usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 },
    });
    expect(completion.id).toMatch(/^msg_/);
    const models = await client(demo).models.list();
    expect(models.data.map((model) => model.id)).toEqual(["sluice-demo"]);
  });
});

describe("with an OpenAI upstream", () => {
  it("sends the Worker's key upstream, never the client's, and the messages as given", async () => {
    upstream.script = { tokens: ["Hello", " there"] };
    const completion = await client(relay).chat.completions.create({
      model: "mine",
      messages: [
        { role: "developer", content: "rules" },
        { role: "user", content: PARTS },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe("Hello there");
    const seen = upstream.requests.at(-1);
    expect(seen?.headers.authorization).toBe(`Bearer ${SECRETS.openaiKey}`);
    expect(JSON.stringify(seen?.headers)).not.toContain(CLIENT_KEY);
    expect(seen?.body.model).toBe("gpt-test");
    expect(seen?.body.messages).toEqual([
      { role: "system", content: "rules" },
      { role: "user", content: "hi you" },
    ]);
  });

  it("turns an upstream that refuses the call into an HTTP error the client does not retry", async () => {
    upstream.script = { tokens: [], status: 401 };
    const before = upstream.requests.length;
    const failure = await client(relay)
      .chat.completions.create({ model: "m", messages: ask("hi") })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect(failure).toMatchObject({ status: 502, code: "upstream_auth", type: "upstream_error" });
    expect(upstream.requests.length).toBe(before + 1);
  });

  it("turns an upstream that drops mid-answer into an error chunk after the text so far", async () => {
    upstream.script = { tokens: ["one ", "two ", "three"], dropAfter: 2, delayMs: 20 };
    const stream = await client(relay).chat.completions.create({
      model: "m",
      messages: ask("hi"),
      stream: true,
    });
    const read = { text: "" };
    const failure = await readStream(stream, read).catch((error: unknown) => error);
    expect(read.text).toBe("one two ");
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect(failure).toMatchObject({ code: "upstream_dropped" });
  });

  it("holds one of the client's answer slots while a stateless answer streams", async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    upstream.script = { tokens: ["held ", "answer"], gate };
    const first = await client(relay).chat.completions.create({
      model: "m",
      messages: ask("one"),
      stream: true,
    });
    const second = await client(relay, { maxRetries: 0 })
      .chat.completions.create({ model: "m", messages: ask("two") })
      .catch((error: unknown) => error);
    expect(second).toMatchObject({ status: 429, code: "rate_limited" });
    release();
    expect((await readStream(first)).text).toBe("held answer");
    upstream.script = { tokens: ["free again"] };
    const third = await client(relay).chat.completions.create({ model: "m", messages: ask("3") });
    expect(third.choices[0]?.message.content).toBe("free again");
  });

  it("asks in a session named by header or body: history from the session, answers stored, shown live", async () => {
    const created = await fetch(`${relay.url}/sessions`, { method: "POST" });
    const { session } = (await created.json()) as { session: string };
    const watcher = await openSse(`${relay.url}/sessions/${session}/events`);
    expect((await watcher.next())?.data).toMatchObject({ type: "session", generating: false });

    upstream.script = { tokens: ["first ", "answer"] };
    const inSession = client(relay, { defaultHeaders: { "X-Sluice-Session": session } });
    const stream = await inSession.chat.completions.create({
      model: "m",
      messages: ask("first question"),
      stream: true,
    });
    expect((await readStream(stream)).text).toBe("first answer");

    upstream.script = { tokens: ["second"] };
    const completion = await client(relay).chat.completions.create({
      model: "m",
      // Only the last user message is asked: the session holds the history.
      messages: [...ask("ignored: the session remembers"), ...ask("second question")],
      ...{ sluice_session: session },
    });
    expect(completion.choices[0]?.message.content).toBe("second");
    expect(upstream.requests.at(-1)?.body.messages).toEqual([
      { role: "user", content: "first question" },
      { role: "assistant", content: "first answer" },
      { role: "user", content: "second question" },
    ]);
    const stored = await fetch(`${relay.url}/sessions/${session}`);
    const { messages } = (await stored.json()) as { messages: Array<Record<string, unknown>> };
    expect(messages.map(({ role, content, status }) => [role, content, status])).toEqual([
      ["user", "first question", "complete"],
      ["assistant", "first answer", "complete"],
      ["user", "second question", "complete"],
      ["assistant", "second", "complete"],
    ]);

    const live: unknown[] = [];
    for (let event = await watcher.next(); event; event = await watcher.next()) {
      if (event.data.type === "chunk") live.push(event.data.content);
      if (event.data.type === "done" && live.length === 3) break;
    }
    watcher.drop();
    expect(live.join("")).toBe("first answersecond");
  });
});

const USER = [{ role: "user", content: "hi" }];
const SESSION = "0123456789abcdef0123456789abcdef";

type Refused = RequestInit & { path?: string };
const post = (body: unknown, headers: Record<string, string> = {}): Refused => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
});
const asked = (messages: unknown) => post({ messages });
const withUser = (extra: object) => post({ messages: USER, ...extra });

/** Bad requests and the code of the error each gets. */
const MALFORMED: Array<[string, Refused, ErrorCode]> = [
  ["text that is not JSON", post("{nope"), "invalid_json"],
  ["a JSON array", post([]), "invalid_request"],
  ["no messages", post({}), "invalid_request"],
  ["an empty messages array", asked([]), "invalid_request"],
  ["messages as a string", asked("hi"), "invalid_request"],
  ["a message that is not an object", asked(["hi"]), "invalid_request"],
  ["an unknown role", asked([{ role: "tool", content: "x" }]), "invalid_request"],
  ["no content", asked([{ role: "user" }]), "invalid_request"],
  ["numeric content", asked([{ role: "user", content: 5 }]), "invalid_request"],
  ["an image part", asked([{ role: "user", content: [{ type: "image_url" }] }]), "invalid_request"],
  ["no user message", asked([{ role: "system", content: "x" }]), "invalid_request"],
  ["a blank prompt", asked([{ role: "user", content: "  " }]), "prompt_empty"],
  ["a long prompt", asked([{ role: "user", content: "x".repeat(32_001) }]), "prompt_too_large"],
  ["a body over the limit", post("x".repeat(1024 * 1024 + 1)), "frame_too_large"],
  ["stream as a string", withUser({ stream: "yes" }), "invalid_request"],
  ["a numeric model", withUser({ model: 5 }), "invalid_request"],
  ["a tool without a function", withUser({ tools: [{ type: "function" }] }), "invalid_tools"],
  ["n above 1", withUser({ n: 2 }), "invalid_request"],
  [
    "a numeric include_usage",
    withUser({ stream_options: { include_usage: 1 } }),
    "invalid_request",
  ],
  ["a malformed session", withUser({ sluice_session: "nope" }), "session_not_found"],
  ["a session that does not exist", withUser({ sluice_session: SESSION }), "session_not_found"],
  [
    "a header and a field naming different sessions",
    post(
      { messages: USER, sluice_session: SESSION },
      { "x-sluice-session": SESSION.replace("0", "f") },
    ),
    "invalid_request",
  ],
  ["GET on completions", { method: "GET" }, "method_not_allowed"],
  ["an unknown path under /v1", { method: "POST", path: "/v1/embeddings" }, "not_found"],
];

describe("malformed requests", () => {
  it.each(MALFORMED)("refuses %s with OpenAI's error body", async (_what, init, code) => {
    const response = await fetch(`${demo.url}${init.path ?? "/v1/chat/completions"}`, init);
    expect(response.status).toBe(ERROR_STATUS[code]);
    const { error } = (await response.json()) as { error: Record<string, unknown> };
    expect(error).toMatchObject({ code, param: null });
    expect(typeof error.message).toBe("string");
    expect(typeof error.type).toBe("string");
  });
});

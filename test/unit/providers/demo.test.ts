import { describe, expect, it } from "vitest";
import { createDemoProvider } from "../../../src/providers/demo.ts";
import { demoReasoning } from "../../../src/providers/demo-answer.ts";
import { demoTokens, demoToolCalls } from "../../../src/providers/demo-script.ts";
import type { ChatMessage, UpstreamEvent } from "../../../src/providers/types.ts";
import { collectEvents, summarize } from "./support.ts";

const ask = (content: string): ChatMessage[] => [{ role: "user", content }];
const never = new AbortController().signal;

/** Resolves with "timeout" if `promise` takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  return Promise.race([promise, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ms))]);
}

/** Every token of the demo answer to `prompt`. */
function answerTokens(prompt: string): string[] {
  const tokens = demoTokens(prompt);
  return Array.from({ length: tokens.length }, (_, i) => tokens.at(i));
}

describe("the demo provider", () => {
  it("answers `/tokens 5` with exactly t0 to t4, then usage and finish", async () => {
    const provider = createDemoProvider({ DEMO_DELAY_MS: "0" });
    const events = await collectEvents(
      await provider.stream({ messages: ask("/tokens 5"), signal: never }),
    );
    expect(events).toEqual([
      ...["t0 ", "t1 ", "t2 ", "t3 ", "t4 "].map((text): UpstreamEvent => ({ type: "text", text })),
      { type: "usage", usage: { inputTokens: 2, outputTokens: 5 } },
      { type: "finish", reason: "stop" },
    ] satisfies UpstreamEvent[]);
  });

  it("counts the words of every message as input tokens", async () => {
    const provider = createDemoProvider({ DEMO_DELAY_MS: "0" });
    const messages: ChatMessage[] = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "one two three" },
      { role: "assistant", content: "four" },
      { role: "user", content: "/tokens 1" },
    ];
    const outcome = summarize(
      await collectEvents(await provider.stream({ messages, signal: never })),
    );
    expect(outcome.usage).toEqual({ inputTokens: 8, outputTokens: 1 });
  });

  it("gives the same answer to the same prompt, and different answers to different prompts", () => {
    expect(answerTokens("How do tides work?")).toEqual(answerTokens("How do tides work?"));
    const answers = new Set(["a", "b", "c", "d", "e"].map((p) => answerTokens(p).join("")));
    expect(answers.size).toBeGreaterThan(1);
  });

  it("answers in 80 to 200 word tokens of plain prose about the prompt, with non-ASCII text", () => {
    for (const prompt of [
      "",
      "Why is the sky blue?",
      "Explain quantum computing to a curious ten-year-old today",
    ]) {
      const tokens = answerTokens(prompt);
      expect(tokens.length).toBeGreaterThanOrEqual(80);
      expect(tokens.length).toBeLessThanOrEqual(200);
      for (const token of tokens) expect(token).toMatch(/^\S+\s*$/);
      const text = tokens.join("");
      expect(text.split("\n\n")).toHaveLength(3);
      expect(text).toContain("—");
      expect(text).toMatch(/[éï]/);
    }
    expect(answerTokens("Why is the sky blue?").join("")).toContain("“Why is the sky blue”");
  });

  it("stops at once when the signal aborts, mid-delay, with no usage or finish", async () => {
    const controller = new AbortController();
    const provider = createDemoProvider({ DEMO_DELAY_MS: "60000" });
    const events = await provider.stream({ messages: ask("hi"), signal: controller.signal });
    const pending = events.next();
    setTimeout(() => controller.abort(), 10);
    expect(await within(pending, 1000)).toBeUndefined();
    expect(await events.next()).toBeUndefined();
  });

  it("stops at once when cancelled, mid-delay, with no usage or finish", async () => {
    const provider = createDemoProvider({ DEMO_DELAY_MS: "60000" });
    const events = await provider.stream({ messages: ask("hi"), signal: never });
    const pending = events.next();
    setTimeout(() => events.cancel(), 10);
    expect(await within(pending, 1000)).toBeUndefined();
    expect(await events.next()).toBeUndefined();
  });

  it("produces nothing until the reader asks", async () => {
    const controller = new AbortController();
    const provider = createDemoProvider({ DEMO_DELAY_MS: "0" });
    const stream = await provider.stream({
      messages: ask("/tokens 50"),
      signal: controller.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    expect(await collectEvents(stream)).toEqual([]);
  });

  it("yields to the event loop between tokens even with no delay", async () => {
    const provider = createDemoProvider({ DEMO_DELAY_MS: "0" });
    const events = await provider.stream({ messages: ask("/tokens 200"), signal: never });
    let read = 0;
    let readWhenTimerFired = -1;
    setTimeout(() => {
      readWhenTimerFired = read;
    }, 0);
    while ((await events.next()) !== undefined) read++;
    expect(readWhenTimerFired).toBeGreaterThanOrEqual(0);
    expect(readWhenTimerFired).toBeLessThan(200);
  });
});

/** Every event the demo sends for `messages`, with no delay. */
async function demoEventsOf(messages: ChatMessage[]): Promise<UpstreamEvent[]> {
  const provider = createDemoProvider({ DEMO_DELAY_MS: "0" });
  return collectEvents(await provider.stream({ messages, signal: never }));
}

describe("the demo's parts", () => {
  it("thinks before it answers: a reasoning part word by word, then the answer, then usage", async () => {
    const prompt = "Why is the sky blue?";
    const events = await demoEventsOf(ask(prompt));
    const reasoningWords = demoReasoning(prompt).match(/\S+\s*/g) ?? [];
    expect(events.slice(0, reasoningWords.length + 2)).toEqual([
      { type: "reasoning-start", id: "reasoning-0" },
      ...reasoningWords.map((text) => ({ type: "reasoning-delta", id: "reasoning-0", text })),
      { type: "reasoning-end", id: "reasoning-0" },
    ]);
    const outcome = summarize(events);
    expect(outcome.reasoning).toBe(demoReasoning(prompt));
    expect(outcome.reasoning).toContain("“Why is the sky blue”");
    expect(outcome.reasoning).toMatch(/—/);
    expect(outcome.text).toBe(answerTokens(prompt).join(""));
    expect(outcome.toolCalls).toEqual([]);
    expect(outcome.finish).toBe("stop");
    expect(outcome.usage).toEqual({
      inputTokens: 5,
      outputTokens: reasoningWords.length + answerTokens(prompt).length,
    });
  });

  it("gives the same reasoning to the same prompt", () => {
    expect(demoReasoning("tides")).toBe(demoReasoning("tides"));
    expect(demoReasoning("")).toContain("your question");
  });

  it("answers `/tool weather Paris` with reasoning, one tool call streamed in pieces and finish tool_calls", async () => {
    const events = await demoEventsOf(ask("/tool weather Paris"));
    const outcome = summarize(events);
    expect(outcome).toMatchObject({ text: "", finish: "tool_calls", error: undefined });
    expect(outcome.reasoning).toContain("weather");
    expect(outcome.toolCalls).toEqual([
      {
        id: expect.stringMatching(/^call_demo_[0-9a-f]{8}$/),
        name: "weather",
        arguments: '{"query":"Paris"}',
        input: { query: "Paris" },
        invalid: undefined,
      },
    ]);
    const deltas = events.filter((event) => event.type === "tool-call-delta");
    expect(deltas.length).toBeGreaterThan(1);
    expect(events.findIndex((event) => event.type === "tool-call-start")).toBeGreaterThan(
      events.findIndex((event) => event.type === "reasoning-end"),
    );
  });

  it("makes one call per `/tool` line, numbered in order, with JSON arguments as written", async () => {
    const outcome = summarize(
      await demoEventsOf(
        ask('/tool weather Paris\n/tool convert {"from": "EUR", "to": "JPY"}\n/tool now'),
      ),
    );
    expect(outcome.toolCalls.map(({ name, input }) => [name, input])).toEqual([
      ["weather", { query: "Paris" }],
      ["convert", { from: "EUR", to: "JPY" }],
      ["now", {}],
    ]);
    expect(new Set(outcome.toolCalls.map((call) => call.id)).size).toBe(3);
  });

  it("ends a call whose written arguments are not JSON as tool-call-invalid", async () => {
    const outcome = summarize(await demoEventsOf(ask('/tool broken {"a": ')));
    expect(outcome.toolCalls).toEqual([
      expect.objectContaining({ name: "broken", arguments: '{"a":', input: undefined }),
    ]);
    expect(outcome.toolCalls[0]?.invalid).toMatch(/not valid JSON/);
    expect(outcome.finish).toBe("tool_calls");
  });

  it("gives the same call ids for the same conversation, and new ones on a later turn", async () => {
    const first = summarize(await demoEventsOf(ask("/tool weather Paris"))).toolCalls[0]?.id;
    const again = summarize(await demoEventsOf(ask("/tool weather Paris"))).toolCalls[0]?.id;
    const later = summarize(
      await demoEventsOf([
        { role: "user", content: "/tool weather Paris" },
        { role: "assistant", content: "" },
        { role: "user", content: "/tool weather Paris" },
      ]),
    ).toolCalls[0]?.id;
    expect(again).toBe(first);
    expect(later).not.toBe(first);
  });

  it.each([
    ["/tool", undefined],
    ["/toolbox weather", undefined],
    ["what is /tool weather Paris?", undefined],
    ["  /tool weather  Paris  ", [{ name: "weather", arguments: '{"query":"Paris"}' }]],
  ])("reads %j as tool calls %j", (prompt, expected) => {
    expect(demoToolCalls(prompt)).toEqual(expected);
  });

  it("keeps `/tokens N` free of reasoning and tool calls", async () => {
    const events = await demoEventsOf(ask("/tokens 3"));
    expect(events.map((event) => event.type)).toEqual(["text", "text", "text", "usage", "finish"]);
  });
});

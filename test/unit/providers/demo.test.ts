import { describe, expect, it } from "vitest";
import { createDemoProvider } from "../../../src/providers/demo.ts";
import { demoTokens } from "../../../src/providers/demo-script.ts";
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

/**
 * The embedded offline model: streams a made-up but readable answer word by word, with no key
 * and no network, so Sluice runs out of the box and tests have a deterministic upstream.
 *
 * One special prompt, for tests and benchmarks that need a known length: a last user message
 * starting with `/tokens N` is answered with exactly N tokens `t0 t1 t2 …` (each `t<i> `, with
 * its trailing space), N at most 100000.
 */
import type { Env } from "../env.ts";
import { outputCap } from "./config.ts";
import { demoAnswer } from "./demo-answer.ts";
import type { ChatMessage, Provider, UpstreamEvent, UpstreamEvents } from "./types.ts";

const DEFAULT_DELAY_MS = 15;
const MAX_COUNTED_TOKENS = 100_000;
const TOKENS_PROMPT = /^\/tokens\s+(\d+)(?!\S)/;

/** The demo answer as tokens, produced on demand so `/tokens 100000` allocates nothing up front. */
interface TokenSource {
  readonly length: number;
  at(index: number): string;
}

/** The settings the demo reads; `Env` satisfies it. */
export type DemoEnv = Pick<Env, "DEMO_DELAY_MS" | "MAX_OUTPUT_TOKENS">;

/**
 * The demo provider. Each token comes DEMO_DELAY_MS after the previous one (default 15; 0
 * sends as fast as the reader pulls, still yielding to the event loop between tokens), then
 * `usage` (input: words in all messages; output: tokens sent) and `finish` "stop", or
 * `length` when MAX_OUTPUT_TOKENS cut the answer short, as a real model reports it.
 */
export function createDemoProvider(env: DemoEnv): Provider {
  const delayMs = parseDelay(env.DEMO_DELAY_MS);
  return {
    name: "demo",
    model: "sluice-demo",
    async stream({ messages, signal, onActivity }) {
      const prompt = messages.findLast((message) => message.role === "user")?.content ?? "";
      const tokens = demoTokens(prompt);
      const cap = outputCap(env.MAX_OUTPUT_TOKENS);
      const capped = cap !== undefined && tokens.length > cap ? { ...tokens, length: cap } : tokens;
      const finish = capped === tokens ? "stop" : "length";
      return demoEvents(capped, countWords(messages), delayMs, signal, onActivity, finish);
    },
  };
}

/** The tokens answering `prompt`: a word and the whitespace after it, or the `/tokens N` series. */
export function demoTokens(prompt: string): TokenSource {
  const counted = TOKENS_PROMPT.exec(prompt.trim());
  if (counted?.[1] !== undefined) {
    const length = Math.min(Number(counted[1]), MAX_COUNTED_TOKENS);
    return { length, at: (index) => `t${index} ` };
  }
  const words = demoAnswer(prompt).match(/\S+\s*/g) ?? [];
  return { length: words.length, at: (index) => words[index] ?? "" };
}

/**
 * The events of `tokens`, pull-based: nothing is produced before `next()` asks, so a slow
 * consumer slows the model down instead of filling a queue. An abort or a cancel clears the
 * pending timer and ends the events at once, without usage or finish.
 */
function demoEvents(
  tokens: TokenSource,
  inputTokens: number,
  delayMs: number,
  signal: AbortSignal,
  onActivity: (() => void) | undefined,
  finish: string,
): UpstreamEvents {
  // Tokens sent so far; then one step for usage and one for finish.
  let index = 0;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;

  const close = () => {
    if (closed) return;
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    wake?.();
    signal.removeEventListener("abort", close);
  };
  const sleep = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, delayMs);
    });

  signal.addEventListener("abort", close, { once: true });
  if (signal.aborted) close();
  return {
    async next(): Promise<UpstreamEvent | undefined> {
      if (closed) return undefined;
      if (index < tokens.length) {
        await sleep();
        if (closed) return undefined;
        onActivity?.();
        return { type: "text", text: tokens.at(index++) };
      }
      if (index++ === tokens.length) {
        return { type: "usage", usage: { inputTokens, outputTokens: tokens.length } };
      }
      close();
      return { type: "finish", reason: finish };
    },
    cancel: close,
  };
}

/** DEMO_DELAY_MS as a non-negative number of milliseconds, or the default if unset or invalid. */
function parseDelay(value: string | undefined): number {
  const delay = value === undefined || value.trim() === "" ? Number.NaN : Number(value);
  return Number.isFinite(delay) && delay >= 0 ? delay : DEFAULT_DELAY_MS;
}

/** Whitespace-separated words in all messages: a rough stand-in for input tokens. */
function countWords(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, { content }) => sum + (content.match(/\S+/g)?.length ?? 0), 0);
}

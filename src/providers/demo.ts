/**
 * The embedded offline model: streams a made-up but readable answer word by word, after a
 * short reasoning part, with no key and no network, so Sluice runs out of the box and tests
 * have a deterministic upstream.
 *
 * Special prompts, for tests and benchmarks (see `demoScript`): a last user message starting
 * with `/tokens N` is answered with exactly N tokens `t0 t1 t2 …` (each `t<i> `, with its
 * trailing space), N at most 100000, and no reasoning; one made of `/tool NAME [ARGS]` lines
 * is answered with those tool calls and finish `tool_calls`.
 */
import type { Env } from "../env.ts";
import type { DemoScript } from "./demo-script.ts";
import { demoScript } from "./demo-script.ts";
import type { ChatMessage, Provider, UpstreamEvent, UpstreamEvents } from "./types.ts";

const DEFAULT_DELAY_MS = 15;

/** The settings the demo reads; `Env` satisfies it. */
export type DemoEnv = Pick<Env, "DEMO_DELAY_MS">;

/**
 * The demo provider. Each event but usage and finish comes DEMO_DELAY_MS after the previous
 * one (default 15; 0 sends as fast as the reader pulls, still yielding to the event loop
 * between events), then `usage` (input: words in all messages) and `finish`.
 */
export function createDemoProvider(env: DemoEnv): Provider {
  const delayMs = parseDelay(env.DEMO_DELAY_MS);
  return {
    name: "demo",
    model: "sluice-demo",
    async stream({ messages, signal, onActivity }) {
      const prompt = messages.findLast((message) => message.role === "user")?.content ?? "";
      const script = demoScript(prompt, messages.length, countWords(messages));
      return demoEvents(script, delayMs, signal, onActivity);
    },
  };
}

/**
 * The events of `script`, pull-based: nothing is produced before `next()` asks, so a slow
 * consumer slows the model down instead of filling a queue. An abort or a cancel clears the
 * pending timer and ends the events at once, without usage or finish.
 */
function demoEvents(
  script: DemoScript,
  delayMs: number,
  signal: AbortSignal,
  onActivity?: () => void,
): UpstreamEvents {
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
      if (closed || index >= script.length) return undefined;
      const event = script.at(index++);
      if (event.type !== "usage" && event.type !== "finish") {
        await sleep();
        if (closed) return undefined;
        onActivity?.();
      }
      if (index >= script.length) close();
      return event;
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

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
import { numberSetting } from "../config.ts";
import type { Env } from "../env.ts";
import { outputCap } from "./config.ts";
import type { DemoScript } from "./demo-script.ts";
import { demoContinuation, demoScript } from "./demo-script.ts";
import type { ChatMessage, Provider, UpstreamEvent, UpstreamEvents } from "./types.ts";

const DEFAULT_DELAY_MS = 15;

/** The settings the demo reads; `Env` satisfies it. */
export type DemoEnv = Partial<Pick<Env, "DEMO_DELAY_MS" | "MAX_OUTPUT_TOKENS">>;

/**
 * The demo provider. Each event but usage and finish comes DEMO_DELAY_MS after the previous
 * one (default 15; 0 sends as fast as the reader pulls, still yielding to the event loop
 * between events), then `usage` (input: words in all messages) and `finish`, which is
 * `length` when MAX_OUTPUT_TOKENS cut the answer short, as a real model reports it.
 */
export function createDemoProvider(env: DemoEnv): Provider {
  const delayMs = parseDelay(env.DEMO_DELAY_MS);
  return {
    name: "demo",
    model: "sluice-demo",
    async stream({ messages, signal, onActivity }) {
      const prompt = messages.findLast((message) => message.role === "user")?.content ?? "";
      const results: Array<{ toolName: string; content: string; isError: boolean }> = [];
      for (let i = messages.length - 1; messages[i]?.role === "tool"; i -= 1) {
        const message = messages[i];
        if (!message) break;
        const { toolName = "tool", content, isError = false } = message;
        results.unshift({ toolName, content, isError });
      }
      const script =
        results.length > 0
          ? demoContinuation(results, countWords(messages))
          : demoScript(prompt, messages.length, countWords(messages));
      return demoEvents(
        capScript(script, outputCap(env.MAX_OUTPUT_TOKENS)),
        delayMs,
        signal,
        onActivity,
      );
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

/**
 * `script` cut after `cap` pieces of content (text, reasoning or arguments), when it has more:
 * the part in progress is ended, then usage (output: `cap`) and finish `length`.
 */
export function capScript(script: DemoScript, cap: number | undefined): DemoScript {
  if (cap === undefined) return script;
  let sent = 0;
  let open: UpstreamEvent | undefined;
  for (let index = 0; index < script.length; index += 1) {
    const event = script.at(index);
    if (event.type === "reasoning-start" || event.type === "tool-call-start") open = event;
    if (event.type === "reasoning-end" || event.type === "tool-call-end") open = undefined;
    const content =
      event.type === "text" || event.type === "reasoning-delta" || event.type === "tool-call-delta";
    if (!content || ++sent < cap) continue;
    if (index + 1 < script.length && script.at(index + 1).type === "usage") return script;
    const tail: UpstreamEvent[] = [];
    if (open?.type === "reasoning-start") tail.push({ type: "reasoning-end", id: open.id });
    if (open?.type === "tool-call-start") {
      const { id, index: position, name } = open;
      const message = "The answer was cut at MAX_OUTPUT_TOKENS inside this call.";
      tail.push({ type: "tool-call-invalid", id, index: position, name, arguments: "", message });
    }
    const input = script.at(script.length - 2);
    const inputTokens = input.type === "usage" ? input.usage.inputTokens : 0;
    tail.push({ type: "usage", usage: { inputTokens, outputTokens: cap } });
    tail.push({ type: "finish", reason: "length" });
    const kept = index + 1;
    return {
      length: kept + tail.length,
      at: (at) =>
        at < kept ? script.at(at) : (tail[at - kept] ?? { type: "finish", reason: "length" }),
    };
  }
  return script;
}

/** DEMO_DELAY_MS as a non-negative number of milliseconds, or the default if unset or invalid. */
function parseDelay(value: string | undefined): number {
  return numberSetting("DEMO_DELAY_MS", value, {
    default: DEFAULT_DELAY_MS,
    min: 0,
    unit: "milliseconds",
    invalid: "default",
  });
}

/** Whitespace-separated words in all messages: a rough stand-in for input tokens. */
function countWords(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, { content }) => sum + (content.match(/\S+/g)?.length ?? 0), 0);
}

/**
 * What the demo model says to a prompt, as a list of events made on demand: reasoning and then
 * an answer, the `/tokens N` series, or tool calls for `/tool` prompts.
 */
import { demoAnswer, demoReasoning, fnv1a } from "./demo-answer.ts";
import { toolCallEnd } from "./tool-input.ts";
import type { UpstreamEvent } from "./types.ts";

const MAX_COUNTED_TOKENS = 100_000;
const TOKENS_PROMPT = /^\/tokens\s+(\d+)(?!\S)/;
const TOOL_PROMPT = /^\/tool\s+\S/;
const TOOL_LINE = /^\/tool\s+(\S+)(?:\s+(.*))?$/;
/** Characters of argument JSON per `tool-call-delta`: small, so every call streams in pieces. */
const ARGUMENT_PIECE = 6;
/** The demo's one reasoning part. */
const REASONING_ID = "reasoning-0";

/** A list of events, each made when it is asked for, so `/tokens 100000` allocates nothing up front. */
export interface DemoScript {
  readonly length: number;
  at(index: number): UpstreamEvent;
}

/** The tokens of an answer: a word and the whitespace after it, or the `/tokens N` series. */
export interface TokenSource {
  readonly length: number;
  at(index: number): string;
}

/** A tool call the demo makes: the tool's name and the arguments' JSON text. */
export interface DemoToolCall {
  name: string;
  arguments: string;
}

/** The text tokens answering `prompt` (no reasoning, no tool calls). */
export function demoTokens(prompt: string): TokenSource {
  const counted = TOKENS_PROMPT.exec(prompt.trim());
  if (counted?.[1] !== undefined) {
    const length = Math.min(Number(counted[1]), MAX_COUNTED_TOKENS);
    return { length, at: (index) => `t${index} ` };
  }
  return listOf(words(demoAnswer(prompt)));
}

/**
 * The tool calls a `/tool` prompt asks for, one per line `/tool NAME [ARGS]`; `undefined` when
 * the prompt is not one. ARGS starting with `{` is the arguments' JSON text as written (so a
 * test can make the model send invalid JSON); other text becomes `{"query": ARGS}`; none is `{}`.
 */
export function demoToolCalls(prompt: string): DemoToolCall[] | undefined {
  const trimmed = prompt.trim();
  if (!TOOL_PROMPT.test(trimmed)) return undefined;
  return trimmed.split("\n").flatMap((line): DemoToolCall[] => {
    const match = TOOL_LINE.exec(line.trim());
    if (match?.[1] === undefined) return [];
    const rest = match[2]?.trim() ?? "";
    const args = rest.startsWith("{") ? rest : rest ? JSON.stringify({ query: rest }) : "{}";
    return [{ name: match[1], arguments: args }];
  });
}

/**
 * Everything the demo sends for `prompt`, the last user message of a conversation of `turn`
 * messages with `inputTokens` words:
 * - `/tokens N`: exactly the N tokens `t0 `, `t1 `, ..., usage (output N) and finish `stop`,
 *   as before parts existed: no reasoning.
 * - `/tool ...`: a reasoning part, then each call (start, its arguments in pieces of 6
 *   characters, end), usage and finish `tool_calls`. Call ids are `call_demo_` and a hash of
 *   the prompt, `turn` and the call's position: the same conversation gives the same ids.
 * - anything else: a reasoning part (`demoReasoning`, word by word), the answer word by word,
 *   usage and finish `stop`.
 * Output tokens count every text, reasoning and argument piece sent.
 */
export function demoScript(prompt: string, turn: number, inputTokens: number): DemoScript {
  if (TOKENS_PROMPT.test(prompt.trim())) return countedScript(demoTokens(prompt), inputTokens);
  const calls = demoToolCalls(prompt);
  const reasoning = calls
    ? `The user asked for ${calls.map((call) => call.name).join(", ")}. I will call it as written and wait for the result.`
    : demoReasoning(prompt);
  const events: UpstreamEvent[] = [{ type: "reasoning-start", id: REASONING_ID }];
  for (const text of words(reasoning))
    events.push({ type: "reasoning-delta", id: REASONING_ID, text });
  events.push({ type: "reasoning-end", id: REASONING_ID });
  if (calls) {
    // A `/tokens N` line in a `/tool` prompt: N text tokens before the calls (storage tests).
    const counted = /^\/tokens\s+(\d+)/m.exec(prompt.trim());
    const texts = Math.min(Number(counted?.[1] ?? 0), MAX_COUNTED_TOKENS);
    for (let i = 0; i < texts; i += 1) events.push({ type: "text", text: `t${i} ` });
    calls.forEach((call, index) => {
      const id = `call_demo_${fnv1a(`${turn}:${index}:${prompt}`).toString(16).padStart(8, "0")}`;
      events.push({ type: "tool-call-start", id, index, name: call.name });
      for (const piece of pieces(call.arguments, ARGUMENT_PIECE)) {
        events.push({ type: "tool-call-delta", id, index, arguments: piece });
      }
      events.push(toolCallEnd(id, index, call.name, call.arguments));
    });
  } else {
    for (const text of words(demoAnswer(prompt))) events.push({ type: "text", text });
  }
  const outputTokens = events.filter(carriesContent).length;
  events.push({ type: "usage", usage: { inputTokens, outputTokens } });
  events.push({ type: "finish", reason: calls ? "tool_calls" : "stop" });
  return { length: events.length, at: (index) => events[index] ?? finishStop() };
}

/**
 * The demo's answer to a conversation that ends in tool results: one text that names each
 * result (`The weather tool returned {...}.`), word by word, usage and finish `stop`, so an
 * offline tool round trip shows the results came back.
 */
export function demoContinuation(
  results: ReadonlyArray<{ toolName: string; content: string; isError: boolean }>,
  inputTokens: number,
): DemoScript {
  const said = results.map(({ toolName, content, isError }) =>
    isError
      ? `The ${toolName} tool failed: ${content}.`
      : `The ${toolName} tool returned ${content}.`,
  );
  const events: UpstreamEvent[] = words(`${said.join(" ")} That is what I found.`).map((text) => ({
    type: "text",
    text,
  }));
  events.push({ type: "usage", usage: { inputTokens, outputTokens: events.length } });
  events.push(finishStop());
  return { length: events.length, at: (index) => events[index] ?? finishStop() };
}

/** Whether `event` carries a piece of content (text, reasoning or arguments). */
function carriesContent(event: UpstreamEvent): boolean {
  return (
    event.type === "text" || event.type === "reasoning-delta" || event.type === "tool-call-delta"
  );
}

/** The `/tokens N` script: N texts made on demand, then usage and finish. */
function countedScript(tokens: TokenSource, inputTokens: number): DemoScript {
  return {
    length: tokens.length + 2,
    at(index) {
      if (index < tokens.length) return { type: "text", text: tokens.at(index) };
      if (index === tokens.length) {
        return { type: "usage", usage: { inputTokens, outputTokens: tokens.length } };
      }
      return finishStop();
    },
  };
}

function finishStop(): UpstreamEvent {
  return { type: "finish", reason: "stop" };
}

/** `text` as words, each with the whitespace after it. */
function words(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}

/** `text` cut into pieces of `size` code points (never inside a character). */
function pieces(text: string, size: number): string[] {
  const points = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(""));
  return out;
}

function listOf(items: readonly string[]): TokenSource {
  return { length: items.length, at: (index) => items[index] ?? "" };
}

/** Builds the conversation sent upstream from the stored history, within a size budget. */
import { numberSetting } from "../config.ts";
import type { MessagePart, StoredMessage } from "../protocol.ts";
import type { ChatMessage, ContextPart } from "../providers/types.ts";

const DEFAULT_BUDGET_CHARS = 60_000;

/** CONTEXT_BUDGET_CHARS as a number of characters (default 60,000, about 15,000 tokens). */
export function contextBudget(value: string | undefined): number {
  return numberSetting("CONTEXT_BUDGET_CHARS", value, {
    default: DEFAULT_BUDGET_CHARS,
    min: 1,
    integer: true,
    unit: "characters",
    invalid: "default",
  });
}

/** The characters a part costs in the budget: every text it sends upstream. */
function partChars(part: MessagePart): number {
  switch (part.type) {
    case "text":
      return part.text.length;
    case "reasoning":
      return part.text.length + (part.signature?.length ?? 0) + (part.redactedData?.length ?? 0);
    case "tool-call":
      return (
        part.toolName.length +
        JSON.stringify(part.input ?? {}).length +
        (part.output === undefined ? 0 : JSON.stringify(part.output).length) +
        (part.errorText?.length ?? 0)
      );
    default:
      return 0;
  }
}

/** The characters a stored message costs in the budget (its parts, else its content). */
export function messageChars(message: StoredMessage): number {
  if (!message.parts || message.parts.length === 0) return message.content.length;
  return message.parts.reduce((sum, part) => sum + partChars(part), 0);
}

/** The characters a built context costs (every message's text and parts). */
export function contextChars(messages: readonly ChatMessage[]): number {
  return messages.reduce(
    (sum, message) =>
      sum +
      (message.parts
        ? message.parts.reduce(
            (n, part) => n + (part.type === "tool-call" ? part.arguments.length : part.text.length),
            0,
          )
        : message.content.length),
    0,
  );
}

/**
 * An assistant message's parts as upstream messages: per step an assistant message (its text,
 * reasoning and the calls that got an answer) and a `tool` message per answered call. A call
 * with no result (the wait was cancelled) is left out, since every upstream refuses a call
 * without its result; a call whose input was invalid is answered with that error.
 */
function assistantMessages(message: StoredMessage): ChatMessage[] {
  const parts = message.parts ?? [];
  if (!parts.some((part) => part.type === "reasoning" || part.type === "tool-call")) {
    return [{ role: "assistant", content: message.content }];
  }
  const out: ChatMessage[] = [];
  let step: ContextPart[] = [];
  let results: ChatMessage[] = [];
  const flush = () => {
    const content = step.map((part) => (part.type === "text" ? part.text : "")).join("");
    if (step.length > 0) out.push({ role: "assistant", content, parts: step });
    out.push(...results);
    step = [];
    results = [];
  };
  for (const part of parts) {
    if (part.type === "step-start") flush();
    else if (part.type === "text" || part.type === "reasoning") step.push({ ...part });
    else if (part.type === "tool-call") {
      const answered = toolAnswer(part);
      if (!answered) continue;
      const input = part.input ?? {};
      step.push({
        type: "tool-call",
        id: part.toolCallId,
        name: part.toolName,
        arguments: JSON.stringify(input),
        input,
      });
      results.push({
        role: "tool",
        toolCallId: part.toolCallId,
        toolName: part.toolName,
        ...answered,
      });
    }
  }
  flush();
  return out;
}

function toolAnswer(
  part: Extract<MessagePart, { type: "tool-call" }>,
): { content: string; isError?: boolean } | undefined {
  switch (part.state) {
    case "output-available":
      return { content: JSON.stringify(part.output ?? null) };
    case "output-error":
      return { content: part.errorText ?? "The tool failed.", isError: true };
    case "input-error":
      return { content: `Invalid arguments: ${part.errorText ?? ""}`, isError: true };
    default:
      return undefined;
  }
}

/**
 * The stored history as upstream messages, newest kept first: the system prompt, then as many
 * of the most recent messages as fit in `budget` characters (the latest prompt always goes,
 * even alone over budget; every part counts). The stored history itself is never trimmed.
 * Answers that produced nothing are left out; partial answers (cancelled, incomplete) are
 * kept, since the user saw them. `continuing` names a `streaming` answer whose earlier steps
 * go too (a continuation after tool results). Consecutive user messages are joined, because
 * some upstreams (Anthropic) require user and assistant turns to alternate and to start
 * with a user turn.
 */
export function buildContext(
  history: readonly StoredMessage[],
  systemPrompt: string | undefined,
  budget = DEFAULT_BUDGET_CHARS,
  continuing?: string,
): ChatMessage[] {
  return contextOf(backwards(history), systemPrompt, budget, continuing);
}

/** {@link buildContext} over the history newest first; nothing older than the budget is read. */
export function contextOf(
  newestFirst: Iterable<StoredMessage>,
  systemPrompt: string | undefined,
  budget = DEFAULT_BUDGET_CHARS,
  continuing?: string,
): ChatMessage[] {
  const kept: StoredMessage[] = [];
  let used = systemPrompt?.length ?? 0;
  for (const message of newestFirst) {
    const chars = messageChars(message);
    if (chars === 0 || (message.status === "streaming" && message.id !== continuing)) continue;
    if (kept.length > 0 && used + chars > budget) break;
    used += chars;
    kept.push(message);
  }
  kept.reverse();
  while (kept[0]?.role === "assistant") kept.shift();

  const messages: ChatMessage[] = [];
  if (systemPrompt) messages.push({ role: "system", content: systemPrompt });
  for (const message of kept) {
    const previous = messages.at(-1);
    if (message.role === "user") {
      if (previous?.role === "user" && !previous.parts)
        previous.content += `\n\n${message.content}`;
      else messages.push({ role: "user", content: message.content });
      continue;
    }
    for (const next of assistantMessages(message)) {
      const last = messages.at(-1);
      if (next.role === "assistant" && last?.role === "assistant") {
        if (next.parts) last.parts = [...(last.parts ?? textParts(last.content)), ...next.parts];
        last.content += last.content && next.content ? `\n\n${next.content}` : next.content;
      } else messages.push(next);
    }
  }
  return messages;
}

function textParts(content: string): ContextPart[] {
  return content === "" ? [] : [{ type: "text", text: content }];
}

function* backwards<T>(items: readonly T[]): Generator<T> {
  for (let i = items.length - 1; i >= 0; i -= 1) {
    const item = items[i];
    if (item !== undefined) yield item;
  }
}

/** Builds the conversation sent upstream from the stored history, within a size budget. */
import type { StoredMessage } from "../protocol.ts";
import type { ChatMessage } from "../providers/types.ts";

const DEFAULT_BUDGET_CHARS = 60_000;

/** CONTEXT_BUDGET_CHARS as a number of characters (default 60,000, about 15,000 tokens). */
export function contextBudget(value: string | undefined): number {
  const chars = Number(value);
  return Number.isSafeInteger(chars) && chars > 0 ? chars : DEFAULT_BUDGET_CHARS;
}

/**
 * The stored history as upstream messages, newest kept first: the system prompt, then as many
 * of the most recent messages as fit in `budget` characters (the latest prompt always goes,
 * even alone over budget). The stored history itself is never trimmed. Answers that produced
 * no text are left out; partial answers (cancelled, incomplete) are kept, since the user saw
 * them. Consecutive messages of one role are joined, because some upstreams (Anthropic)
 * require user and assistant turns to alternate and to start with a user turn.
 */
export function buildContext(
  history: readonly StoredMessage[],
  systemPrompt: string | undefined,
  budget = DEFAULT_BUDGET_CHARS,
): ChatMessage[] {
  const kept: StoredMessage[] = [];
  let used = systemPrompt?.length ?? 0;
  for (let i = history.length - 1; i >= 0; i -= 1) {
    const message = history[i];
    if (!message || message.content === "" || message.status === "streaming") continue;
    if (kept.length > 0 && used + message.content.length > budget) break;
    used += message.content.length;
    kept.push(message);
  }
  kept.reverse();
  while (kept[0]?.role === "assistant") kept.shift();

  const messages: ChatMessage[] = [];
  if (systemPrompt) messages.push({ role: "system", content: systemPrompt });
  for (const message of kept) {
    const previous = messages.at(-1);
    if (previous?.role === message.role) {
      previous.content += `\n\n${message.content}`;
    } else {
      messages.push({ role: message.role, content: message.content });
    }
  }
  return messages;
}

/** Builds the conversation sent upstream from the stored history. */
import type { StoredMessage } from "../protocol.ts";
import type { ChatMessage } from "../providers/types.ts";

/**
 * The stored history as upstream messages: the system prompt first; answers that produced no
 * text are left out; partial answers (cancelled, incomplete) are kept, since the user saw them.
 * Consecutive messages of one role are joined, because some upstreams (Anthropic) require
 * user and assistant turns to alternate.
 */
export function buildContext(
  history: readonly StoredMessage[],
  systemPrompt?: string,
): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (systemPrompt) messages.push({ role: "system", content: systemPrompt });
  for (const message of history) {
    if (message.content === "" || message.status === "streaming") continue;
    const previous = messages.at(-1);
    if (previous?.role === message.role) {
      previous.content += `\n\n${message.content}`;
    } else {
      messages.push({ role: message.role, content: message.content });
    }
  }
  return messages;
}

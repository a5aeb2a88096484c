/**
 * The parts of a session's messages: the assembler shared with the client, and what the
 * session asks of parts (which calls await a result, a user message's parts).
 */

import type { DistributiveOmit } from "../client/parts.ts";
import type { MessagePart, SessionEvent } from "../protocol.ts";

export { PartsAssembler, partsText } from "../client/parts.ts";

/** A session event that builds a message's parts, before the log numbers it. */
export type PartEvent = Extract<
  DistributiveOmit<SessionEvent, "seq" | "messageId">,
  {
    type:
      | "chunk"
      | "reasoning-start"
      | "reasoning-delta"
      | "reasoning-end"
      | "tool-call-start"
      | "tool-call-delta"
      | "tool-call"
      | "tool-call-error";
  }
>;

/** The parts of a user message. */
export function userParts(text: string): MessagePart[] {
  return [{ type: "text", text }];
}

/** The calls of the last step that wait for a client's result (valid input, no result yet). */
export function awaitedCalls(parts: readonly MessagePart[]): string[] {
  const ids: string[] = [];
  for (let i = parts.length - 1; i >= 0; i -= 1) {
    const part = parts[i];
    if (part?.type === "step-start") break;
    if (part?.type === "tool-call" && part.state === "input-available")
      ids.unshift(part.toolCallId);
  }
  return ids;
}

/**
 * Assembles a message's parts from session events: the same code builds what the session
 * stores and what a client shows, so a client that replays or resumes the events of an answer
 * ends with exactly the stored message's parts. Pure: no I/O, no dependencies.
 */
import type { MessagePart, SessionEvent } from "../protocol.ts";

type ToolCallPart = Extract<MessagePart, { type: "tool-call" }>;

/** The text of `parts`: its text parts joined (what `content` holds). */
export function partsText(parts: readonly MessagePart[]): string {
  let text = "";
  for (const part of parts) if (part.type === "text") text += part.text;
  return text;
}

/** Builds one message's parts from its events, in order; starts from `parts` (history) if given. */
export class PartsAssembler {
  readonly parts: MessagePart[];
  /** The reasoning part each open `partId` writes to. */
  private readonly reasoning = new Map<string, Extract<MessagePart, { type: "reasoning" }>>();

  constructor(parts: readonly MessagePart[] = []) {
    this.parts = parts.map((part) => ({ ...part }));
  }

  /** The tool call part of `toolCallId`, if the message has one. */
  toolCall(toolCallId: string): ToolCallPart | undefined {
    for (let i = this.parts.length - 1; i >= 0; i -= 1) {
      const part = this.parts[i];
      if (part?.type === "tool-call" && part.toolCallId === toolCallId) return part;
    }
    return undefined;
  }

  /** Applies one event of this message; events of other kinds (error, done) change nothing. */
  apply(event: DistributiveOmit<SessionEvent, "seq" | "messageId">): void {
    switch (event.type) {
      case "start":
        if (this.parts.length === 0) this.parts.push({ type: "step-start" });
        break;
      case "step":
        this.parts.push({ type: "step-start" });
        break;
      case "chunk": {
        const last = this.parts.at(-1);
        if (last?.type === "text") last.text += event.content;
        else this.parts.push({ type: "text", text: event.content });
        break;
      }
      case "reasoning-start": {
        const part: Extract<MessagePart, { type: "reasoning" }> = { type: "reasoning", text: "" };
        this.reasoning.set(event.partId, part);
        this.parts.push(part);
        break;
      }
      case "reasoning-delta": {
        const part = this.reasoning.get(event.partId);
        if (part) part.text += event.content;
        break;
      }
      case "reasoning-end": {
        const part = this.reasoning.get(event.partId);
        if (!part) break;
        if (event.signature !== undefined) part.signature = event.signature;
        if (event.redactedData !== undefined) part.redactedData = event.redactedData;
        this.reasoning.delete(event.partId);
        break;
      }
      case "tool-call-start":
        this.parts.push({
          type: "tool-call",
          toolCallId: event.toolCallId,
          toolName: event.toolName,
          state: "input-streaming",
          inputText: "",
        });
        break;
      case "tool-call-delta": {
        const part = this.toolCall(event.toolCallId);
        if (part?.state === "input-streaming")
          part.inputText = (part.inputText ?? "") + event.inputDelta;
        break;
      }
      case "tool-call": {
        const part =
          this.toolCall(event.toolCallId) ?? this.pushCall(event.toolCallId, event.toolName);
        part.state = "input-available";
        part.input = event.input;
        delete part.inputText;
        break;
      }
      case "tool-call-error": {
        const part =
          this.toolCall(event.toolCallId) ?? this.pushCall(event.toolCallId, event.toolName);
        part.state = "input-error";
        part.inputText = event.inputText;
        part.errorText = event.message;
        break;
      }
      case "tool-result": {
        const part = this.toolCall(event.toolCallId);
        if (!part) break;
        if ("errorText" in event) {
          part.state = "output-error";
          part.errorText = event.errorText;
        } else {
          part.state = "output-available";
          part.output = event.output;
        }
        break;
      }
      default:
    }
  }

  private pushCall(toolCallId: string, toolName: string): ToolCallPart {
    const part: ToolCallPart = {
      type: "tool-call",
      toolCallId,
      toolName,
      state: "input-streaming",
    };
    this.parts.push(part);
    return part;
  }
}

/** Omit over each member of a union, so each event keeps its own fields. */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

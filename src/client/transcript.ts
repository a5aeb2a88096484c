/**
 * The conversation as a page shows it, assembled from session events and stored history. Events
 * are applied at most once, by sequence number, so whatever a reconnect replays twice, the text
 * is never doubled; and history never overwrites an answer that is still streaming.
 */
import type { ErrorCode } from "../errors.ts";
import type { MessagePart, MessageStatus, SessionEvent, StoredMessage } from "../protocol.ts";
import type { Usage } from "../providers/types.ts";
import { PartsAssembler } from "./parts.ts";

/** One message of the conversation. */
export interface ChatMessage {
  id: string;
  role: "user" | "assistant";
  /** The text so far; the whole text once `status` is no longer `streaming`. */
  content: string;
  /** Its parts so far, in order: steps, reasoning, text, tool calls with their results. */
  parts: MessagePart[];
  status: MessageStatus;
  /** The upstream's finish reason, once done. */
  finish?: string;
  /** Why the answer failed, when it did. */
  errorCode?: ErrorCode;
  /** The relay's explanation of `errorCode`, when an `error` event carried one. */
  errorMessage?: string;
  usage?: Usage;
}

/** Messages in order, updated by {@link Transcript.apply} and {@link Transcript.load}. */
export class Transcript {
  private seq = 0;
  private byId = new Map<string, ChatMessage>();
  /** The assembler of each answer's parts, made from its stored parts or its `start`. */
  private assemblers = new Map<string, PartsAssembler>();

  /** The highest sequence number applied: resume after it. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Every message, oldest first. */
  get messages(): ChatMessage[] {
    return [...this.byId.values()];
  }

  /** The answer being streamed, if one is. */
  get streaming(): ChatMessage | undefined {
    return this.messages.findLast((message) => message.status === "streaming");
  }

  /**
   * Applies one session event. Returns the message it changed, or undefined when the event was
   * already applied (its `seq` is not above {@link lastSeq}) and so was skipped.
   */
  apply(event: SessionEvent): ChatMessage | undefined {
    if (event.seq <= this.seq) return;
    this.seq = event.seq;
    const message = this.assistant(event.messageId);
    switch (event.type) {
      case "start":
        if (!this.byId.has(event.userMessageId)) {
          // The question goes before its answer, which assistant() may have just appended.
          this.byId.delete(event.messageId);
          const { userMessageId: id, prompt: content } = event;
          const parts: MessagePart[] = [{ type: "text", text: content }];
          this.byId.set(id, { id, role: "user", content, parts, status: "complete" });
          this.byId.set(event.messageId, message);
        }
        message.content = "";
        message.status = "streaming";
        this.assemblers.set(event.messageId, new PartsAssembler());
        break;
      case "chunk":
        message.content += event.content;
        break;
      case "step":
        message.status = "streaming";
        break;
      case "error":
        message.errorCode = event.code;
        message.errorMessage = event.message;
        break;
      case "done":
        message.status = event.status;
        if (event.finish !== undefined) message.finish = event.finish;
        if (event.usage !== undefined) message.usage = event.usage;
        break;
    }
    const assembler = this.assemblerOf(message);
    assembler.apply(event);
    message.parts = assembler.parts;
    return message;
  }

  /** The calls of `messageId` that wait for a result a client must send. */
  pendingToolCalls(messageId: string): Array<Extract<MessagePart, { type: "tool-call" }>> {
    const message = this.byId.get(messageId);
    if (message?.finish !== "tool_calls" || message.status !== "complete") return [];
    return message.parts.flatMap((part) =>
      part.type === "tool-call" && part.state === "input-available" ? [part] : [],
    );
  }

  private assemblerOf(message: ChatMessage): PartsAssembler {
    let assembler = this.assemblers.get(message.id);
    if (!assembler) {
      assembler = new PartsAssembler(message.parts);
      this.assemblers.set(message.id, assembler);
    }
    return assembler;
  }

  /**
   * Merges stored history (oldest first). A stored message is the truth once it has ended; while
   * it is `streaming` its stored text is not yet written, so the copy assembled from events is
   * kept. Messages the history does not have yet (started after it was read) stay at the end.
   */
  load(history: readonly StoredMessage[]): void {
    const merged = new Map<string, ChatMessage>();
    for (const stored of history) {
      const live = this.byId.get(stored.id);
      if (stored.status === "streaming" && live) {
        merged.set(stored.id, live);
        continue;
      }
      const parts =
        stored.parts ?? (stored.content === "" ? [] : [{ type: "text", text: stored.content }]);
      merged.set(stored.id, { ...stored, parts });
      this.assemblers.delete(stored.id);
    }
    for (const [id, live] of this.byId) if (!merged.has(id)) merged.set(id, live);
    this.byId = merged;
  }

  /** Forgets everything: a new session starts from nothing. */
  clear(): void {
    this.seq = 0;
    this.byId.clear();
    this.assemblers.clear();
  }

  private assistant(id: string): ChatMessage {
    let message = this.byId.get(id);
    if (!message) {
      message = { id, role: "assistant", content: "", parts: [], status: "streaming" };
      this.byId.set(id, message);
    }
    return message;
  }
}

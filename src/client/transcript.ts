/**
 * The conversation as a page shows it, assembled from session events and stored history. Events
 * are applied at most once, by sequence number, so whatever a reconnect replays twice, the text
 * is never doubled; and history never overwrites an answer that is still streaming.
 */
import type { ErrorCode } from "../errors.ts";
import type { MessageStatus, SessionEvent, StoredMessage } from "../protocol.ts";
import type { Usage } from "../providers/types.ts";

/** One message of the conversation. */
export interface ChatMessage {
  id: string;
  role: "user" | "assistant";
  /** The text so far; the whole text once `status` is no longer `streaming`. */
  content: string;
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
          this.byId.set(id, { id, role: "user", content, status: "complete" });
          this.byId.set(event.messageId, message);
        }
        message.content = "";
        message.status = "streaming";
        break;
      case "chunk":
        message.content += event.content;
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
    return message;
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
      merged.set(stored.id, stored.status === "streaming" && live ? live : { ...stored });
    }
    for (const [id, live] of this.byId) if (!merged.has(id)) merged.set(id, live);
    this.byId = merged;
  }

  /** Forgets everything: a new session starts from nothing. */
  clear(): void {
    this.seq = 0;
    this.byId.clear();
  }

  private assistant(id: string): ChatMessage {
    let message = this.byId.get(id);
    if (!message) {
      message = { id, role: "assistant", content: "", status: "streaming" };
      this.byId.set(id, message);
    }
    return message;
  }
}

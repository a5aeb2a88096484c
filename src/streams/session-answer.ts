/**
 * Reads a session object's `frames` wire (one JSON event per line, src/session/sse-listener.ts)
 * into one answer's events, in one read loop: each read of the stream gives every event its
 * bytes hold, so a reader that fell behind catches up in batches.
 */
import type { AnswerEvent } from "./answer-events.ts";
import type { AnswerSource } from "./answer-source.ts";
import { parseSessionFrame, type SessionFrame } from "./session-frame.ts";

/** The answer event of one of the answer's own part frames (text, reasoning, tool calls, results). */
function partEvent(frame: SessionFrame): AnswerEvent | undefined {
  switch (frame.type) {
    case "chunk":
      return { type: "text", text: frame.content };
    case "reasoning-start":
      return { type: "reasoning-start", id: frame.partId };
    case "reasoning-delta":
      return { type: "reasoning-delta", id: frame.partId, text: frame.content };
    case "reasoning-end": {
      const { partId: id, signature, redactedData } = frame;
      return { type: "reasoning-end", id, signature, redactedData };
    }
    case "tool-call-start": {
      const { toolCallId, toolName } = frame;
      return { type: "tool-call-start", toolCallId, toolName };
    }
    case "tool-call-delta": {
      const { toolCallId, inputDelta } = frame;
      return { type: "tool-call-delta", toolCallId, inputDelta };
    }
    case "tool-call": {
      const { toolCallId, toolName, input } = frame;
      return { type: "tool-call", toolCallId, toolName, input };
    }
    case "tool-call-error": {
      const { toolCallId, toolName, inputText, message } = frame;
      return { type: "tool-call-error", toolCallId, toolName, inputText, message };
    }
    case "tool-result":
      return "errorText" in frame
        ? { type: "tool-result", toolCallId: frame.toolCallId, errorText: frame.errorText }
        : { type: "tool-result", toolCallId: frame.toolCallId, output: frame.output };
    case "step":
      return { type: "step", step: frame.step };
    case "error":
      return "seq" in frame
        ? { type: "error", code: frame.code, message: frame.message }
        : undefined;
    default:
      return undefined;
  }
}

/**
 * The frames of a session's `frames` stream, one at a time: bytes are decoded and split into
 * lines as they arrive, and each line is checked into a frame. Frames we do not use are
 * skipped (the protocol may grow). Nothing is read before it is asked for.
 */
export class FrameReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private lines: string[] = [];
  private next = 0;
  private partial = "";
  private ended = false;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  /** The next frame of the bytes already read, or undefined when they hold no more. */
  take(): SessionFrame | undefined {
    while (this.next < this.lines.length) {
      const frame = parseSessionFrame(this.lines[this.next++] ?? "");
      if (frame) return frame;
    }
    return undefined;
  }

  /** The next frame, or undefined once the stream has ended. */
  async read(): Promise<SessionFrame | undefined> {
    for (;;) {
      const frame = this.take();
      if (frame) return frame;
      if (this.ended) return undefined;
      const { done, value } = await this.reader.read();
      const text =
        this.partial +
        (done ? this.decoder.decode() : this.decoder.decode(value, { stream: true }));
      this.lines = text.split("\n");
      this.next = 0;
      this.partial = done ? "" : (this.lines.pop() ?? "");
      this.ended = done;
    }
  }

  /** Stops reading; the session closes its side of the stream. */
  cancel(reason?: unknown): Promise<void> {
    this.ended = true;
    this.lines = [];
    return this.reader.cancel(reason);
  }
}

/**
 * The first answer in `frames`, as answer events: from its `start` to its `done`, after which
 * the source ends (and the session's stream is cancelled, so a live `follow` closes). A stream
 * that is a continuation (tool results sent) begins with `step` instead: the answer then
 * starts there, as `start` then `step`. Frames of other messages are ignored. A
 * connection-level error (events no longer kept) ends the answer; a stream that stops before
 * `done` ends it as `interrupted`. Each read gives the events of every frame already read
 * (at least one), waiting for the stream only when none is at hand.
 */
export function sessionAnswer(frames: FrameReader): AnswerSource {
  let messageId: string | undefined;
  let ended = false;
  /** Adds `event`, the answer's last, and lets go of the session's stream. */
  const end = (events: AnswerEvent[], event: AnswerEvent): true => {
    ended = true;
    events.push(event);
    void frames.cancel().catch(() => {});
    return true;
  };
  /** Adds the events of one frame; true when it ended the answer. */
  const apply = (frame: SessionFrame, events: AnswerEvent[]): boolean => {
    if (frame.type === "error" && !("seq" in frame)) {
      events.push({ type: "error", code: frame.code, message: frame.message });
      return end(events, { type: "end", status: messageId ? "incomplete" : "error" });
    }
    if (messageId === undefined && (frame.type === "start" || frame.type === "step")) {
      messageId = frame.messageId;
      events.push({ type: "start", messageId });
      if (frame.type === "step") events.push({ type: "step", step: frame.step });
      return false;
    }
    if (!("messageId" in frame) || frame.messageId !== messageId) return false;
    if (frame.type === "done") {
      const { status, finish, usage } = frame;
      return end(events, { type: "end", status, finish, usage });
    }
    const event = partEvent(frame);
    if (event) events.push(event);
    return false;
  };
  return {
    async read() {
      const events: AnswerEvent[] = [];
      while (!ended) {
        let frame = frames.take();
        if (frame === undefined) {
          if (events.length > 0) break;
          try {
            frame = await frames.read();
          } catch (error) {
            // Cancelled while it waited: the read fails, and that is not the answer failing.
            if (ended) break;
            throw error;
          }
          if (ended) break;
          if (frame === undefined) {
            const message =
              "The session's stream ended before the answer did; its history keeps the text.";
            events.push({ type: "error", code: "interrupted", message });
            end(events, { type: "end", status: messageId ? "incomplete" : "error" });
            break;
          }
        }
        if (apply(frame, events)) break;
      }
      return events.length > 0 ? events : undefined;
    },
    cancel(reason) {
      ended = true;
      return frames.cancel(reason);
    },
  };
}

/**
 * Reads a session object's `frames` wire (one JSON event per line, src/session/sse-listener.ts)
 * into one answer's events, in one read loop: each read of the stream gives every event its
 * bytes hold, so a reader that fell behind catches up in batches.
 */

import type { PartEvent } from "../session/parts.ts";
import type { AnswerEvent } from "./answer-events.ts";
import type { AnswerSource } from "./answer-source.ts";
import { parseSessionFrame, type SessionFrame } from "./session-frame.ts";

/**
 * The answer event of one of the answer's own part frames (text, reasoning, tool calls,
 * results), or of such an event before the session numbers it.
 */
export function answerPartEvent(frame: SessionFrame | PartEvent): AnswerEvent | undefined {
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
 * What ends an answer whose stream stopped before its `done` (a session deleted, a stream
 * cut): a connection-level error, so the answer ends `incomplete` (or `error` before it began).
 */
export const INTERRUPTED_FRAME: SessionFrame = {
  type: "error",
  code: "interrupted",
  message: "The session's stream ended before the answer did; its history keeps the text.",
};

/**
 * Follows one answer through a session's frames: from its `start` (or, for a continuation
 * after tool results, its `step`, which then starts it as `start` then `step`) to its `done`.
 * Each call adds the answer events of one frame to `events` and says whether the answer ended;
 * frames of other messages are ignored, and a connection-level error (events no longer kept)
 * ends the answer. Shared by the Worker's reader below and the session's `ui` wire.
 */
export function answerStepper(): (frame: SessionFrame, events: AnswerEvent[]) => boolean {
  let messageId: string | undefined;
  return (frame, events) => {
    if (frame.type === "error" && !("seq" in frame)) {
      events.push({ type: "error", code: frame.code, message: frame.message });
      events.push({ type: "end", status: messageId ? "incomplete" : "error" });
      return true;
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
      events.push({ type: "end", status, finish, usage });
      return true;
    }
    const event = answerPartEvent(frame);
    if (event) events.push(event);
    return false;
  };
}

/**
 * The first answer in `frames`, as answer events (see {@link answerStepper}), after which the
 * source ends (and the session's stream is cancelled, so a live `follow` closes). A stream
 * that stops before `done` ends it as `interrupted`. Each read gives the events of every frame
 * already read (at least one), waiting for the stream only when none is at hand.
 */
export function sessionAnswer(frames: FrameReader): AnswerSource {
  const step = answerStepper();
  let ended = false;
  /** Adds the events of one frame; true when it ended the answer, which lets go of the stream. */
  const apply = (frame: SessionFrame, events: AnswerEvent[]): boolean => {
    if (!step(frame, events)) return false;
    ended = true;
    void frames.cancel().catch(() => {});
    return true;
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
          // The stream stopped before `done`: the answer ends as a lost connection ends it.
          frame ??= INTERRUPTED_FRAME;
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

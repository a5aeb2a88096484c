/**
 * Reads a session object's `frames` wire (one JSON event per line, src/session/sse-listener.ts)
 * into typed frames, and one answer's frames into answer events, in one read loop. The frames
 * come from our own object, but they crossed a wire: each field is checked, not cast.
 */
import { ERROR_STATUS, type ErrorCode } from "../errors.ts";
import type { ServerEvent } from "../protocol.ts";
import type { Usage } from "../providers/types.ts";
import { parseObject, readCount, readObject, readString } from "../providers/wire.ts";
import type { AnswerEvent, AnswerStatus } from "./answer-events.ts";

/** The frames this module understands; the others (history, pong) are skipped. */
export type SessionFrame = Extract<
  ServerEvent,
  { type: "session" | "start" | "chunk" | "error" | "done" }
>;

const STATUSES: readonly string[] = ["complete", "incomplete", "error", "cancelled"];

/** Whether `value` is one of our error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_STATUS, value);
}

function isStatus(value: unknown): value is AnswerStatus {
  return typeof value === "string" && STATUSES.includes(value);
}

/** One SSE `data` field as a frame, or undefined for frames we do not use or cannot read. */
export function parseSessionFrame(data: string): SessionFrame | undefined {
  const frame = parseObject(data);
  if (!frame) return undefined;
  const seq = readCount(frame, "seq");
  const messageId = readString(frame, "messageId");
  switch (frame.type) {
    case "session": {
      const session = readString(frame, "session");
      const lastSeq = readCount(frame, "lastSeq");
      const { generating } = frame;
      if (session === undefined || lastSeq === undefined || typeof generating !== "boolean") break;
      return { type: "session", session, lastSeq, generating };
    }
    case "start": {
      const userMessageId = readString(frame, "userMessageId");
      const prompt = readString(frame, "prompt");
      if (seq === undefined || messageId === undefined) break;
      if (userMessageId === undefined || prompt === undefined) break;
      return { type: "start", seq, messageId, userMessageId, prompt };
    }
    case "chunk": {
      const content = readString(frame, "content");
      if (seq === undefined || messageId === undefined || content === undefined) break;
      return { type: "chunk", seq, messageId, content };
    }
    case "error": {
      const { code } = frame;
      const message = readString(frame, "message") ?? "";
      if (!isErrorCode(code)) break;
      // With a seq it is a generation's error; without, the connection's (resume_unavailable).
      if (seq !== undefined && messageId !== undefined) {
        return { type: "error", seq, messageId, code, message };
      }
      return { type: "error", code, message };
    }
    case "done": {
      const { status } = frame;
      if (seq === undefined || messageId === undefined || !isStatus(status)) break;
      return {
        type: "done",
        seq,
        messageId,
        status,
        finish: readString(frame, "finish"),
        usage: readUsage(readObject(frame, "usage")),
      };
    }
  }
  return undefined;
}

function readUsage(usage: Record<string, unknown> | undefined): Usage | undefined {
  const inputTokens = readCount(usage, "inputTokens");
  const outputTokens = readCount(usage, "outputTokens");
  if (inputTokens === undefined || outputTokens === undefined) return undefined;
  return { inputTokens, outputTokens };
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

  /** The next frame, or undefined once the stream has ended. */
  async read(): Promise<SessionFrame | undefined> {
    for (;;) {
      while (this.next < this.lines.length) {
        const frame = parseSessionFrame(this.lines[this.next++] ?? "");
        if (frame) return frame;
      }
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
    return this.reader.cancel(reason);
  }
}

/**
 * The first answer in `frames`, as answer events: from its `start` to its `done`, after which
 * the stream ends (and the session's stream is cancelled, so a live `follow` closes). Frames of
 * other messages are ignored. A connection-level error (events no longer kept) ends the answer;
 * a stream that stops before `done` ends it as `interrupted`.
 */
export function sessionAnswer(frames: FrameReader): ReadableStream<AnswerEvent> {
  let messageId: string | undefined;
  let ended = false;
  const end = (controller: ReadableStreamDefaultController<AnswerEvent>, event: AnswerEvent) => {
    ended = true;
    controller.enqueue(event);
    controller.close();
    void frames.cancel().catch(() => {});
  };
  return new ReadableStream<AnswerEvent>(
    {
      async pull(controller) {
        for (;;) {
          const frame = await frames.read();
          if (ended) return;
          if (frame === undefined) {
            const message =
              "The session's stream ended before the answer did; its history keeps the text.";
            controller.enqueue({ type: "error", code: "interrupted", message });
            return end(controller, { type: "end", status: messageId ? "incomplete" : "error" });
          }
          if (frame.type === "error" && !("seq" in frame)) {
            controller.enqueue({ type: "error", code: frame.code, message: frame.message });
            return end(controller, { type: "end", status: messageId ? "incomplete" : "error" });
          }
          if (frame.type === "start" && messageId === undefined) {
            messageId = frame.messageId;
            return controller.enqueue({ type: "start", messageId });
          }
          if (!("messageId" in frame) || frame.messageId !== messageId) continue;
          switch (frame.type) {
            case "chunk":
              return controller.enqueue({ type: "text", text: frame.content });
            case "error":
              return controller.enqueue({
                type: "error",
                code: frame.code,
                message: frame.message,
              });
            case "done": {
              const { status, finish, usage } = frame;
              return end(controller, { type: "end", status, finish, usage });
            }
          }
        }
      },
      cancel: (reason) => frames.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

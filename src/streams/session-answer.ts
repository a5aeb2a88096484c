/**
 * Reads a session object's SSE (the `/messages` and `/events` operations) back into typed
 * frames, and one generation's frames into an answer. The frames come from our own object,
 * but they crossed a wire: each field is checked, not cast.
 */
import { EventSourceParserStream } from "eventsource-parser/stream";
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

/** A session object's SSE body as frames. Frames we do not use are skipped: the protocol may grow. */
export function sessionFrames(body: ReadableStream<Uint8Array>): ReadableStream<SessionFrame> {
  return body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .pipeThrough(
      new TransformStream({
        transform(message, controller) {
          const frame = parseSessionFrame(message.data);
          if (frame) controller.enqueue(frame);
        },
      }),
    );
}

/**
 * The first generation in a stream of frames, as an answer: from its `start` to its `done`,
 * after which the stream ends (and the object's stream is cancelled, so a live `/events`
 * connection closes). Frames of other messages are ignored. A connection-level error (events
 * no longer kept) ends the answer; a stream that stops before `done` ends it as `interrupted`.
 */
export function sessionAnswer(): TransformStream<SessionFrame, AnswerEvent> {
  let messageId: string | undefined;
  let ended = false;
  const end = (controller: TransformStreamDefaultController<AnswerEvent>, event: AnswerEvent) => {
    ended = true;
    controller.enqueue(event);
    controller.terminate();
  };
  return new TransformStream({
    transform(frame, controller) {
      if (ended) return;
      if (frame.type === "error" && !("seq" in frame)) {
        controller.enqueue({ type: "error", code: frame.code, message: frame.message });
        return end(controller, { type: "end", status: messageId ? "incomplete" : "error" });
      }
      if (frame.type === "start" && messageId === undefined) {
        messageId = frame.messageId;
        controller.enqueue({ type: "start", messageId });
        return;
      }
      if (!("messageId" in frame) || frame.messageId !== messageId) return;
      switch (frame.type) {
        case "chunk":
          controller.enqueue({ type: "text", text: frame.content });
          break;
        case "error":
          controller.enqueue({ type: "error", code: frame.code, message: frame.message });
          break;
        case "done": {
          const { status, finish, usage } = frame;
          end(controller, { type: "end", status, finish, usage });
          break;
        }
      }
    },
    flush(controller) {
      if (ended) return;
      const message =
        "The session's stream ended before the answer did; its history keeps the text.";
      controller.enqueue({ type: "error", code: "interrupted", message });
      controller.enqueue({ type: "end", status: messageId ? "incomplete" : "error" });
    },
  });
}

/**
 * Reads a session object's `frames` wire (one JSON event per line, src/session/sse-listener.ts)
 * into typed frames, and one answer's frames into answer events, in one read loop. The frames
 * come from our own object, but they crossed a wire: each field is checked, not cast.
 */
import { isErrorCode } from "../errors.ts";
import { isStatus, type ServerEvent } from "../protocol.ts";
import type { Usage } from "../providers/types.ts";
import { parseObject, readCount, readObject, readString } from "../providers/wire.ts";
import type { AnswerEvent } from "./answer-events.ts";

/** The frames this module understands; the others (history, pong) are skipped. */
export type SessionFrame = Extract<
  ServerEvent,
  {
    type:
      | "session"
      | "start"
      | "chunk"
      | "reasoning-start"
      | "reasoning-delta"
      | "reasoning-end"
      | "tool-call-start"
      | "tool-call-delta"
      | "tool-call"
      | "tool-call-error"
      | "tool-result"
      | "step"
      | "error"
      | "done";
  }
>;

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
    case "reasoning-start": {
      const partId = readString(frame, "partId");
      if (seq === undefined || messageId === undefined || !partId) break;
      return { type: "reasoning-start", seq, messageId, partId };
    }
    case "reasoning-delta": {
      const partId = readString(frame, "partId");
      const content = readString(frame, "content");
      if (seq === undefined || messageId === undefined || !partId || content === undefined) break;
      return { type: "reasoning-delta", seq, messageId, partId, content };
    }
    case "reasoning-end": {
      const partId = readString(frame, "partId");
      if (seq === undefined || messageId === undefined || !partId) break;
      const { signature, redactedData } = frame;
      if (signature !== undefined && typeof signature !== "string") break;
      if (redactedData !== undefined && typeof redactedData !== "string") break;
      const end: SessionFrame = { type: "reasoning-end", seq, messageId, partId };
      if (signature !== undefined) end.signature = signature;
      if (redactedData !== undefined) end.redactedData = redactedData;
      return end;
    }
    case "tool-call-start": {
      const toolCallId = readString(frame, "toolCallId");
      const toolName = readString(frame, "toolName");
      if (seq === undefined || messageId === undefined || !toolCallId || !toolName) break;
      return { type: "tool-call-start", seq, messageId, toolCallId, toolName };
    }
    case "tool-call-delta": {
      const toolCallId = readString(frame, "toolCallId");
      const inputDelta = readString(frame, "inputDelta");
      if (seq === undefined || messageId === undefined || !toolCallId) break;
      if (inputDelta === undefined) break;
      return { type: "tool-call-delta", seq, messageId, toolCallId, inputDelta };
    }
    case "tool-call": {
      const toolCallId = readString(frame, "toolCallId");
      const toolName = readString(frame, "toolName");
      const input = readObject(frame, "input");
      if (seq === undefined || messageId === undefined || !toolCallId || !toolName) break;
      if (input === undefined) break;
      return { type: "tool-call", seq, messageId, toolCallId, toolName, input };
    }
    case "tool-call-error": {
      const toolCallId = readString(frame, "toolCallId");
      const toolName = readString(frame, "toolName");
      const inputText = readString(frame, "inputText");
      const message = readString(frame, "message");
      if (seq === undefined || messageId === undefined || !toolCallId || !toolName) break;
      if (inputText === undefined || message === undefined) break;
      return { type: "tool-call-error", seq, messageId, toolCallId, toolName, inputText, message };
    }
    case "tool-result": {
      const toolCallId = readString(frame, "toolCallId");
      if (seq === undefined || messageId === undefined || !toolCallId) break;
      // Exactly one of the two: a result is its output or the tool's error.
      const hasOutput = Object.hasOwn(frame, "output");
      const errorText = readString(frame, "errorText");
      if (hasOutput === (errorText !== undefined)) break;
      if (errorText !== undefined) {
        return { type: "tool-result", seq, messageId, toolCallId, errorText };
      }
      return { type: "tool-result", seq, messageId, toolCallId, output: frame.output };
    }
    case "step": {
      const step = readCount(frame, "step");
      if (seq === undefined || messageId === undefined || step === undefined || step < 1) break;
      return { type: "step", seq, messageId, step };
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
      if (seq === undefined || messageId === undefined) break;
      if (!isStatus(status) || status === "streaming") break;
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
  const reasoningTokens = readCount(usage, "reasoningTokens");
  return reasoningTokens === undefined
    ? { inputTokens, outputTokens }
    : { inputTokens, outputTokens, reasoningTokens };
}

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
 * the stream ends (and the session's stream is cancelled, so a live `follow` closes). A stream
 * that is a continuation (tool results sent) begins with `step` instead: the answer then
 * starts there, as `start` then `step`. Frames of other messages are ignored. A
 * connection-level error (events no longer kept) ends the answer; a stream that stops before
 * `done` ends it as `interrupted`.
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
          if (messageId === undefined && (frame.type === "start" || frame.type === "step")) {
            messageId = frame.messageId;
            controller.enqueue({ type: "start", messageId });
            if (frame.type === "step") controller.enqueue({ type: "step", step: frame.step });
            return;
          }
          if (!("messageId" in frame) || frame.messageId !== messageId) continue;
          if (frame.type === "done") {
            const { status, finish, usage } = frame;
            return end(controller, { type: "end", status, finish, usage });
          }
          const event = partEvent(frame);
          if (event) return controller.enqueue(event);
        }
      },
      cancel: (reason) => frames.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

/**
 * One line of a session object's `frames` wire (one JSON event per line,
 * src/session/sse-listener.ts) as a typed frame. The frames come from our own object, but they
 * crossed a wire: each field is checked, not cast.
 */
import { isErrorCode } from "../errors.ts";
import { isStatus, type ServerEvent } from "../protocol.ts";
import type { Usage } from "../providers/types.ts";
import { parseObject, readCount, readObject, readString } from "../providers/wire.ts";

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
      // With a seq it is an answer's error; without, the connection's (resume_unavailable).
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

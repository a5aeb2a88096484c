/**
 * The client's edge: turns what the relay sent (a WebSocket frame, an SSE `data:` line, a JSON
 * body) into the protocol's types, checking each field. Anything malformed or unknown is
 * `undefined`, so a newer relay's extra frames are skipped instead of breaking the page.
 */
import type { ErrorCode } from "../errors.ts";
import type {
  ChatPage,
  ChatSummary,
  MessagePart,
  MessageStatus,
  ServerEvent,
  SessionSnapshot,
  StoredMessage,
  ToolCallState,
} from "../protocol.ts";
import type { Usage } from "../providers/types.ts";

export type { SessionSnapshot };

type Fields = Record<string, unknown>;

const STATUSES: readonly string[] = ["streaming", "complete", "incomplete", "error", "cancelled"];

function isRecord(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const isString = (value: unknown): value is string => typeof value === "string";
const isSeq = (value: unknown): value is number => Number.isSafeInteger(value);
const isStatus = (value: unknown): value is MessageStatus =>
  isString(value) && STATUSES.includes(value);

/**
 * The relay owns the list of codes and may be newer than this client, so any string is taken as
 * it is and shown to the user; it is never used to pick code paths beyond a few known names.
 */
const asErrorCode = (value: string) => value as ErrorCode;

function parseUsage(value: unknown): Usage | undefined {
  if (!isRecord(value) || !isSeq(value.inputTokens) || !isSeq(value.outputTokens)) return;
  return { inputTokens: value.inputTokens, outputTokens: value.outputTokens };
}

/** One stored message, or undefined when a field is missing or of the wrong type. */
export function parseStoredMessage(value: unknown): StoredMessage | undefined {
  if (!isRecord(value) || !isString(value.id) || !isString(value.content)) return;
  if (value.role !== "user" && value.role !== "assistant") return;
  if (!isStatus(value.status) || typeof value.createdAt !== "number") return;
  const { id, role, content, status, createdAt } = value;
  const parts = parseParts(value.parts, content);
  if (!parts) return;
  const message: StoredMessage = { id, role, content, parts, status, createdAt };
  if (isString(value.finish)) message.finish = value.finish;
  if (isString(value.errorCode)) message.errorCode = asErrorCode(value.errorCode);
  const usage = parseUsage(value.usage);
  if (usage) message.usage = usage;
  return message;
}

const TOOL_STATES: readonly string[] = [
  "input-streaming",
  "input-available",
  "input-error",
  "output-available",
  "output-error",
];

function parsePart(value: unknown): MessagePart | undefined {
  if (!isRecord(value)) return;
  switch (value.type) {
    case "step-start":
      return { type: "step-start" };
    case "text":
      return isString(value.text) ? { type: "text", text: value.text } : undefined;
    case "reasoning": {
      if (!isString(value.text)) return;
      const part: MessagePart = { type: "reasoning", text: value.text };
      if (isString(value.signature)) part.signature = value.signature;
      if (isString(value.redactedData)) part.redactedData = value.redactedData;
      return part;
    }
    case "tool-call": {
      const { toolCallId, toolName, state } = value;
      if (!isString(toolCallId) || !isString(toolName) || !isToolState(state)) return;
      const part: MessagePart = { type: "tool-call", toolCallId, toolName, state };
      if (isRecord(value.input)) part.input = value.input;
      if (isString(value.inputText)) part.inputText = value.inputText;
      if ("output" in value) part.output = value.output;
      if (isString(value.errorText)) part.errorText = value.errorText;
      return part;
    }
  }
}

function isToolState(value: unknown): value is ToolCallState {
  return isString(value) && TOOL_STATES.includes(value);
}

/** A message's parts; a relay older than parts sends none: its text is one part. */
function parseParts(value: unknown, content: string): MessagePart[] | undefined {
  if (value === undefined) return content === "" ? [] : [{ type: "text", text: content }];
  if (!Array.isArray(value)) return;
  const parts = value.map(parsePart);
  return parts.every((part) => part !== undefined) ? parts : undefined;
}

function parseMessages(value: unknown): StoredMessage[] | undefined {
  if (!Array.isArray(value)) return;
  const messages = value.map(parseStoredMessage);
  return messages.every((message) => message !== undefined) ? messages : undefined;
}

/** A server event from its JSON value, or undefined when it is not one this client knows. */
export function toServerEvent(value: unknown): ServerEvent | undefined {
  if (!isRecord(value)) return;
  const { seq, messageId } = value;
  if (seq === undefined) {
    if (value.type === "pong") return { type: "pong" };
    if (value.type === "session" && isString(value.session) && isSeq(value.lastSeq)) {
      const { session, lastSeq } = value;
      return { type: "session", session, lastSeq, generating: value.generating === true };
    }
    if (value.type === "error" && isString(value.code) && isString(value.message)) {
      const refusal: ServerEvent = {
        type: "error",
        code: asErrorCode(value.code),
        message: value.message,
      };
      if (typeof value.retryAfter === "number") refusal.retryAfter = value.retryAfter;
      if (isString(value.resetAt)) refusal.resetAt = value.resetAt;
      return refusal;
    }
    if (value.type === "renamed" && isString(value.session) && isString(value.title)) {
      return { type: "renamed", session: value.session, title: value.title };
    }
    if (value.type === "deleted" && isString(value.session)) {
      const reason = value.reason === "expired" ? "expired" : "deleted";
      return { type: "deleted", session: value.session, reason };
    }
    const messages = parseMessages(value.messages);
    if (value.type === "history" && isString(value.session) && messages) {
      return { type: "history", session: value.session, messages };
    }
    return;
  }
  if (!isSeq(seq) || !isString(messageId)) return;
  switch (value.type) {
    case "start":
      if (!isString(value.userMessageId) || !isString(value.prompt)) return;
      return {
        type: "start",
        seq,
        messageId,
        userMessageId: value.userMessageId,
        prompt: value.prompt,
      };
    case "chunk":
      return isString(value.content)
        ? { type: "chunk", seq, messageId, content: value.content }
        : undefined;
    case "error":
      if (!isString(value.code) || !isString(value.message)) return;
      return {
        type: "error",
        seq,
        messageId,
        code: asErrorCode(value.code),
        message: value.message,
      };
    case "reasoning-start":
      return isString(value.partId)
        ? { type: "reasoning-start", seq, messageId, partId: value.partId }
        : undefined;
    case "reasoning-delta":
      return isString(value.partId) && isString(value.content)
        ? { type: "reasoning-delta", seq, messageId, partId: value.partId, content: value.content }
        : undefined;
    case "reasoning-end": {
      if (!isString(value.partId)) return;
      const end: ServerEvent = { type: "reasoning-end", seq, messageId, partId: value.partId };
      if (isString(value.signature)) end.signature = value.signature;
      if (isString(value.redactedData)) end.redactedData = value.redactedData;
      return end;
    }
    case "tool-call-start":
      return isString(value.toolCallId) && isString(value.toolName)
        ? {
            type: "tool-call-start",
            seq,
            messageId,
            toolCallId: value.toolCallId,
            toolName: value.toolName,
          }
        : undefined;
    case "tool-call-delta":
      return isString(value.toolCallId) && isString(value.inputDelta)
        ? {
            type: "tool-call-delta",
            seq,
            messageId,
            toolCallId: value.toolCallId,
            inputDelta: value.inputDelta,
          }
        : undefined;
    case "tool-call": {
      const { toolCallId, toolName, input } = value;
      if (!isString(toolCallId) || !isString(toolName) || !isRecord(input)) return;
      return { type: "tool-call", seq, messageId, toolCallId, toolName, input };
    }
    case "tool-call-error": {
      const { toolCallId, toolName, inputText, message } = value;
      if (
        !isString(toolCallId) ||
        !isString(toolName) ||
        !isString(inputText) ||
        !isString(message)
      )
        return;
      return { type: "tool-call-error", seq, messageId, toolCallId, toolName, inputText, message };
    }
    case "tool-result": {
      const { toolCallId, errorText } = value;
      if (!isString(toolCallId)) return;
      if (isString(errorText))
        return { type: "tool-result", seq, messageId, toolCallId, errorText };
      return { type: "tool-result", seq, messageId, toolCallId, output: value.output };
    }
    case "step":
      return isSeq(value.step) ? { type: "step", seq, messageId, step: value.step } : undefined;
    case "done": {
      if (!isStatus(value.status) || value.status === "streaming") return;
      const done: ServerEvent = { type: "done", seq, messageId, status: value.status };
      if (isString(value.finish)) done.finish = value.finish;
      const usage = parseUsage(value.usage);
      if (usage) done.usage = usage;
      return done;
    }
  }
}

/** Parses one frame's JSON text; see {@link toServerEvent}. */
export function parseServerEvent(text: string): ServerEvent | undefined {
  try {
    return toServerEvent(JSON.parse(text));
  } catch {
    return;
  }
}

/** The body of `GET /sessions/:id`, or undefined when it is not one. */
export function parseSnapshot(value: unknown): SessionSnapshot | undefined {
  if (!isRecord(value) || !isString(value.session) || !isSeq(value.lastSeq)) return;
  const messages = parseMessages(value.messages);
  if (!messages) return;
  const onAbandon = value.onAbandon === "cancel" ? "cancel" : "continue";
  const { session, lastSeq } = value;
  const title = isString(value.title) ? value.title : null;
  return { session, onAbandon, lastSeq, generating: value.generating === true, title, messages };
}

function parseChat(value: unknown): ChatSummary | undefined {
  if (!isRecord(value) || !isString(value.session) || !isString(value.preview)) return;
  const { session, preview, createdAt, lastActivity, messages } = value;
  if (!isSeq(createdAt) || !isSeq(lastActivity) || !isSeq(messages)) return;
  const title = isString(value.title) ? value.title : null;
  const streaming = value.streaming === true;
  return { session, title, createdAt, lastActivity, messages, preview, streaming };
}

/** The body of `GET /sessions`, or undefined when it is not one (a malformed chat included). */
export function parseChatPage(value: unknown): ChatPage | undefined {
  if (!isRecord(value) || !Array.isArray(value.chats)) return;
  if (value.cursor !== null && !isString(value.cursor)) return;
  const chats = value.chats.map(parseChat);
  if (!chats.every((chat) => chat !== undefined)) return;
  return { chats, cursor: value.cursor };
}

/**
 * The client's edge: turns what the relay sent (a WebSocket frame, an SSE `data:` line, a JSON
 * body) into the protocol's types, checking each field. Anything malformed or unknown is
 * `undefined`, so a newer relay's extra frames are skipped instead of breaking the page.
 */
import type { ErrorCode } from "../errors.ts";
import type {
  ChatPage,
  ChatSummary,
  MessageStatus,
  ServerEvent,
  SessionSnapshot,
  StoredMessage,
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
  const message: StoredMessage = { id, role, content, status, createdAt };
  if (isString(value.finish)) message.finish = value.finish;
  if (isString(value.errorCode)) message.errorCode = asErrorCode(value.errorCode);
  const usage = parseUsage(value.usage);
  if (usage) message.usage = usage;
  return message;
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

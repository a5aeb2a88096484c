/**
 * The wire protocol, one source of truth: what clients send, what the server sends, and the
 * SSE event names. The seed protocol (`{"prompt"}` in, `chunk` frames then `done` out) is a
 * subset of it and must never change shape. Its parsers are in src/schema/.
 */
import type { ChatCursor } from "./directory/cursor.ts";
import type { ErrorCode } from "./errors.ts";
import type { Usage } from "./providers/types.ts";
import type { RequestOptions, ToolDefinition, ToolResult } from "./tools-options.ts";

export type {
  OptionPolicy,
  RequestOptions,
  ToolChoice,
  ToolDefinition,
  ToolResult,
} from "./tools-options.ts";

/** Limits on what a client may send. */
export const LIMITS = {
  /** Characters in one prompt. */
  promptChars: 32_000,
  /** Characters in one WebSocket frame or HTTP body. */
  frameChars: 64 * 1024,
  /** Characters in a `tool-results` frame or body (results may each be 64 KiB). */
  toolResultsChars: 512 * 1024,
} as const;

/** How a stored message ended, or `streaming` while it is being written. */
export const STATUSES = ["streaming", "complete", "incomplete", "error", "cancelled"] as const;

/** How a stored message ended, or `streaming` while it is being written. */
export type MessageStatus = (typeof STATUSES)[number];

/** Whether `value` is a message status (`streaming` included). */
export function isStatus(value: unknown): value is MessageStatus {
  return STATUSES.some((status) => status === value);
}

/**
 * The state of a tool call part: its input streaming (stored only when the answer broke off
 * mid-call), its input arrived (valid or not), then maybe its result.
 */
export type ToolCallState =
  | "input-streaming"
  | "input-available"
  | "input-error"
  | "output-available"
  | "output-error";

/** One part of a stored message, in order. docs/protocol.md "Parts". */
export type MessagePart =
  /** Before each step's parts (step 0 too): one upstream call of the answer. */
  | { type: "step-start" }
  /** Answer text; consecutive text of one step is one part. */
  | { type: "text"; text: string }
  /** The model's reasoning; `signature` / `redactedData` are Anthropic's, kept for the next call. */
  | { type: "reasoning"; text: string; signature?: string; redactedData?: string }
  /** A call of a client tool, with its result once a client sent one. */
  | {
      type: "tool-call";
      toolCallId: string;
      toolName: string;
      state: ToolCallState;
      /** The parsed arguments (every state but `input-error`). */
      input?: Record<string, unknown>;
      /** The model's raw arguments text: `input-error`, and the part so far while `input-streaming`. */
      inputText?: string;
      /** The result a client sent (`output-available`). */
      output?: unknown;
      /** The error a client sent instead of a result (`output-error`), or why the input was refused. */
      errorText?: string;
    };

/** A message of the history, as `GET /sessions/:id` and the `history` frame return it. */
export interface StoredMessage {
  id: string;
  role: "user" | "assistant";
  /** The message's text (an answer's text parts joined): what seed clients read. */
  content: string;
  /** The message as parts: a user's `[{type: "text", text}]`, an answer's steps, reasoning, text, tool calls. Always set by this relay. */
  parts?: MessagePart[];
  status: MessageStatus;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** The upstream's finish reason (`stop`, `length`, ...), assistant messages only. */
  finish?: string;
  /** The error code that ended the message, when it did not complete. */
  errorCode?: ErrorCode;
  usage?: Usage;
}

/** Per-session settings, chosen when the session is created. */
export interface SessionOptions {
  /**
   * What happens to an answer when its last client leaves: `continue` (default) runs it to
   * the end and stores the answer; `cancel` stops the upstream call and stores it as cancelled.
   */
  onAbandon: "continue" | "cancel";
}

/** What `POST /sessions` returns: the new session's id and options. */
export interface SessionCreated extends SessionOptions {
  session: string;
}

/** What `GET /sessions/:id` returns. */
export interface SessionSnapshot extends SessionCreated {
  /** The last sequence number handed out when the snapshot was taken. */
  lastSeq: number;
  /** Whether an answer is streaming. */
  generating: boolean;
  /** Its title (a rename, else the first prompt shortened); null before the first prompt. */
  title: string | null;
  messages: StoredMessage[];
}

/** One chat of a principal's list (`GET /sessions`, the `chats` frame). docs/chats.md. */
export interface ChatSummary {
  session: string;
  /** Set by a rename, else the first prompt shortened; null before the first prompt. */
  title: string | null;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** When the last answer ended (or the chat was created), milliseconds since the epoch. */
  lastActivity: number;
  /** Messages stored (user and assistant). */
  messages: number;
  /** The last message's text, on one line and shortened; empty before the first answer. */
  preview: string;
  /** Whether an answer is streaming now. */
  streaming: boolean;
}

/** A page of the chat list, newest activity first. */
export interface ChatPage {
  chats: ChatSummary[];
  /** Pass as `?cursor=` (or the `list` frame's `cursor`) for the next page; null on the last. */
  cursor: string | null;
}

/** Limits of the chat list's pages. */
export const LIST_LIMITS = { default: 20, max: 100 } as const;

/** A checked request for a page of the chat list. */
export interface ListRequest {
  limit: number;
  cursor?: ChatCursor;
}

/** Why a deleted session went: `deleted` by its owner, or `expired` after SESSION_TTL_DAYS idle. */
export type DeleteReason = "deleted" | "expired";

/** What a WebSocket client sends on `/chat`. `type` may be left out of a prompt (the seed frame). */
export type ClientFrame =
  /**
   * Ask for an answer; `{"prompt": "..."}` alone is the seed frame. `tools`: client tools the
   * model may call (in force for this prompt's continuations); `options`: per-request settings.
   */
  | { type: "prompt"; prompt: string; tools?: ToolDefinition[]; options?: RequestOptions }
  /** Results of the tool calls the answer waits for; the continuation starts when all are in. */
  | { type: "tool-results"; results: ToolResult[] }
  /** Stop the answer in progress. */
  | { type: "cancel" }
  /** Replay the session's events after sequence number `after`, then stream live. */
  | { type: "resume"; after: number }
  /** Ask for the stored history. */
  | { type: "history" }
  /** Keep-alive; answered with `{"type":"pong"}`. The exact text `{"type":"ping"}` is answered without waking the session. */
  | { type: "ping" }
  /** Renames the connected session; every client of it gets `renamed`. */
  | { type: "rename"; title: string }
  /** Deletes the connected session: every client gets `deleted`, then sockets close with 4004. */
  | { type: "delete" }
  /** Asks for a page of the caller's chat list; answered with `chats`. Not in open mode. */
  | { type: "list"; limit?: number; cursor?: string };

/** Events of a session's answers: every one carries the session's next sequence number. */
export type SessionEvent =
  /** An answer began: the user's message is stored, the answer is `messageId`. */
  | { type: "start"; seq: number; messageId: string; userMessageId: string; prompt: string }
  /** A piece of the answer's text (text only). `content` is the seed field. */
  | { type: "chunk"; seq: number; messageId: string; content: string }
  /** A reasoning part begins; `partId` (`s<step>-<id>`) is unique within the answer. */
  | { type: "reasoning-start"; seq: number; messageId: string; partId: string }
  /** A piece of a reasoning part's text. */
  | { type: "reasoning-delta"; seq: number; messageId: string; partId: string; content: string }
  /** A reasoning part ended; Anthropic's `signature` or `redacted_thinking` data when there is one. */
  | {
      type: "reasoning-end";
      seq: number;
      messageId: string;
      partId: string;
      signature?: string;
      redactedData?: string;
    }
  /** The model began calling the tool `toolName`. */
  | {
      type: "tool-call-start";
      seq: number;
      messageId: string;
      toolCallId: string;
      toolName: string;
    }
  /** A piece of the call's arguments (JSON text, whole only once joined). */
  | {
      type: "tool-call-delta";
      seq: number;
      messageId: string;
      toolCallId: string;
      inputDelta: string;
    }
  /** The call is complete: `input` is its parsed arguments (a JSON object). */
  | {
      type: "tool-call";
      seq: number;
      messageId: string;
      toolCallId: string;
      toolName: string;
      input: Record<string, unknown>;
    }
  /** The call is complete but its arguments (`inputText`) are not a JSON object. */
  | {
      type: "tool-call-error";
      seq: number;
      messageId: string;
      toolCallId: string;
      toolName: string;
      inputText: string;
      message: string;
    }
  /** A client sent a tool call's result (or `errorText`), broadcast so every tab sees it. */
  | { type: "tool-result"; seq: number; messageId: string; toolCallId: string; output: unknown }
  | { type: "tool-result"; seq: number; messageId: string; toolCallId: string; errorText: string }
  /** A continuation of the same answer began (step 1, 2, ...), with the tool results in context. */
  | { type: "step"; seq: number; messageId: string; step: number }
  /** The answer failed; `done` follows. */
  | { type: "error"; seq: number; messageId: string; code: ErrorCode; message: string }
  /** The answer ended (always the last event of one). */
  | {
      type: "done";
      seq: number;
      messageId: string;
      status: Exclude<MessageStatus, "streaming">;
      finish?: string;
      usage?: Usage;
    };

/** Frames sent to one connection only; they carry no sequence number. */
export type ConnectionFrame =
  /** Sent on connect: the session id to keep, the last sequence number, whether an answer is streaming. */
  | { type: "session"; session: string; lastSeq: number; generating: boolean }
  /** The stored history, on request. */
  | { type: "history"; session: string; messages: StoredMessage[] }
  /**
   * A request of this connection was refused; the connection stays usable. `retryAfter`: seconds
   * until a retry may succeed (limits, quotas); `resetAt`: when a quota resets (ISO 8601, UTC).
   */
  | {
      type: "error";
      code: ErrorCode;
      message: string;
      retryAfter?: number | undefined;
      resetAt?: string | undefined;
    }
  /** The answer to `ping`. */
  | { type: "pong" }
  /** The session was renamed (sent to all its clients). */
  | { type: "renamed"; session: string; title: string }
  /** The session is gone: the last frame before sockets close (4004) and SSE streams end. */
  | { type: "deleted"; session: string; reason: DeleteReason }
  /** A page of the caller's chat list, the answer to `list`. */
  | ({ type: "chats" } & ChatPage);

/** Everything the server sends. */
export type ServerEvent = SessionEvent | ConnectionFrame;

/** A prompt with its optional tools and options, as a frame or body carries them. */
export interface PromptRequest {
  prompt: string;
  tools?: ToolDefinition[];
  options?: RequestOptions;
}

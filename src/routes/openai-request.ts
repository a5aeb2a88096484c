/**
 * Parses the body of `POST /v1/chat/completions` into what Sluice uses of it, or throws the
 * error the client should see. Every field we read is checked; sampling settings
 * (temperature, max_tokens, ...) and `model` are accepted and ignored: the Worker's
 * configuration decides the model.
 */
import { SluiceError } from "../errors.ts";
import { checkPrompt, parseJson } from "../protocol.ts";
import type { ChatMessage } from "../providers/types.ts";
import { isObject } from "../providers/wire.ts";

/** Limits of this route: a stateless request carries its whole conversation. */
export const OPENAI_LIMITS = {
  /** Characters in the body. */
  bodyChars: 1024 * 1024,
  /** Messages in one request. */
  messages: 1_000,
} as const;

/** A parsed Chat Completions request. */
export interface CompletionRequest {
  /** The conversation, as sent upstream when no session is named. */
  messages: ChatMessage[];
  /** The last user message's text: the prompt when a session is named. */
  prompt: string;
  stream: boolean;
  /** `stream_options.include_usage`: end the stream with a usage chunk. */
  includeUsage: boolean;
  /** The `sluice_session` field, if given. */
  session: string | undefined;
}

const ROLES: Record<string, ChatMessage["role"]> = {
  system: "system",
  // Newer OpenAI clients send `developer` where older ones sent `system`.
  developer: "system",
  user: "user",
  assistant: "assistant",
};

function invalid(message: string): SluiceError {
  return new SluiceError("invalid_request", message);
}

/** A message's content: a string, or an array of text parts (joined). */
function parseContent(value: unknown, field: string): string {
  if (typeof value === "string") return value;
  if (!Array.isArray(value))
    throw invalid(`"${field}" must be a string or an array of text parts.`);
  return value
    .map((part: unknown, index) => {
      if (isObject(part) && part.type === "text" && typeof part.text === "string") return part.text;
      throw invalid(`"${field}[${index}]" must be a text part ({"type":"text","text":"..."}).`);
    })
    .join("");
}

function parseMessage(value: unknown, index: number): ChatMessage {
  const field = `messages[${index}]`;
  if (!isObject(value)) throw invalid(`"${field}" must be an object with "role" and "content".`);
  const role =
    typeof value.role === "string" && Object.hasOwn(ROLES, value.role)
      ? ROLES[value.role]
      : undefined;
  if (role === undefined) {
    throw invalid(`"${field}.role" must be "system", "developer", "user" or "assistant".`);
  }
  return { role, content: parseContent(value.content, `${field}.content`) };
}

function parseMessages(value: unknown): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid('"messages" must be a non-empty array.');
  }
  if (value.length > OPENAI_LIMITS.messages) {
    throw invalid(
      `"messages" holds ${value.length} messages; the limit is ${OPENAI_LIMITS.messages}.`,
    );
  }
  return value.map(parseMessage);
}

function optionalBoolean(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") throw invalid(`"${field}" must be a boolean.`);
  return value;
}

/** Parses the request body text; throws a SluiceError naming the first bad field. */
export function parseCompletionRequest(text: string): CompletionRequest {
  if (text.length > OPENAI_LIMITS.bodyChars) {
    throw new SluiceError(
      "frame_too_large",
      `Bodies are limited to ${OPENAI_LIMITS.bodyChars} characters.`,
    );
  }
  const body = parseJson(text);
  if (!isObject(body)) throw invalid("The body must be a JSON object.");
  if (body.model !== undefined && typeof body.model !== "string") {
    throw invalid('"model" must be a string.');
  }
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    throw invalid('"tools" are not supported by this relay; send text messages only.');
  }
  if (body.n !== undefined && body.n !== null && body.n !== 1) {
    throw invalid('"n" must be 1: the relay streams one answer per request.');
  }
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && !isObject(streamOptions)) {
    throw invalid('"stream_options" must be an object.');
  }
  const session = body.sluice_session;
  if (session !== undefined && typeof session !== "string") {
    throw invalid('"sluice_session" must be a session id.');
  }
  const messages = parseMessages(body.messages);
  const last = messages.findLastIndex((message) => message.role === "user");
  if (last === -1) throw invalid('"messages" must contain a user message.');
  return {
    messages,
    prompt: checkPrompt(messages[last]?.content, `messages[${last}].content`),
    stream: optionalBoolean(body.stream, "stream"),
    includeUsage: optionalBoolean(streamOptions?.include_usage, "stream_options.include_usage"),
    session,
  };
}

/**
 * What the AI SDK's `DefaultChatTransport` sends (`{ id, messages, trigger, messageId }`,
 * messages as `UIMessage`s, or `{ id, message }` when the app sends only the new message),
 * parsed into what Sluice uses: the chat's session and the prompt.
 * The chat id names the session; see `chatSession` for ids the SDK generates itself.
 */
import type { Principal } from "../auth.ts";
import { SluiceError } from "../errors.ts";
import { isSessionId } from "../ids.ts";
import { checkPrompt, parseJson } from "../protocol.ts";
import { isObject, type JsonObject } from "../providers/wire.ts";
import {
  type OptionPolicy,
  parseRequestOptions,
  parseToolDefinitions,
  parseToolResults,
  type RequestOptions,
  type ToolDefinition,
  type ToolResult,
} from "../tools-options.ts";

/** Characters in a request body: `useChat` sends the whole conversation every time. */
export const CHAT_BODY_CHARS = 1024 * 1024;

/** The chat ids we accept: the AI SDK's own (`generateId`, nanoid-style), UUIDs, session ids. */
const CHAT_ID = /^[A-Za-z0-9_-]{1,64}$/;

const ROLES: readonly unknown[] = ["system", "user", "assistant"];
const TRIGGERS: readonly unknown[] = ["submit-message", "regenerate-message"];

/** A parsed `POST /api/chat` body. */
export interface ChatRequest {
  chatId: string;
  /** The text parts of the last user message, joined by line breaks. */
  prompt: string;
  trigger: "submit-message" | "regenerate-message";
  /** `body.tools`: the client tools the model may call (the page sends them; see docs/clients.md). */
  tools: ToolDefinition[] | undefined;
  /** `body.options`: per-request settings. */
  options: RequestOptions | undefined;
  /**
   * When the last message is the assistant's with tool outputs (after `addToolOutput`): the
   * results of its last step's calls, to send to the session instead of asking a prompt.
   */
  toolResults: ToolResult[] | undefined;
}

function invalid(message: string): SluiceError {
  return new SluiceError("invalid_request", message);
}

/** Checks a chat id (body `id` or the resume route's `:id`). */
export function parseChatId(value: unknown): string {
  if (typeof value !== "string" || !CHAT_ID.test(value)) {
    throw invalid('The chat "id" must be 1 to 64 characters of A-Z, a-z, 0-9, "_" and "-".');
  }
  return value;
}

/** The prompt: the last user message's text parts. Other parts (files, data) are ignored. */
function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw invalid('"messages" must be a non-empty array of UI messages.');
  }
  let last: { index: number; parts: unknown[] } | undefined;
  for (const [index, message] of messages.entries()) {
    if (!isObject(message) || !ROLES.includes(message.role) || !Array.isArray(message.parts)) {
      throw invalid(`"messages[${index}]" must be a UI message with "role" and "parts".`);
    }
    if (message.role === "user") last = { index, parts: message.parts };
  }
  if (!last) throw invalid('"messages" must contain a user message.');
  const texts = last.parts.flatMap((part: unknown) =>
    isObject(part) && part.type === "text" && typeof part.text === "string" ? [part.text] : [],
  );
  return checkPrompt(texts.join("\n"), `messages[${last.index}].parts`);
}

/** Whether a UI message part is a tool call (`tool-<name>`, or `dynamic-tool`). */
function isToolPart(part: JsonObject): boolean {
  return (
    typeof part.type === "string" && (part.type.startsWith("tool-") || part.type === "dynamic-tool")
  );
}

/**
 * The tool results of the last message, if it is the assistant's: the outputs (or errors) of
 * the tool parts of its last step, as `addToolOutput` left them. Parts still waiting for
 * their output are not sent; the session refuses the continuation until all are in.
 */
function lastToolResults(messages: unknown[]): ToolResult[] | undefined {
  const index = messages.length - 1;
  const last = messages[index];
  if (!isObject(last) || last.role !== "assistant" || !Array.isArray(last.parts)) return undefined;
  const parts = last.parts.filter(isObject);
  const stepStart = parts.findLastIndex((part) => part.type === "step-start");
  const results = parts
    .slice(stepStart + 1)
    .filter(isToolPart)
    .filter((part) => part.state === "output-available" || part.state === "output-error")
    .map((part) =>
      part.state === "output-error"
        ? { toolCallId: part.toolCallId, errorText: part.errorText }
        : { toolCallId: part.toolCallId, output: part.output },
    );
  if (results.length === 0) {
    throw invalid(
      `"messages[${index}]" is an assistant message with no tool output to send; the last message must be the user's, or the assistant's after addToolOutput.`,
    );
  }
  return parseToolResults(results, `messages[${index}].parts`);
}

/**
 * Parses the request body text; throws a SluiceError naming the first bad field. `policy`
 * says which models `body.options.model` may name.
 */
export function parseChatRequest(text: string, policy?: OptionPolicy): ChatRequest {
  if (text.length > CHAT_BODY_CHARS) {
    throw new SluiceError(
      "frame_too_large",
      `Bodies are limited to ${CHAT_BODY_CHARS} characters.`,
    );
  }
  const body = parseJson(text);
  if (!isObject(body)) throw invalid("The body must be a JSON object.");
  const trigger = body.trigger ?? "submit-message";
  if (trigger !== "submit-message" && trigger !== "regenerate-message") {
    throw invalid(`"trigger" must be one of ${TRIGGERS.join(", ")}.`);
  }
  if (body.messageId !== undefined && typeof body.messageId !== "string") {
    throw invalid('"messageId" must be a string.');
  }
  // `message` alone is the AI SDK guide's way to send only the new message; the session has the rest.
  const messages =
    body.messages === undefined && isObject(body.message) ? [body.message] : body.messages;
  const prompt = lastUserText(messages);
  const toolResults =
    trigger === "submit-message" && Array.isArray(messages) ? lastToolResults(messages) : undefined;
  return {
    chatId: parseChatId(body.id),
    prompt,
    trigger,
    tools: parseToolDefinitions(body.tools, "tools"),
    options: parseRequestOptions(body.options, "options", policy),
    toolResults,
  };
}

const encoder = new TextEncoder();

/**
 * The session of a chat. A chat id that is a session id (32 hex digits) is that session, so
 * `useChat` can join a session made by `POST /sessions` or a socket. Any other id (the SDK
 * makes its own ids in the browser) is hashed with the caller's principal into a session id:
 * SHA-256 over a fixed prefix, the principal and the id, cut to 128 bits. The prefix keeps
 * these ids apart from every other use of the hash; a derived id meets a random one only with
 * the odds of two random session ids meeting (2^-128). Being a real session id, it also
 * works with `/sessions/:id` and `/chat?session=` (the response's `X-Sluice-Session` tells it).
 */
export async function chatSession(chatId: string, principal: Principal): Promise<string> {
  if (isSessionId(chatId)) return chatId;
  const name = `sluice/ai-sdk-chat\n${principal.id}\n${chatId}`;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(name)));
  return Array.from(digest.subarray(0, 16), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

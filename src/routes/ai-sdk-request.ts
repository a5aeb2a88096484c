/**
 * What the AI SDK's `DefaultChatTransport` sends (`{ id, messages, trigger, messageId }`,
 * messages as `UIMessage`s, or `{ id, message }` when the app sends only the new message),
 * parsed into what Sluice uses: the chat's session and the prompt.
 * The chat id names the session; see `chatSession` for ids the SDK generates itself.
 */
import * as v from "valibot";
import { sha256, shortHex } from "../auth/principal.ts";
import type { Principal } from "../auth.ts";
import { SluiceError } from "../errors.ts";
import { isSessionId } from "../ids.ts";
import { matching, object, oneOf, text } from "../schema/fields.ts";
import { parseWith, whole } from "../schema/issues.ts";
import { readJsonObject } from "../schema/json-object.ts";
import { parseRequestOptions } from "../schema/options.ts";
import { checkPrompt } from "../schema/prompt.ts";
import { parseToolDefinitions, parseToolResults } from "../schema/tools.ts";
import type { OptionPolicy, RequestOptions, ToolDefinition, ToolResult } from "../tools-options.ts";

/** Characters in a request body: `useChat` sends the whole conversation every time. */
export const CHAT_BODY_CHARS = 1024 * 1024;

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

const CHAT_ID_MESSAGE = whole(
  'The chat "id" must be 1 to 64 characters of A-Z, a-z, 0-9, "_" and "-".',
);

/** The chat ids we accept: the AI SDK's own (`generateId`, nanoid-style), UUIDs, session ids. */
const chatId = matching(/^[A-Za-z0-9_-]{1,64}$/, CHAT_ID_MESSAGE);

/** Checks a chat id (body `id` or the resume route's `:id`). */
export function parseChatId(value: unknown): string {
  return parseWith(chatId, value, "invalid_request", "id");
}

const UI_MESSAGE = 'must be a UI message with "role" and "parts".';
const NOT_MESSAGES = "must be a non-empty array of UI messages.";

const uiMessages = v.pipe(
  v.array(
    object(
      {
        role: oneOf(["system", "user", "assistant"]),
        parts: v.array(v.unknown(), "must be an array of parts."),
      },
      UI_MESSAGE,
    ),
    NOT_MESSAGES,
  ),
  v.check((messages) => messages.length > 0, NOT_MESSAGES),
  v.check(
    (messages) => messages.some((message) => message.role === "user"),
    "must contain a user message.",
  ),
);

type UIMessage = v.InferOutput<typeof uiMessages>[number];

const textPart = v.object({ type: v.picklist(["text"]), text: v.string() });

/** The prompt: the last user message's text parts. Other parts (files, data) are ignored. */
function lastUserText(messages: UIMessage[]): string {
  const index = messages.findLastIndex((message) => message.role === "user");
  const texts = (messages[index]?.parts ?? []).flatMap((part) =>
    v.is(textPart, part) ? [part.text] : [],
  );
  return checkPrompt(texts.join("\n"), `messages[${index}].parts`);
}

/** A tool call part (`tool-<name>`, or `dynamic-tool`) that has its output, or its error. */
const toolOutputPart = v.object({
  type: v.custom<string>(
    (type) => typeof type === "string" && (type.startsWith("tool-") || type === "dynamic-tool"),
  ),
  state: v.picklist(["output-available", "output-error"]),
  // Checked as tool results next, where a bad one is named.
  toolCallId: v.optional(v.unknown()),
  output: v.optional(v.unknown()),
  errorText: v.optional(v.unknown()),
});

const stepStart = v.object({ type: v.picklist(["step-start"]) });

/**
 * The tool results of the last message, if it is the assistant's: the outputs (or errors) of
 * the tool parts of its last step, as `addToolOutput` left them. Parts still waiting for
 * their output are not sent; the session refuses the continuation until all are in.
 */
function lastToolResults(messages: UIMessage[]): ToolResult[] | undefined {
  const index = messages.length - 1;
  const last = messages[index];
  if (last?.role !== "assistant") return undefined;
  const step = last.parts.findLastIndex((part) => v.is(stepStart, part));
  const results = last.parts
    .slice(step + 1)
    .filter((part) => v.is(toolOutputPart, part))
    .map((part) =>
      part.state === "output-error"
        ? { toolCallId: part.toolCallId, errorText: part.errorText }
        : { toolCallId: part.toolCallId, output: part.output },
    );
  if (results.length === 0) {
    throw new SluiceError(
      "invalid_request",
      `"messages[${index}]" is an assistant message with no tool output to send; the last message must be the user's, or the assistant's after addToolOutput.`,
    );
  }
  return parseToolResults(results, `messages[${index}].parts`);
}

const chatBody = v.object({
  trigger: v.nullish(
    v.picklist(
      ["submit-message", "regenerate-message"],
      "must be one of submit-message, regenerate-message.",
    ),
    "submit-message",
  ),
  messageId: v.optional(text()),
  messages: v.optional(v.unknown()),
  message: v.optional(v.unknown()),
});

/**
 * Reads a `POST /api/chat` body (or the same fields of a WebSocket `send` frame); throws a
 * SluiceError naming the first bad field. `policy` says which models `options.model` may name.
 */
export function readChatRequest(body: Record<string, unknown>, policy?: OptionPolicy): ChatRequest {
  const { trigger, messages, message } = parseWith(chatBody, body, "invalid_request");
  // `message` alone is the AI SDK guide's way to send only the new message; the session has the rest.
  const list = parseWith(
    uiMessages,
    messages === undefined && message !== undefined ? [message] : messages,
    "invalid_request",
    "messages",
  );
  const prompt = lastUserText(list);
  return {
    chatId: parseChatId(body.id),
    prompt,
    trigger,
    tools: parseToolDefinitions(body.tools, "tools"),
    options: parseRequestOptions(body.options, "options", policy),
    toolResults: trigger === "submit-message" ? lastToolResults(list) : undefined,
  };
}

/** Parses the request body text: `readChatRequest` of a JSON object of at most 1 MiB. */
export function parseChatRequest(text: string, policy?: OptionPolicy): ChatRequest {
  return readChatRequest(readJsonObject(text, CHAT_BODY_CHARS, "body"), policy);
}

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
  return shortHex(await sha256(name));
}

/**
 * Parses the body of `POST /v1/chat/completions` into what Sluice uses of it, or throws the
 * error the client should see. Every field we read is checked: the conversation (with
 * assistant `tool_calls` and `tool` messages), `tools` and `tool_choice`, the sampling options
 * (checked by the one options parser, under OpenAI's names), `model` against the allowlist,
 * and the fields passed upstream as they are (`response_format`, `parallel_tool_calls`).
 */
import { SluiceError } from "../errors.ts";
import { checkPrompt, parseJson } from "../protocol.ts";
import type { ChatMessage, ContextPart, ToolInput } from "../providers/types.ts";
import { isObject, type JsonObject } from "../providers/wire.ts";
import {
  type OptionPolicy,
  parseRequestOptions,
  parseToolDefinitions,
  type RequestOptions,
  type ToolDefinition,
  type ToolResult,
} from "../tools-options.ts";

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
  /** `tools`, as the one tool vocabulary. */
  tools: ToolDefinition[] | undefined;
  /** The per-request options (model, sampling, tool_choice), checked. */
  options: RequestOptions | undefined;
  /** OpenAI-only fields passed upstream unchanged: `response_format`, `parallel_tool_calls`. */
  passThrough: OpenAIPassThrough;
  /**
   * The `tool` messages that end the conversation, as tool results (their text is the
   * output): with a session, they are sent to it and the continuation is the answer.
   */
  toolResults: ToolResult[] | undefined;
}

/** The options policy, and whether `model` picks a model (ALLOWED_MODELS is set). */
export interface CompletionPolicy extends OptionPolicy {
  choosable: boolean;
}

/** Fields only OpenAI-compatible upstreams know; other providers refuse them (see the route). */
export interface OpenAIPassThrough {
  response_format?: JsonObject;
  parallel_tool_calls?: boolean;
}

const ROLES: Record<string, ChatMessage["role"]> = {
  system: "system",
  // Newer OpenAI clients send `developer` where older ones sent `system`.
  developer: "system",
  user: "user",
  assistant: "assistant",
  tool: "tool",
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

/** An assistant message's `tool_calls`, as tool-call parts (arguments kept as the text sent). */
function parseToolCalls(value: unknown, field: string): ContextPart[] {
  if (!Array.isArray(value)) throw invalid(`"${field}" must be an array of tool calls.`);
  return value.map((call: unknown, index) => {
    const at = `${field}[${index}]`;
    if (!isObject(call) || (call.type !== undefined && call.type !== "function")) {
      throw invalid(
        `"${at}" must be {"id", "type": "function", "function": {"name", "arguments"}}.`,
      );
    }
    const fn = call.function;
    if (typeof call.id !== "string" || call.id === "")
      throw invalid(`"${at}.id" must be a string.`);
    if (!isObject(fn) || typeof fn.name !== "string" || fn.name === "") {
      throw invalid(`"${at}.function.name" must be a string.`);
    }
    const args = fn.arguments ?? "";
    if (typeof args !== "string") throw invalid(`"${at}.function.arguments" must be JSON text.`);
    return {
      type: "tool-call",
      id: call.id,
      name: fn.name,
      arguments: args,
      input: argsInput(args),
    };
  });
}

/** The parsed arguments; text that is not a JSON object goes upstream as `{}` plus its text. */
function argsInput(args: string): ToolInput {
  if (args.trim() === "") return {};
  try {
    const value: unknown = JSON.parse(args);
    return isObject(value) ? value : {};
  } catch {
    return {};
  }
}

function parseMessage(value: unknown, index: number, names: Map<string, string>): ChatMessage {
  const field = `messages[${index}]`;
  if (!isObject(value)) throw invalid(`"${field}" must be an object with "role" and "content".`);
  const role =
    typeof value.role === "string" && Object.hasOwn(ROLES, value.role)
      ? ROLES[value.role]
      : undefined;
  if (role === undefined) {
    throw invalid(`"${field}.role" must be "system", "developer", "user", "assistant" or "tool".`);
  }
  if (role === "tool") {
    const id = value.tool_call_id;
    if (typeof id !== "string" || !names.has(id)) {
      throw invalid(
        `"${field}.tool_call_id" must name a tool call of an earlier assistant message.`,
      );
    }
    const message: ChatMessage = {
      role,
      content: parseContent(value.content, `${field}.content`),
      toolCallId: id,
    };
    const name = names.get(id);
    if (name !== undefined) message.toolName = name;
    return message;
  }
  const calls =
    role === "assistant" && value.tool_calls !== undefined && value.tool_calls !== null
      ? parseToolCalls(value.tool_calls, `${field}.tool_calls`)
      : [];
  // An assistant message that only calls tools has `content: null`, as OpenAI sends it.
  const content =
    calls.length > 0 && (value.content === null || value.content === undefined)
      ? ""
      : parseContent(value.content, `${field}.content`);
  const message: ChatMessage = { role, content };
  if (calls.length > 0) {
    for (const call of calls) if (call.type === "tool-call") names.set(call.id, call.name);
    const text: ContextPart[] = content === "" ? [] : [{ type: "text", text: content }];
    message.parts = [...text, ...calls];
  }
  return message;
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
  const names = new Map<string, string>();
  return value.map((message: unknown, index) => parseMessage(message, index, names));
}

/** OpenAI's `tools` (`{type: "function", function: {name, description, parameters}}`). */
function parseTools(value: unknown): ToolDefinition[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    throw new SluiceError("invalid_tools", '"tools" must be an array of function tools.');
  }
  if (value.length === 0) return undefined;
  const definitions = value.map((tool: unknown, index) => {
    const fn = isObject(tool) && tool.type === "function" ? tool.function : undefined;
    if (!isObject(fn)) {
      throw new SluiceError(
        "invalid_tools",
        `"tools[${index}]" must be {"type": "function", "function": {"name", "parameters"}}.`,
      );
    }
    // OpenAI lets a function without parameters take none.
    const inputSchema = fn.parameters ?? { type: "object", properties: {} };
    return { name: fn.name, description: fn.description, inputSchema };
  });
  return parseToolDefinitions(definitions, "tools");
}

/** OpenAI's `tool_choice`, in the one vocabulary ({"name"} for a named function). */
function toolChoice(value: unknown): unknown {
  if (isObject(value) && value.type === "function" && isObject(value.function)) {
    return { name: value.function.name };
  }
  return value;
}

/** The options under OpenAI's names; `max_completion_tokens` is the newer `max_tokens`. */
function parseOptions(body: JsonObject, policy: CompletionPolicy): RequestOptions | undefined {
  const given = (key: string) => body[key] !== undefined && body[key] !== null;
  if (given("max_tokens") && given("max_completion_tokens")) {
    throw new SluiceError(
      "invalid_option",
      'Send one of "max_tokens" and "max_completion_tokens", not both.',
    );
  }
  const raw: Record<string, unknown> = {};
  for (const key of ["temperature", "top_p", "stop", "seed", "reasoning_effort"]) {
    if (given(key)) raw[key] = body[key];
  }
  // Every OpenAI client sends `model`. With ALLOWED_MODELS set it picks one of them (others are
  // refused); without, it is not an option, and the configured model answers as it always did.
  if (policy.choosable && given("model")) raw.model = body.model;
  if (given("max_tokens")) raw.max_tokens = body.max_tokens;
  if (given("max_completion_tokens")) raw.max_tokens = body.max_completion_tokens;
  if (given("tool_choice")) raw.tool_choice = toolChoice(body.tool_choice);
  // OpenAI's effort has a "minimal" the one vocabulary does not; it is refused, not rounded.
  const options = parseRequestOptions(raw, "body", policy);
  return options && Object.keys(options).length > 0 ? options : undefined;
}

function trailingResults(messages: ChatMessage[]): ToolResult[] | undefined {
  const results: ToolResult[] = [];
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i];
    if (message?.role !== "tool" || message.toolCallId === undefined) break;
    results.unshift({ toolCallId: message.toolCallId, output: message.content });
  }
  return results.length > 0 ? results : undefined;
}

function parsePassThrough(body: JsonObject): OpenAIPassThrough {
  const through: OpenAIPassThrough = {};
  const format = body.response_format;
  if (format !== undefined && format !== null) {
    const kinds: unknown[] = ["text", "json_object", "json_schema"];
    if (!isObject(format) || !kinds.includes(format.type)) {
      throw new SluiceError(
        "invalid_option",
        '"response_format.type" must be "text", "json_object" or "json_schema".',
      );
    }
    through.response_format = format;
  }
  const parallel = body.parallel_tool_calls;
  if (parallel !== undefined && parallel !== null) {
    if (typeof parallel !== "boolean") {
      throw new SluiceError("invalid_option", '"parallel_tool_calls" must be a boolean.');
    }
    through.parallel_tool_calls = parallel;
  }
  return through;
}

function optionalBoolean(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") throw invalid(`"${field}" must be a boolean.`);
  return value;
}

/**
 * Parses the request body text; throws a SluiceError naming the first bad field. `policy`
 * says which models may be named.
 */
export function parseCompletionRequest(text: string, policy: CompletionPolicy): CompletionRequest {
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
    tools: parseTools(body.tools),
    options: parseOptions(body, policy),
    passThrough: parsePassThrough(body),
    toolResults: trailingResults(messages),
  };
}

/**
 * Parses the body of `POST /v1/chat/completions` into what Sluice uses of it, or throws the
 * error the client should see. Every field we read is checked: the conversation (with
 * assistant `tool_calls` and `tool` messages), `tools` and `tool_choice`, the sampling options
 * (checked by the one options parser, under OpenAI's names), `model` against the allowlist,
 * and the fields passed upstream as they are (`response_format`, `parallel_tool_calls`).
 */
import * as v from "valibot";
import { SluiceError } from "../errors.ts";
import type { ChatMessage } from "../providers/types.ts";
import { boolean, object, record, text } from "../schema/fields.ts";
import { parseWith, whole } from "../schema/issues.ts";
import { readJsonObject } from "../schema/json-object.ts";
import { parseRequestOptions } from "../schema/options.ts";
import { checkPrompt } from "../schema/prompt.ts";
import { inputSchema, toolList, toolName } from "../schema/tools.ts";
import type { OptionPolicy, RequestOptions, ToolDefinition, ToolResult } from "../tools-options.ts";
import { MAX_MESSAGES, parseMessages } from "./openai-messages.ts";

/** Limits of this route: a stateless request carries its whole conversation. */
export const OPENAI_LIMITS = {
  /** Characters in the body. */
  bodyChars: 1024 * 1024,
  /** Messages in one request. */
  messages: MAX_MESSAGES,
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
  response_format?: Record<string, unknown>;
  parallel_tool_calls?: boolean;
}

const TOOL_MESSAGE = 'must be {"type": "function", "function": {"name", "parameters"}}.';

/** OpenAI's `tools` (`{type: "function", function: {name, description, parameters}}`). */
const tools = toolList(
  v.pipe(
    object(
      {
        type: v.picklist(["function"], TOOL_MESSAGE),
        function: object(
          {
            name: toolName,
            description: v.optional(text()),
            // OpenAI lets a function without parameters take none.
            parameters: v.nullish(inputSchema, () => ({ type: "object", properties: {} })),
          },
          'must be {"name", "parameters"}.',
        ),
      },
      TOOL_MESSAGE,
    ),
    v.transform(({ function: fn }): ToolDefinition => {
      const tool: ToolDefinition = { name: fn.name, inputSchema: fn.parameters };
      if (fn.description !== undefined) tool.description = fn.description;
      return tool;
    }),
  ),
  "must be an array of function tools.",
  ["function", "name"],
);

function parseTools(value: unknown): ToolDefinition[] | undefined {
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
    return undefined;
  }
  return parseWith(tools, value, "invalid_tools", "tools");
}

const namedChoice = v.object({
  type: v.picklist(["function"]),
  function: v.object({ name: v.unknown() }),
});

/** OpenAI's `tool_choice`, in the one vocabulary ({"name"} for a named function). */
function toolChoice(value: unknown): unknown {
  return v.is(namedChoice, value) ? { name: value.function.name } : value;
}

/** The options under OpenAI's names; `max_completion_tokens` is the newer `max_tokens`. */
function parseOptions(
  body: Record<string, unknown>,
  policy: CompletionPolicy,
): RequestOptions | undefined {
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
  const options = parseRequestOptions(raw, "", policy);
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

const FORMAT_MESSAGE = whole(
  '"response_format.type" must be "text", "json_object" or "json_schema".',
);

const passThrough = v.object({
  response_format: v.nullish(
    v.pipe(
      record(FORMAT_MESSAGE),
      v.check(
        (format) => ["text", "json_object", "json_schema"].includes(String(format.type)),
        FORMAT_MESSAGE,
      ),
    ),
  ),
  parallel_tool_calls: v.nullish(boolean("must be a boolean.")),
});

function parsePassThrough(body: Record<string, unknown>): OpenAIPassThrough {
  const given = parseWith(passThrough, body, "invalid_option");
  const through: OpenAIPassThrough = {};
  if (given.response_format) through.response_format = given.response_format;
  if (typeof given.parallel_tool_calls === "boolean") {
    through.parallel_tool_calls = given.parallel_tool_calls;
  }
  return through;
}

const BOOLEAN = "must be a boolean.";

/** The fields of the body this route reads itself (tools, options and pass-through aside). */
const completion = v.object({
  model: v.optional(text()),
  n: v.nullish(v.picklist([1], "must be 1: the relay streams one answer per request.")),
  stream_options: v.nullish(
    object({ include_usage: v.nullish(boolean(BOOLEAN)) }, "must be an object."),
  ),
  sluice_session: v.optional(text("must be a session id.")),
  stream: v.nullish(boolean(BOOLEAN)),
});

/**
 * Parses the request body text; throws a SluiceError naming the first bad field. `policy`
 * says which models may be named.
 */
export function parseCompletionRequest(text: string, policy: CompletionPolicy): CompletionRequest {
  const body = readJsonObject(text, OPENAI_LIMITS.bodyChars, "body");
  const request = parseWith(completion, body, "invalid_request");
  const messages = parseMessages(body.messages);
  const last = messages.findLastIndex((message) => message.role === "user");
  return {
    messages,
    prompt: checkPrompt(messages[last]?.content, `messages[${last}].content`),
    stream: request.stream ?? false,
    includeUsage: request.stream_options?.include_usage ?? false,
    session: request.sluice_session,
    tools: parseTools(body.tools),
    options: parseOptions(body, policy),
    passThrough: parsePassThrough(body),
    toolResults: trailingResults(messages),
  };
}

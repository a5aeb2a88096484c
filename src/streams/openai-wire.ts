/**
 * What Sluice sends to OpenAI clients: Chat Completions JSON, its streamed chunks, and its
 * error body. The types are the subset of the OpenAI API we emit, named as it names them:
 * https://platform.openai.com/docs/api-reference/chat/object (and `/chat/streaming`).
 */
import { ERROR_STATUS, type ErrorCode, type SluiceError } from "../errors.ts";
import type { Usage } from "../providers/types.ts";
import { type AnswerEvent, type CollectedAnswer, finishMeaning } from "./answer-events.ts";
import { DONE_FRAME, jsonFrame } from "./json-sse.ts";

/** Why the model stopped, in OpenAI's closed set. */
export type OpenAIFinishReason = "stop" | "length" | "content_filter" | "tool_calls";

/** Token counts, OpenAI's names. */
export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** The reasoning share of `completion_tokens`, when the upstream reported it. */
  completion_tokens_details?: { reasoning_tokens: number };
}

/**
 * A streamed tool call piece. The first piece of each call has `id`, `type` and
 * `function.name` (and `arguments: ""`); the later ones only `index` and argument text.
 */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function: { name?: string; arguments: string };
}

/** A whole tool call (non-streaming `message.tool_calls`). */
export interface MessageToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** What one chunk adds to the message. `reasoning_content` is DeepSeek's name for reasoning. */
export interface ChunkDelta {
  role?: "assistant";
  content?: string;
  reasoning_content?: string;
  tool_calls?: ToolCallDelta[];
}

/** A `chat.completion.chunk`: one piece of a streamed answer. */
export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  /** Unix seconds; the same on every chunk of one answer. */
  created: number;
  model: string;
  /** One choice while the answer streams; none on the usage chunk. */
  choices: Array<{
    index: 0;
    delta: ChunkDelta;
    logprobs: null;
    finish_reason: OpenAIFinishReason | null;
  }>;
  /** With `stream_options.include_usage`: null on every chunk but the last, which has it. */
  usage?: OpenAIUsage | null;
}

/** A `chat.completion`: the whole answer (non-streaming). */
export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    message: {
      role: "assistant";
      /** Null when the answer is only tool calls, as OpenAI sends it. */
      content: string | null;
      refusal: null;
      reasoning_content?: string;
      tool_calls?: MessageToolCall[];
    };
    logprobs: null;
    finish_reason: OpenAIFinishReason;
  }>;
  /** Absent when the upstream reported no token counts. */
  usage?: OpenAIUsage;
}

/** OpenAI's error body; `code` is one of Sluice's error codes (README "Error codes"). */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: null; code: ErrorCode };
}

/** What every chunk and completion of one answer repeats. */
export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
}

/** An upstream's finish reason in OpenAI's set; unknown ones and a cancel read as `stop`. */
export function openaiFinishReason(finish: string | undefined): OpenAIFinishReason {
  const meaning = finishMeaning(finish);
  if (meaning === "filter") return "content_filter";
  if (meaning === "tools") return "tool_calls";
  return meaning === "length" ? "length" : "stop";
}

function openaiUsage(usage: Usage): OpenAIUsage {
  const { inputTokens, outputTokens, reasoningTokens } = usage;
  const counted: OpenAIUsage = {
    prompt_tokens: inputTokens,
    completion_tokens: outputTokens,
    total_tokens: inputTokens + outputTokens,
  };
  if (reasoningTokens !== undefined) {
    counted.completion_tokens_details = { reasoning_tokens: reasoningTokens };
  }
  return counted;
}

function errorType(code: ErrorCode): string {
  if (code === "unauthorized") return "authentication_error";
  if (code === "rate_limited" || code === "upstream_rate_limited") return "rate_limit_error";
  if (code.startsWith("upstream_")) return "upstream_error";
  return ERROR_STATUS[code] < 500 ? "invalid_request_error" : "server_error";
}

/** The error body OpenAI clients read (`error.message`, `error.type`, `error.code`). */
export function openaiErrorBody(code: ErrorCode, message: string): OpenAIErrorBody {
  return { error: { message, type: errorType(code), param: null, code } };
}

/**
 * An error as an OpenAI client expects it: the error's HTTP status and body. `retry: false`
 * adds `x-should-retry: false`, which the official clients obey instead of retrying 5xx/409:
 * used once a prompt is stored in a session, where a retry would ask it a second time.
 */
export function openaiErrorResponse(error: SluiceError, retry = true): Response {
  const headers = new Headers();
  if (error.retryAfter !== undefined) headers.set("retry-after", String(error.retryAfter));
  if (!retry || error.code === "config_error" || error.code === "upstream_auth") {
    headers.set("x-should-retry", "false");
  }
  return Response.json(openaiErrorBody(error.code, error.message), {
    status: error.status,
    headers,
  });
}

/** A whole answer as a `chat.completion`. */
export function openaiCompletion(meta: CompletionMeta, answer: CollectedAnswer): ChatCompletion {
  const calls = answer.toolCalls;
  const message: ChatCompletion["choices"][number]["message"] = {
    role: "assistant",
    content: answer.text === "" && calls.length > 0 ? null : answer.text,
    refusal: null,
  };
  if (answer.reasoning !== "") message.reasoning_content = answer.reasoning;
  if (calls.length > 0) {
    message.tool_calls = calls.map(({ id, name, arguments: args }) => ({
      id,
      type: "function",
      function: { name, arguments: args },
    }));
  }
  const completion: ChatCompletion = {
    ...meta,
    object: "chat.completion",
    choices: [
      { index: 0, message, logprobs: null, finish_reason: openaiFinishReason(answer.finish) },
    ],
  };
  if (answer.usage) completion.usage = openaiUsage(answer.usage);
  return completion;
}

/** Where each tool call of one answer stands: its `index`, and whether argument text went out. */
class ToolCallIndexes {
  private readonly calls = new Map<string, { index: number; sent: boolean }>();

  /** The call's first delta, or undefined when it already started. */
  start(toolCallId: string, name: string, args = ""): ToolCallDelta | undefined {
    if (this.calls.has(toolCallId)) return undefined;
    const index = this.calls.size;
    this.calls.set(toolCallId, { index, sent: args !== "" });
    return { index, id: toolCallId, type: "function", function: { name, arguments: args } };
  }

  /** A later delta with argument text only; undefined for a call that never started. */
  arguments(toolCallId: string, args: string): ToolCallDelta | undefined {
    const call = this.calls.get(toolCallId);
    if (!call || args === "") return undefined;
    call.sent = true;
    return { index: call.index, function: { arguments: args } };
  }

  /** At a call's end: the whole arguments if none went out yet (a call that came in one piece). */
  end(toolCallId: string, name: string, args: string): ToolCallDelta | undefined {
    const call = this.calls.get(toolCallId);
    if (!call) return this.start(toolCallId, name, args);
    return call.sent ? undefined : this.arguments(toolCallId, args);
  }
}

/**
 * An answer as `chat.completion.chunk` SSE, event by event (the text each event becomes, one
 * encoder per answer): a role chunk, a chunk per piece of text, reasoning
 * (`reasoning_content`) or tool call (`tool_calls`, numbered by `index` in start order), a finish
 * chunk, the usage chunk when asked for (and known), then `data: [DONE]`. The chunks' `id` is
 * the answer's message id, from its `start`. An error becomes one `data: {"error": ...}`
 * message, which the official clients raise as an APIError, and the stream ends there without
 * `[DONE]`, since the answer did not complete.
 */
export function openaiChunks(
  { created, model }: Omit<CompletionMeta, "id">,
  includeUsage: boolean,
): (event: AnswerEvent) => string {
  const meta: CompletionMeta = { id: "", created, model };
  const chunk = (delta: ChunkDelta, finish: OpenAIFinishReason | null = null): string => {
    const body: ChatCompletionChunk = {
      ...meta,
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
    if (includeUsage) body.usage = null;
    return jsonFrame(body);
  };
  let failed = false;
  const calls = new ToolCallIndexes();
  const toolCall = (delta: ToolCallDelta | undefined) =>
    delta ? chunk({ tool_calls: [delta] }) : "";
  return (event) => {
    if (failed) return "";
    switch (event.type) {
      case "start":
        meta.id = event.messageId;
        return chunk({ role: "assistant", content: "" });
      case "text":
        return chunk({ content: event.text });
      case "reasoning-delta":
        return chunk({ reasoning_content: event.text });
      case "tool-call-start":
        return toolCall(calls.start(event.toolCallId, event.toolName));
      case "tool-call-delta":
        return toolCall(calls.arguments(event.toolCallId, event.inputDelta));
      case "tool-call":
        return toolCall(calls.end(event.toolCallId, event.toolName, JSON.stringify(event.input)));
      case "tool-call-error":
        return toolCall(calls.end(event.toolCallId, event.toolName, event.inputText));
      case "error":
        failed = true;
        return jsonFrame(openaiErrorBody(event.code, event.message));
      case "end": {
        let text = chunk({}, openaiFinishReason(event.finish));
        if (includeUsage && event.usage) {
          const usage: ChatCompletionChunk = {
            ...meta,
            object: "chat.completion.chunk",
            choices: [],
            usage: openaiUsage(event.usage),
          };
          text += jsonFrame(usage);
        }
        return text + DONE_FRAME;
      }
      default:
        return "";
    }
  };
}

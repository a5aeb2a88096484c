/** Any OpenAI-compatible Chat Completions stream (OpenAI, Azure, Groq, DeepSeek, OpenRouter, Ollama). */
import type { Env } from "../env.ts";
import { baseUrl, endpoint, isLocalUrl, missingSecret, outputCap, setting } from "./config.ts";
import type { ToolCallDelta, WholeToolCall } from "./delta-parts.ts";
import { DeltaParts } from "./delta-parts.ts";
import type { Emit, EventTransform, FetchLike } from "./fetch-upstream.ts";
import { streamUpstream } from "./fetch-upstream.ts";
import { chatCompletionsMessages, chatCompletionsOptions, outputTokens } from "./request-shapes.ts";
import type { GenerationRequest, Provider, Usage } from "./types.ts";
import type { JsonObject } from "./wire.ts";
import {
  droppedEvent,
  isObject,
  malformedEvent,
  nonEmpty,
  parseObject,
  readCount,
  readFirst,
  readObject,
  readString,
  truncate,
  UpstreamMalformed,
  upstreamErrorEvent,
} from "./wire.ts";

const DEFAULT_BASE_URL = "https://api.openai.com/v1";
const DEFAULT_MODEL = "gpt-4o-mini";

/** What one JSON chunk says, each part optional. */
export interface ChunkParts {
  text?: string | undefined;
  /** Reasoning text (DeepSeek and xAI `reasoning_content`, OpenRouter and Groq `reasoning`). */
  reasoning?: string | undefined;
  /** The delta's `tool_calls` entries, in order. */
  toolCalls?: ToolCallDelta[] | undefined;
  /** Calls that came whole (Workers AI's own format). */
  wholeCalls?: WholeToolCall[] | undefined;
  usage?: Usage | undefined;
  finish?: string | undefined;
  /** Present when the chunk carries an error object; `message` is its text, if it has one. */
  error?: { message: string | undefined } | undefined;
}

/**
 * Reads one Chat Completions chunk. Only `choices[0].delta.content` is answer text; role-only
 * deltas and `content: null` add none. Reasoning and tool calls are read as `readReasoning`
 * and `readToolCallDeltas` say. Usage may sit on its own chunk with `choices: []` or on the
 * finish chunk (Groq, DeepSeek, OpenRouter). Fields we do not know are ignored. Throws
 * `UpstreamMalformed` for `tool_calls` we cannot read.
 */
export function readOpenAIChunk(chunk: JsonObject): ChunkParts {
  const choice = readFirst(chunk, "choices");
  const delta = readObject(choice, "delta");
  const usage = readObject(chunk, "usage");
  const inputTokens = readCount(usage, "prompt_tokens");
  const outputTokens = readCount(usage, "completion_tokens");
  return {
    text: readString(delta, "content"),
    reasoning: readReasoning(delta),
    toolCalls: readToolCallDeltas(delta),
    finish: readString(choice, "finish_reason"),
    usage:
      inputTokens !== undefined && outputTokens !== undefined
        ? { inputTokens, outputTokens }
        : undefined,
    error: readChunkError(chunk),
  };
}

/**
 * The reasoning text of a delta: the first non-empty of `reasoning_content` (DeepSeek, xAI)
 * and `reasoning` (OpenRouter, Groq), else the joined `text` or `summary` of the entries of
 * `reasoning_details` (OpenRouter; its encrypted entries have no text). OpenRouter sends the
 * same text as `reasoning` and in `reasoning_details`, so only one of them is read.
 */
export function readReasoning(delta: JsonObject | undefined): string | undefined {
  const direct = nonEmpty(readString(delta, "reasoning_content")) ?? readString(delta, "reasoning");
  if (direct) return direct;
  const details = delta?.reasoning_details;
  if (!Array.isArray(details)) return undefined;
  let text = "";
  for (const detail of details) {
    if (isObject(detail)) text += readString(detail, "text") ?? readString(detail, "summary") ?? "";
  }
  return text || undefined;
}

/**
 * The `tool_calls` entries of a delta. `function.arguments` is JSON text; an object there
 * (some compatible servers) is written back as JSON text. Throws `UpstreamMalformed` when
 * `tool_calls` is not an array, an entry is not an object, or an `index` is present but not
 * a non-negative integer: guessing which call such a piece belongs to could mix two calls up.
 */
export function readToolCallDeltas(delta: JsonObject | undefined): ToolCallDelta[] | undefined {
  const entries = delta?.tool_calls;
  if (entries === undefined || entries === null) return undefined;
  if (!Array.isArray(entries)) throw new UpstreamMalformed("tool_calls that is not an array");
  return entries.map((entry: unknown): ToolCallDelta => {
    if (!isObject(entry)) throw new UpstreamMalformed("a tool_calls entry that is not an object");
    const index = entry.index;
    if (
      index !== undefined &&
      index !== null &&
      !(typeof index === "number" && Number.isInteger(index) && index >= 0)
    ) {
      throw new UpstreamMalformed(`a tool call with index ${truncate(JSON.stringify(index), 40)}`);
    }
    const fn = readObject(entry, "function");
    return {
      index: typeof index === "number" ? index : undefined,
      id: nonEmpty(readString(entry, "id")),
      name: nonEmpty(readString(fn, "name")),
      arguments: argumentsText(fn?.arguments),
    };
  });
}

/** Arguments as JSON text: a string as it is, an object as its JSON, anything else as none. */
export function argumentsText(value: unknown): string {
  if (typeof value === "string") return value;
  return isObject(value) ? JSON.stringify(value) : "";
}

/** The chunk's `error` (OpenRouter reports failures after HTTP 200 this way): an object or a string. */
function readChunkError(chunk: JsonObject): ChunkParts["error"] {
  const error = chunk.error;
  if (error === undefined || error === null) return undefined;
  if (typeof error === "string") return { message: error };
  return { message: readString(readObject(chunk, "error"), "message") };
}

/**
 * The state machine of streams of JSON chunks ended by `data: [DONE]`. Events come in wire
 * order, except `finish`, which is held until `[DONE]` so it is always the last event (usage
 * usually follows the finish chunk) and an error reported after it (OpenRouter) replaces it.
 * The first finish reason closes the parts (`DeltaParts.close`): Chat Completions never says
 * when a reasoning part or a tool call ends, and nothing may be added once the choice is over.
 * An `error` event ends the stream; later chunks are ignored, and open parts stay open. A
 * stream that closes without `[DONE]` but after a finish reason still delivered the whole
 * answer, so it ends with that `finish` (lenient: some compatible servers omit `[DONE]`);
 * without either it is `upstream_dropped`. `newId` names tool calls that came without an id.
 */
export function doneTerminatedEvents(
  read: (chunk: JsonObject) => ChunkParts,
  defaultFinish = "stop",
  newId?: () => string,
): EventTransform {
  let finish: string | undefined;
  let ended = false;
  const parts = new DeltaParts(newId);
  const guarded = (emit: Emit, step: () => void) => {
    try {
      step();
    } catch (error) {
      if (!(error instanceof UpstreamMalformed)) throw error;
      ended = true;
      emit(malformedEvent(error.what));
    }
  };
  return {
    message(message, emit) {
      if (ended) return;
      const data = message.data.trim();
      if (data === "") return;
      guarded(emit, () => {
        if (data === "[DONE]") {
          ended = true;
          parts.close(emit);
          emit({ type: "finish", reason: finish ?? defaultFinish });
          return;
        }
        const chunk = parseObject(data);
        if (!chunk) throw new UpstreamMalformed("a chunk that is not a JSON object");
        const said = read(chunk);
        parts.reasoning(said.reasoning, emit);
        parts.text(said.text, emit);
        for (const call of said.toolCalls ?? []) parts.toolCall(call, emit);
        for (const call of said.wholeCalls ?? []) parts.wholeCall(call, emit);
        if (finish === undefined && said.finish !== undefined) {
          finish = said.finish;
          parts.close(emit);
        }
        if (said.usage) emit({ type: "usage", usage: said.usage });
        if (said.error) {
          ended = true;
          emit(upstreamErrorEvent(said.error.message));
        }
      });
    },
    end(emit) {
      if (ended) return;
      ended = true;
      if (finish === undefined) return emit(droppedEvent());
      const reason = finish;
      guarded(emit, () => {
        parts.close(emit);
        emit({ type: "finish", reason });
      });
    },
  };
}

/** Parsed SSE messages of a Chat Completions stream to our events. */
export function openaiEvents(): EventTransform {
  return doneTerminatedEvents(readOpenAIChunk);
}

/** The settings this provider reads; `Env` satisfies it. */
export type OpenAIEnv = Pick<
  Env,
  "MODEL" | "OPENAI_BASE_URL" | "OPENAI_API_KEY" | "MAX_OUTPUT_TOKENS"
>;

/**
 * The provider for `${OPENAI_BASE_URL}/chat/completions`. OPENAI_API_KEY is required, except
 * when OPENAI_BASE_URL points at this machine (see `isLocalUrl`): then no Authorization header
 * is sent unless a key is set. Settings are checked when `stream()` is called.
 */
export function createOpenAIProvider(env: OpenAIEnv, fetcher?: FetchLike): Provider {
  const model = setting(env.MODEL, DEFAULT_MODEL);
  return {
    name: "openai",
    model,
    async stream(call) {
      return streamUpstream(
        openaiRequest(env, call.options?.model ?? model, call),
        openaiEvents(),
        call,
        fetcher,
      );
    },
  };
}

function openaiRequest(env: OpenAIEnv, model: string, call: GenerationRequest): Request {
  const base = baseUrl(env.OPENAI_BASE_URL, "OPENAI_BASE_URL", DEFAULT_BASE_URL);
  const headers = new Headers({ "content-type": "application/json", accept: "text/event-stream" });
  const key = env.OPENAI_API_KEY?.trim();
  if (key) headers.set("authorization", `Bearer ${key}`);
  else if (!isLocalUrl(base)) throw missingSecret("OPENAI_API_KEY");
  const cap = outputTokens(outputCap(env.MAX_OUTPUT_TOKENS), call.options);
  const body = {
    model,
    messages: chatCompletionsMessages(call.messages),
    stream: true,
    stream_options: { include_usage: true },
    ...chatCompletionsOptions(call.tools, call.options),
    ...(cap === undefined ? {} : { [capField(base)]: cap }),
    // A /v1/chat/completions client's own OpenAI fields, checked by the route, sent unchanged.
    ...call.openaiPassThrough,
  };
  return new Request(endpoint(base, "/chat/completions"), {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
}

/**
 * The output cap's field: OpenAI's own API (and Azure OpenAI) take `max_completion_tokens`,
 * the only one their reasoning models accept; every other compatible server (vLLM, Ollama,
 * llama.cpp, Groq, DeepSeek, OpenRouter, Together) reads `max_tokens`, which some of them
 * do not know under the newer name.
 */
function capField(base: URL): "max_completion_tokens" | "max_tokens" {
  const host = base.hostname;
  return host === "api.openai.com" || host.endsWith(".openai.azure.com")
    ? "max_completion_tokens"
    : "max_tokens";
}
